/** Logical column types; each destination maps them to its own SQL types (capabilities). */
export const COLUMN_TYPES = ['text', 'bigint', 'double', 'boolean', 'timestamp', 'json'] as const
export type ColumnType = (typeof COLUMN_TYPES)[number]

/** One column of a warehouse table. */
export interface ColumnSchema {
  /** SQL identifier (snake_case, length-limited, unique in its table). */
  readonly name: string
  readonly type: ColumnType
  /** Path of the value in the source record (relative to the array element for child tables); empty for system columns. */
  readonly path: readonly string[]
  /** For a variant column, the column whose type its values clashed with. */
  readonly variantOf?: string
}

/** One warehouse table: a resource's root table or a child table of one of its arrays. */
export interface TableSchema {
  readonly name: string
  /** Root table of the resource this table belongs to. */
  readonly resource: string
  /** Parent table, for child tables. */
  readonly parent?: string
  /** Path of the array (relative to the parent's element) that this child table holds. */
  readonly arrayPath?: readonly string[]
  /**
   * For a history table (`<root>_history`, a resource with `history: true`): the root table
   * whose versions it holds. Its columns mirror the root's, plus HISTORY_SYSTEM_COLUMNS; its
   * `primaryKey` is the root's key column, repeated once per version (not unique).
   */
  readonly historyOf?: string
  /** Column that identifies a row: the resource's key for roots, `_thena_id` for children. */
  readonly primaryKey: string
  readonly columns: ColumnSchema[]
}

/** A change to the warehouse schema, applied in the same transaction as the rows that need it. */
export type SchemaChange =
  | { readonly kind: 'create_table'; readonly table: TableSchema }
  | { readonly kind: 'add_column'; readonly table: string; readonly column: ColumnSchema }

/** Metadata columns every root row carries. */
export const ROOT_SYSTEM_COLUMNS: readonly ColumnSchema[] = [
  { name: '_thena_load_id', type: 'text', path: [] },
  { name: '_thena_synced_at', type: 'timestamp', path: [] },
  { name: '_thena_deleted_at', type: 'timestamp', path: [] },
]

/** Metadata columns every child row carries. */
export const CHILD_SYSTEM_COLUMNS: readonly ColumnSchema[] = [
  { name: '_thena_id', type: 'text', path: [] },
  { name: '_thena_parent_id', type: 'text', path: [] },
  { name: '_thena_root_id', type: 'text', path: [] },
  { name: '_thena_list_idx', type: 'bigint', path: [] },
  { name: '_thena_load_id', type: 'text', path: [] },
  { name: '_thena_synced_at', type: 'timestamp', path: [] },
]

/**
 * Columns a history table has beyond its root's: the content hash that decides whether a
 * record changed, the validity of the version (`_thena_valid_to` null while current), and the
 * record's arrays of objects (its child rows) as JSON, so that a version is complete by itself.
 */
export const HISTORY_SYSTEM_COLUMNS: readonly ColumnSchema[] = [
  { name: '_thena_content_hash', type: 'text', path: [] },
  { name: '_thena_valid_from', type: 'timestamp', path: [] },
  { name: '_thena_valid_to', type: 'timestamp', path: [] },
  { name: '_thena_is_current', type: 'boolean', path: [] },
  { name: '_thena_children', type: 'json', path: [] },
]

/** A row as the normalizer produces it: column name to value (timestamps as epoch ms, JSON values as parsed). */
export type Row = Record<string, unknown>
