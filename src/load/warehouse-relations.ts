import type { DestinationSession } from './destination.js'

/** Kinds of relation a dataset holds. */
export const RELATION_KINDS = ['table', 'view'] as const
export type RelationKind = (typeof RELATION_KINDS)[number]

/** One column of a relation as the warehouse reports it. */
export interface WarehouseColumn {
  readonly name: string
  /** The SQL type the warehouse gives (`information_schema.columns.data_type`), e.g. `VARCHAR`, `jsonb`. */
  readonly dataType: string
}

/** One table or view of a dataset as the warehouse reports it, columns in their order. */
export interface WarehouseRelation {
  readonly name: string
  readonly kind: RelationKind
  readonly columns: readonly WarehouseColumn[]
}

const literal = (text: string): string => `'${text.replace(/'/g, "''")}'`

/**
 * Every table and view of `dataset` in the session's warehouse with its columns, by name: read
 * from `information_schema` in one SQL that DuckDB and Postgres answer alike. Empty when the
 * dataset does not exist.
 */
export async function readRelations(
  session: DestinationSession,
  dataset: string,
): Promise<WarehouseRelation[]> {
  // current_database(): DuckDB lists the schemas of every attached catalog, and a dataset of
  // the same name in another one is not this warehouse's.
  const { rows } = await session.query(
    `SELECT c.table_name, t.table_type, c.column_name, c.data_type, c.ordinal_position
       FROM information_schema.columns c
       JOIN information_schema.tables t
         ON t.table_catalog = c.table_catalog
        AND t.table_schema = c.table_schema
        AND t.table_name = c.table_name
      WHERE c.table_schema = ${literal(dataset)}
        AND c.table_catalog = current_database()`,
  )
  const byName = new Map<string, { kind: RelationKind; columns: [number, WarehouseColumn][] }>()
  for (const row of rows) {
    const name = String(row.table_name)
    let relation = byName.get(name)
    if (!relation) {
      const kind: RelationKind = String(row.table_type).toUpperCase() === 'VIEW' ? 'view' : 'table'
      byName.set(name, (relation = { kind, columns: [] }))
    }
    relation.columns.push([
      Number(row.ordinal_position),
      { name: String(row.column_name), dataType: String(row.data_type) },
    ])
  }
  return [...byName]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, { kind, columns }]) => ({
      name,
      kind,
      columns: columns.sort(([a], [b]) => a - b).map(([, column]) => column),
    }))
}
