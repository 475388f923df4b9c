import type { ColumnSchema, ColumnType, Row } from '../../src/normalize/table-schema.js'

/** SQL type of each logical column type in Postgres. */
export const POSTGRES_TYPE_NAMES: Readonly<Record<ColumnType, string>> = {
  text: 'text',
  bigint: 'bigint',
  double: 'double precision',
  boolean: 'boolean',
  timestamp: 'timestamptz',
  json: 'jsonb',
}

// Postgres text and jsonb cannot hold U+0000: it is removed (docs/decisions.md). The other
// characters that COPY's text format treats specially are escaped.
const SPECIAL = /[\\\n\r\t\0]/
const SPECIAL_ALL = /[\\\n\r\t\0]/g
const ESCAPES: Readonly<Record<string, string>> = {
  '\\': '\\\\',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\0': '',
}
const escapeChar = (c: string): string => ESCAPES[c]!

/** A string as one field of COPY's text format. */
export function escapeCopyText(text: string): string {
  return SPECIAL.test(text) ? text.replace(SPECIAL_ALL, escapeChar) : text
}

const dropNul = (_key: string, value: unknown): unknown =>
  typeof value === 'string' ? value.replaceAll('\0', '') : value

/** JSON text Postgres' jsonb accepts (no `\u0000` escapes). */
function jsonText(value: unknown): string {
  const text = JSON.stringify(value)
  return text.includes('\\u0000') ? JSON.stringify(value, dropNul) : text
}

/** One field of COPY's text format for a normalized value (timestamps are epoch ms). */
export function copyField(type: ColumnType, value: unknown): string {
  if (value === null || value === undefined) return '\\N'
  switch (type) {
    case 'text':
      return escapeCopyText(typeof value === 'string' ? value : String(value))
    case 'timestamp':
      return new Date(value as number).toISOString()
    case 'boolean':
      return value ? 't' : 'f'
    case 'json':
      return escapeCopyText(jsonText(value))
    default:
      return String(value)
  }
}

/**
 * Rows as COPY text, in chunks of about `chunkBytes` characters: one line per row, fields in
 * the order of `columns`, tab-separated.
 */
export function* copyTextChunks(
  columns: readonly ColumnSchema[],
  rows: readonly Row[],
  chunkBytes = 1 << 20,
): Generator<string> {
  const names = columns.map((c) => c.name)
  const types = columns.map((c) => c.type)
  let chunk = ''
  for (const row of rows) {
    let line = copyField(types[0]!, row[names[0]!])
    for (let i = 1; i < names.length; i++) line += '\t' + copyField(types[i]!, row[names[i]!])
    chunk += line + '\n'
    if (chunk.length >= chunkBytes) {
      yield chunk
      chunk = ''
    }
  }
  if (chunk.length > 0) yield chunk
}
