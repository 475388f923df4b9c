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

function csvField(value: unknown): string {
  const text = cell(value)
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text
}

/** Renders query rows as a terminal table, a JSON array, or RFC 4180 CSV. */
export function formatRows(result: QueryResult, format: OutputFormat): string {
  if (format === 'json') return JSON.stringify(result.rows, null, 2)
  if (format === 'csv') {
    const lines = [result.columns.map(csvField).join(',')]
    for (const row of result.rows) lines.push(result.columns.map((c) => csvField(row[c])).join(','))
    return lines.join('\r\n')
  }
  const table = new Table({
    head: [...result.columns],
    style: { head: [], border: [], compact: true },
  })
  for (const row of result.rows) {
    table.push(
      result.columns.map((c) => {
        const text = cell(row[c])
        return text.length > 80 ? `${text.slice(0, 77)}...` : text
      }),
    )
  }
  return `${table.toString()}\n(${result.rows.length} row${result.rows.length === 1 ? '' : 's'})`
}

/** Removes every secret from a message before it is printed or stored. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text
  for (const secret of secrets) if (secret.length >= 4) out = out.split(secret).join('***')
  return out
}
