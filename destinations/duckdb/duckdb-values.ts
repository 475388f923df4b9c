import { DuckDBTimestampTZValue } from '@duckdb/node-api'
import type { DuckDBValue } from '@duckdb/node-api'
import { jsonText } from '../../src/load/json-text.js'
import type { ColumnType } from '../../src/normalize/table-schema.js'

/** Converts a normalized value (timestamps are epoch ms) to what the appender takes. */
export function toDuckDbValue(type: ColumnType, value: unknown): DuckDBValue {
  if (value === null || value === undefined) return null
  switch (type) {
    case 'bigint':
      return BigInt(value as number)
    case 'timestamp':
      return new DuckDBTimestampTZValue(BigInt(Math.round((value as number) * 1000)))
    case 'double':
      return Number(value)
    case 'json':
      return jsonText(value)
    default:
      return value as DuckDBValue
  }
}
