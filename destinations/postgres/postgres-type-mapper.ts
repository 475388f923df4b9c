import type { ColumnType } from '../../src/normalize/table-schema.js'

/** SQL type of each logical column type in Postgres. */
export const POSTGRES_TYPE_NAMES: Readonly<Record<ColumnType, string>> = {
  text: 'text',
  bigint: 'bigint',
  double: 'double precision',
  boolean: 'boolean',
  timestamp: 'timestamptz',
  json: 'jsonb',
}
