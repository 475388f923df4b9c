import {
  BIGINT,
  BOOLEAN,
  DOUBLE,
  DuckDBTimestampTZValue,
  TIMESTAMPTZ,
  VARCHAR,
} from '@duckdb/node-api'
import type { DuckDBType, DuckDBValue } from '@duckdb/node-api'
import type { ColumnType } from '../../src/normalize/table-schema.js'

/** Appender vector type of each logical column type (JSON is appended as VARCHAR). */
export const DUCKDB_VECTOR_TYPES: Readonly<Record<ColumnType, DuckDBType>> = {
  text: VARCHAR,
  bigint: BIGINT,
  double: DOUBLE,
  boolean: BOOLEAN,
  timestamp: TIMESTAMPTZ,
  json: VARCHAR,
}

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
      return JSON.stringify(value)
    default:
      return value as DuckDBValue
  }
}
