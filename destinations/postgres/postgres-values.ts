import { jsonText } from '../../src/load/json-text.js'
import type { ColumnSchema, ColumnType, Row } from '../../src/normalize/table-schema.js'

// Normalized rows as COPY's text format: the way every row reaches Postgres.

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

const pad = (n: number, width: number): string => String(n).padStart(width, '0')
const TWO_DIGITS = Array.from({ length: 100 }, (_, i) => pad(i, 2))
const THREE_DIGITS = Array.from({ length: 1000 }, (_, i) => pad(i, 3))
const DAY_MS = 86_400_000

/**
 * `new Date(ms).toISOString()`, about five times faster: the civil date comes from integer
 * arithmetic (Howard Hinnant's `civil_from_days`). Years outside 0–9999 take the slow path.
 */
export function isoTimestamp(ms: number): string {
  const days = Math.floor(ms / DAY_MS)
  const z = days + 719_468
  const era = Math.floor(z / 146_097)
  const doe = z - era * 146_097
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365,
  )
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100))
  const mp = Math.floor((5 * doy + 2) / 153)
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1
  const month = mp < 10 ? mp + 3 : mp - 9
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0)
  if (year < 0 || year > 9999 || !Number.isInteger(ms)) return new Date(ms).toISOString()
  let t = ms - days * DAY_MS
  const hours = Math.floor(t / 3_600_000)
  t -= hours * 3_600_000
  const minutes = Math.floor(t / 60_000)
  t -= minutes * 60_000
  const seconds = Math.floor(t / 1000)
  return (
    pad(year, 4) +
    '-' +
    TWO_DIGITS[month] +
    '-' +
    TWO_DIGITS[day] +
    'T' +
    TWO_DIGITS[hours] +
    ':' +
    TWO_DIGITS[minutes] +
    ':' +
    TWO_DIGITS[seconds] +
    '.' +
    THREE_DIGITS[t - seconds * 1000] +
    'Z'
  )
}

/** One field of COPY's text format, per column type, for a non-null normalized value. */
const FIELD_TEXT: Readonly<Record<ColumnType, (value: unknown) => string>> = {
  text: (value) => escapeCopyText(typeof value === 'string' ? value : String(value)),
  timestamp: (value) => isoTimestamp(value as number),
  boolean: (value) => (value ? 't' : 'f'),
  json: (value) => escapeCopyText(jsonText(value, true)),
  bigint: (value) => String(value),
  double: (value) => String(value),
}

/** One field of COPY's text format for a normalized value (timestamps are epoch ms). */
export const copyField = (type: ColumnType, value: unknown): string =>
  value === null || value === undefined ? '\\N' : FIELD_TEXT[type](value)

/**
 * Rows as COPY text, UTF-8 encoded in chunks of about `chunkBytes` bytes: one line per row,
 * fields in the order of `columns`, tab-separated.
 */
export function* copyTextChunks(
  columns: readonly ColumnSchema[],
  rows: readonly Row[],
  chunkBytes = 1 << 20,
): Generator<Buffer> {
  const names = columns.map((c) => c.name)
  const fields = columns.map((c) => FIELD_TEXT[c.type])
  // Each line is written into one buffer as it is made: joining a chunk's lines into one
  // string first, then encoding it, cost a third more.
  let buffer = Buffer.allocUnsafe(2 * chunkBytes)
  let used = 0
  for (const row of rows) {
    let value = row[names[0]!]
    let line = value == null ? '\\N' : fields[0]!(value)
    for (let i = 1; i < names.length; i++) {
      value = row[names[i]!]
      line += value == null ? '\t\\N' : '\t' + fields[i]!(value)
    }
    line += '\n'
    // 3 bytes per UTF-16 unit is the most UTF-8 needs.
    if (used + 3 * line.length > buffer.length) {
      if (used > 0) yield buffer.subarray(0, used)
      buffer = Buffer.allocUnsafe(Math.max(2 * chunkBytes, 3 * line.length))
      used = 0
    }
    used += buffer.write(line, used)
    if (used >= chunkBytes) {
      yield buffer.subarray(0, used)
      buffer = Buffer.allocUnsafe(2 * chunkBytes)
      used = 0
    }
  }
  if (used > 0) yield buffer.subarray(0, used)
}
