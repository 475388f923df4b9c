import type { ColumnType } from '../../src/normalize/table-schema.js'

/** SQL type of each logical column type in DuckDB. */
export const DUCKDB_TYPE_NAMES: Readonly<Record<ColumnType, string>> = {
  text: 'VARCHAR',
  bigint: 'BIGINT',
  double: 'DOUBLE',
  boolean: 'BOOLEAN',
  timestamp: 'TIMESTAMPTZ',
  json: 'JSON',
}
