import type { DestinationCapabilities, DestinationSession } from '../load/destination.js'
import type { ColumnType } from '../normalize/table-schema.js'
import type { ViewContext } from './view-declaration.js'

/** A SQL string literal, the same on every SQL destination: in single quotes, each `'` doubled. */
export const sqlLiteral = (value: string): string => `'${value.replace(/'/g, "''")}'`

/** The tables of a dataset and their columns, as the warehouse has them now. */
export type WarehouseColumns = ReadonlyMap<string, ReadonlySet<string>>

/**
 * The tables and columns of `dataset` now, from `information_schema` (not the schema history:
 * a table dropped by hand is gone here).
 */
export async function readWarehouseColumns(
  session: DestinationSession,
  dataset: string,
): Promise<WarehouseColumns> {
  const { rows } = await session.query(
    `SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = ${sqlLiteral(dataset)}`,
  )
  const tables = new Map<string, Set<string>>()
  for (const row of rows) {
    const table = String(row.table_name)
    let columns = tables.get(table)
    if (!columns) tables.set(table, (columns = new Set()))
    columns.add(String(row.column_name))
  }
  return tables
}

/** What `viewContext` builds a context from. */
export interface ViewContextInput {
  readonly session: DestinationSession
  readonly dataset: string
  readonly pipeline: string
  readonly capabilities: DestinationCapabilities
  readonly columns: WarehouseColumns
}

/** The context a view's SQL is computed from (see `ViewContext`). */
export function viewContext(input: ViewContextInput): ViewContext {
  const { session, dataset, pipeline, capabilities, columns } = input
  const ident = (name: string) => capabilities.escapeIdentifier(name)
  const cast = (expr: string, type: ColumnType) =>
    `CAST(${expr} AS ${capabilities.typeNames[type]})`
  const hasColumn = (table: string, column: string) => columns.get(table)?.has(column) ?? false
  return {
    dataset,
    pipeline,
    capabilities,
    table: (name) => `${ident(dataset)}.${ident(name)}`,
    ident,
    literal: sqlLiteral,
    hasTable: (name) => columns.has(name),
    hasColumn,
    columns: (table) => [...(columns.get(table) ?? [])],
    column: (alias, table, column, type = 'text') =>
      hasColumn(table, column) ? `${alias}.${ident(column)}` : cast('NULL', type),
    cast,
    rows: async (sql) => (await session.query(sql)).rows,
  }
}
