import { redactor } from '../redactor.js'
import Table from 'cli-table3'
import type { QueryResult } from '../load/destination.js'

/** Output formats of `query`. */
export const OUTPUT_FORMATS = ['table', 'json', 'csv'] as const
export type OutputFormat = (typeof OUTPUT_FORMATS)[number]

const cell = (value: unknown): string =>
  value === null || value === undefined
    ? ''
    : typeof value === 'object'
      ? JSON.stringify(value)
      : String(value)

/**
 * Characters a terminal acts on instead of showing: C0 controls (ESC, BEL, CR, tab, newline),
 * DEL, C1 controls (U+009B is a CSI on some terminals), bidirectional overrides and isolates
 * (they reorder what follows), and line/paragraph separators.
 */
const TERMINAL_CONTROLS =
  // eslint-disable-next-line no-control-regex -- control characters are what it finds
  /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g

const NAMED_ESCAPES: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' }

/** `text` with each terminal control shown as an escape: `\n`, `\x1b`, `\u009b`, `\u202e`. */
export const visible = (text: string): string =>
  text.replace(TERMINAL_CONTROLS, (c) => {
    const code = c.charCodeAt(0)
    return (
      NAMED_ESCAPES[c] ??
      (code < 0x80
        ? `\\x${code.toString(16).padStart(2, '0')}`
        : `\\u${code.toString(16).padStart(4, '0')}`)
    )
  })

/** The terminal controls JSON.stringify leaves raw: all but C0, which it escapes. */
const RAW_IN_JSON = /[\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g

/** JSON text with the controls JSON.stringify leaves raw (DEL, C1, bidi) as `\u` escapes. */
const jsonVisible = (json: string): string =>
  json.replace(RAW_IN_JSON, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)

function csvField(value: unknown): string {
  const text = cell(value)
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text
}

/**
 * Renders query rows as a terminal table, a JSON array, or RFC 4180 CSV. Table and JSON show
 * terminal controls in the data as escapes, so that values from the API cannot drive the
 * terminal; CSV keeps every value exact, for programs.
 */
export function formatRows(result: QueryResult, format: OutputFormat): string {
  if (format === 'json') return jsonVisible(JSON.stringify(result.rows, null, 2))
  if (format === 'csv') {
    const lines = [result.columns.map(csvField).join(',')]
    for (const row of result.rows) lines.push(result.columns.map((c) => csvField(row[c])).join(','))
    return lines.join('\r\n')
  }
  const table = new Table({
    head: result.columns.map(visible),
    style: { head: [], border: [], compact: true },
  })
  for (const row of result.rows) {
    table.push(
      result.columns.map((c) => {
        const text = visible(cell(row[c]))
        return text.length > 80 ? `${text.slice(0, 77)}...` : text
      }),
    )
  }
  return `${table.toString()}\n(${result.rows.length} row${result.rows.length === 1 ? '' : 's'})`
}

let redacting = false

/**
 * Sends everything this process writes to stdout and stderr through the redactor: summaries,
 * log lines, error lines, and whatever a library prints. Installed once, by `main`.
 */
export function redactProcessOutput(): void {
  if (redacting) return
  redacting = true
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write.bind(stream) as (...args: unknown[]) => boolean
    stream.write = ((chunk: unknown, ...rest: unknown[]) => {
      const text =
        typeof chunk === 'string'
          ? chunk
          : chunk instanceof Uint8Array
            ? Buffer.from(chunk).toString('utf8')
            : undefined
      if (text === undefined) return write(chunk, ...rest)
      // A Buffer's encoding argument no longer applies once it is text.
      const args = typeof chunk === 'string' ? rest : rest.filter((a) => typeof a === 'function')
      return write(redactor.redact(text), ...args)
    }) as typeof stream.write
  }
}

/**
 * A reader that closes early (`thena-sync status | head -1`) ends the output, not the command:
 * what is left to print is dropped, without a stack trace, and the command finishes with its
 * own exit code. Installed once, by `main`.
 */
export function dropOutputOfClosedReaders(): void {
  for (const [name, stream] of [
    ['stdout', process.stdout],
    ['stderr', process.stderr],
  ] as const) {
    if (handled.has(stream)) continue
    handled.add(stream)
    stream.on('error', (error: NodeJS.ErrnoException) => {
      // Writes after the pipe broke fail as writes to a destroyed stream: dropped as well.
      if (error.code === 'EPIPE' || error.code === 'ERR_STREAM_DESTROYED') return
      // Any other failure (a full disk, an I/O error) is not a reader's choice: the command
      // goes on, its output is dropped, and `main` reports it (`outputFailure`).
      failure ??= `cannot write to ${name} (${error.message}): the output is incomplete`
    })
  }
}

const handled = new WeakSet<NodeJS.WriteStream>()
let failure: string | undefined

/** Why stdout or stderr could not be written (not a closed reader), if one could not. */
export const outputFailure = (): string | undefined => failure

/**
 * A pino destination on stderr that goes through the redactor. pino's own file-descriptor
 * destination would write around `process.stderr`.
 */
export const logDestination = (): { write(line: string): void } => ({
  write: (line) => void process.stderr.write(redactor.redact(line)),
})
