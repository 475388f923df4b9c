import { pathName, shortenIdentifier, snakeCase } from './naming.js'
import {
  CHILD_SYSTEM_COLUMNS,
  HISTORY_SYSTEM_COLUMNS,
  ROOT_SYSTEM_COLUMNS,
} from './table-schema.js'
import type { ColumnSchema, ColumnType, Row, SchemaChange, TableSchema } from './table-schema.js'

/** The naming limits of the destination (from its capabilities). */
export interface NamingLimits {
  /** Longest identifier in bytes. */
  readonly maxIdentifierLength: number
}

/**
 * One object level of a table's source paths: its main column, and the levels below it by key.
 * Looking up a nested field key by key reuses the hashes of the parsed keys; a joined path
 * string had to be built and hashed for every value.
 */
export interface PathNode {
  column: ColumnSchema | undefined
  readonly children: Map<string, PathNode>
}

const pathNode = (): PathNode => ({ column: undefined, children: new Map() })

/**
 * Most columns a table gets, system columns included. Postgres allows 1,600 but refuses a row
 * over 8 KB, and up to 24 bytes of each value stay in the row; DuckDB ran out of memory near
 * 1,200. At 300 every row fits on both. Fields beyond go to the JSON column `_thena_overflow`.
 */
export const MAX_TABLE_COLUMNS = 300

/**
 * Most child tables a resource gets. Every commit replaces the child rows of its records in
 * each of them, and creating a thousand tables in one transaction exhausted Postgres' lock table
 * and DuckDB's memory. Arrays of objects beyond are stored whole, as JSON.
 */
export const MAX_CHILD_TABLES = 64

/** The JSON column holding the fields of a table that has MAX_TABLE_COLUMNS columns. */
export const OVERFLOW_COLUMN = '_thena_overflow'

/** A table as the registry tracks it: columns by source path, names in use. */
export class TableState {
  readonly schema: TableSchema
  /** Main column per source path key. */
  readonly byPath = new Map<string, ColumnSchema>()
  /** Variant columns per `pathKey|type`. */
  readonly variants = new Map<string, ColumnSchema>()
  readonly names = new Set<string>()
  /** Child tables per array path key. */
  readonly children = new Map<string, TableState>()
  /** The main columns again, as a tree of source path segments. */
  readonly paths: PathNode = pathNode()
  /** The overflow column, once the table has one. */
  overflow: ColumnSchema | undefined
  /** A root table's history table, once it has one: it gets every column the root gets. */
  history: TableState | undefined
  /** A root table made this run: the key field's path, the one path its key column name is for. */
  keyPath: string | undefined

  #template: Row = {}
  #templateColumns = 0

  constructor(schema: TableSchema) {
    this.schema = schema
    for (const column of schema.columns) this.#index(column)
  }

  /**
   * A new row with every column of the table present and null. Rows made one key at a time
   * turn into slow dictionary objects past a dozen keys; a copy of a parsed template keeps
   * one fast shape for all rows of the table.
   */
  newRow(): Row {
    if (this.#templateColumns !== this.schema.columns.length) {
      const nulls = Object.fromEntries(this.schema.columns.map((c) => [c.name, null]))
      this.#template = JSON.parse(JSON.stringify(nulls)) as Row
      this.#templateColumns = this.schema.columns.length
    }
    return { ...this.#template }
  }

  #index(column: ColumnSchema): void {
    this.names.add(column.name)
    if (column.name === OVERFLOW_COLUMN) this.overflow = column
    if (column.path.length === 0) return
    const key = pathKey(column.path)
    if (column.variantOf) {
      this.variants.set(`${key}|${column.type}`, column)
      return
    }
    this.byPath.set(key, column)
    let node = this.paths
    for (const segment of column.path) {
      let next = node.children.get(segment)
      if (!next) node.children.set(segment, (next = pathNode()))
      node = next
    }
    node.column = column
  }

  add(column: ColumnSchema): void {
    this.schema.columns.push(column)
    this.#index(column)
  }
}

/** Joins the segments of a path key. */
const PATH_SEPARATOR = '\u0001'
/** Starts an escape in a segment: `\u0002a` stands for U+0001, `\u0002b` for U+0002 itself. */
const PATH_ESCAPE = '\u0002'

const escapeSegment = (segment: string): string =>
  segment.replaceAll(PATH_ESCAPE, `${PATH_ESCAPE}b`).replaceAll(PATH_SEPARATOR, `${PATH_ESCAPE}a`)

/**
 * Paths are keyed by their segments joined with a separator. A key containing the separator
 * (or the escape) is escaped first, so that `{"a\u0001b": 1}` and `{"a": {"b": 2}}` keep
 * distinct keys, and so distinct columns.
 */
export const pathKey = (path: readonly string[]): string =>
  path.some((s) => s.includes(PATH_SEPARATOR) || s.includes(PATH_ESCAPE))
    ? path.map(escapeSegment).join(PATH_SEPARATOR)
    : path.join(PATH_SEPARATOR)

/**
 * Every table and column the warehouse has or will have, and the deterministic mapping from a
 * source path to a column name. New tables and columns are queued as `SchemaChange`s for the
 * loader to apply in the same transaction as the rows that need them.
 */
export class SchemaRegistry {
  readonly #tables = new Map<string, TableState>()
  readonly #limits: NamingLimits
  #changes: SchemaChange[] = []

  constructor(limits: NamingLimits, existing: readonly TableSchema[] = []) {
    this.#limits = limits
    for (const table of existing)
      this.#tables.set(table.name, new TableState(structuredClone(table)))
    for (const state of this.#tables.values()) {
      const parent = state.schema.parent ? this.#tables.get(state.schema.parent) : undefined
      if (parent && state.schema.arrayPath)
        parent.children.set(pathKey(state.schema.arrayPath), state)
      const root = state.schema.historyOf ? this.#tables.get(state.schema.historyOf) : undefined
      if (root) root.history = state
    }
  }

  get tables(): TableSchema[] {
    return [...this.#tables.values()].map((t) => t.schema)
  }

  table(name: string): TableState | undefined {
    return this.#tables.get(name)
  }

  /**
   * The root table of a resource, created (as a pending change) if new. Its key column is named
   * as the key field's column will be (`teamMemberKey` is `team_member_key`), and that name is
   * kept for the key field alone.
   */
  rootTable(resource: string, primaryKey: string): TableState {
    const existing = this.#tables.get(resource)
    if (existing) return existing
    const name = shortenIdentifier(snakeCase(resource), this.#limits.maxIdentifierLength)
    const system = new TableState({ name, resource, primaryKey, columns: [...ROOT_SYSTEM_COLUMNS] })
    const keyColumn = this.#freeName(system, pathName([primaryKey]))
    const state = new TableState({
      name,
      resource,
      primaryKey: keyColumn,
      columns: [...ROOT_SYSTEM_COLUMNS],
    })
    state.keyPath = pathKey([primaryKey])
    this.#tables.set(name, state)
    this.#changes.push({ kind: 'create_table', table: state.schema })
    return state
  }

  /** The child table holding the array at `arrayPath` of `parent`'s rows, created if new. */
  childTable(parent: TableState, arrayPath: readonly string[]): TableState {
    const key = pathKey(arrayPath)
    const existing = parent.children.get(key)
    if (existing) return existing
    let name = shortenIdentifier(
      `${parent.schema.name}__${pathName(arrayPath)}`,
      this.#limits.maxIdentifierLength,
    )
    for (let n = 2; this.#tables.has(name); n++) {
      name = shortenIdentifier(
        `${parent.schema.name}__${pathName(arrayPath)}_${n}`,
        this.#limits.maxIdentifierLength,
      )
    }
    const state = new TableState({
      name,
      resource: parent.schema.resource,
      parent: parent.schema.name,
      arrayPath: [...arrayPath],
      primaryKey: '_thena_id',
      columns: [...CHILD_SYSTEM_COLUMNS],
    })
    this.#tables.set(name, state)
    parent.children.set(key, state)
    this.#changes.push({ kind: 'create_table', table: state.schema })
    return state
  }

  /**
   * The history table of a root table (`<root>_history`), created if new: the root's columns as
   * they are now, plus HISTORY_SYSTEM_COLUMNS; every column the root gets later, it gets too.
   */
  historyTable(root: TableState): TableState {
    if (root.history) return root.history
    let name = shortenIdentifier(`${root.schema.name}_history`, this.#limits.maxIdentifierLength)
    for (let n = 2; this.#tables.has(name); n++)
      name = shortenIdentifier(`${root.schema.name}_history_${n}`, this.#limits.maxIdentifierLength)
    const state = new TableState({
      name,
      resource: root.schema.resource,
      historyOf: root.schema.name,
      primaryKey: root.schema.primaryKey,
      columns: [...root.schema.columns, ...HISTORY_SYSTEM_COLUMNS],
    })
    this.#tables.set(name, state)
    root.history = state
    this.#changes.push({ kind: 'create_table', table: state.schema })
    return state
  }

  /** The column for a source path (the main one, or a variant when `type` clashes with it). */
  column(
    table: TableState,
    path: readonly string[],
    type: ColumnType,
    key = pathKey(path),
  ): ColumnSchema {
    const main = table.byPath.get(key)
    if (!main)
      return this.#addColumn(table, {
        name: this.#freeName(table, pathName(path), key),
        type,
        path: [...path],
      })
    if (main.type === type) return main
    const variant = table.variants.get(`${key}|${type}`)
    if (variant) return variant
    return this.#addColumn(table, {
      name: this.#freeName(table, `${main.name}__v_${type}`),
      type,
      path: [...path],
      variantOf: main.name,
    })
  }

  /** Whether `table` may get another data column (one slot stays for the overflow column). */
  hasRoom(table: TableState): boolean {
    return table.schema.columns.length < MAX_TABLE_COLUMNS - (table.overflow ? 0 : 1)
  }

  /** Whether `resource` may get another child table (see MAX_CHILD_TABLES). */
  hasRoomForChildTable(resource: string): boolean {
    let count = 0
    for (const state of this.#tables.values())
      if (state.schema.resource === resource && state.schema.parent) count++
    return count < MAX_CHILD_TABLES
  }

  /** The JSON column of `table` holding fields beyond its width, created if new. */
  overflowColumn(table: TableState): ColumnSchema {
    return (
      table.overflow ?? this.#addColumn(table, { name: OVERFLOW_COLUMN, type: 'json', path: [] })
    )
  }

  /**
   * Forgets the tables of `resource` whose creation is still pending (a resource skipped
   * before its first commit): no empty table is created for it.
   */
  forgetPending(resource: string): void {
    const pending = new Set(
      this.#changes.flatMap((c) =>
        c.kind === 'create_table' && c.table.resource === resource ? [c.table.name] : [],
      ),
    )
    if (pending.size === 0) return
    this.#changes = this.#changes.filter((c) =>
      c.kind === 'create_table' ? !pending.has(c.table.name) : !pending.has(c.table),
    )
    for (const name of pending) {
      const historyOf = this.#tables.get(name)?.schema.historyOf
      const root = historyOf === undefined ? undefined : this.#tables.get(historyOf)
      if (root?.history?.schema.name === name) root.history = undefined
      const parent = this.#tables.get(name)?.schema.parent
      const parentState = parent === undefined ? undefined : this.#tables.get(parent)
      for (const [key, child] of parentState?.children ?? [])
        if (child.schema.name === name) parentState!.children.delete(key)
      this.#tables.delete(name)
    }
  }

  /** Schema changes queued since the last call. */
  takeChanges(): SchemaChange[] {
    const changes = this.#changes
    this.#changes = []
    return changes
  }

  #addColumn(table: TableState, column: ColumnSchema): ColumnSchema {
    table.add(column)
    const created = this.#changes.some((c) => c.kind === 'create_table' && c.table === table.schema)
    if (!created) this.#changes.push({ kind: 'add_column', table: table.schema.name, column })
    // The history table mirrors its root, through the same changes (so the schema history
    // records its columns, and `readTables` rebuilds it).
    const history = table.history
    if (history && !history.names.has(column.name)) this.#addColumn(history, column)
    return column
  }

  #freeName(table: TableState, base: string, path?: string): string {
    const max = this.#limits.maxIdentifierLength
    let name = shortenIdentifier(base, max)
    // Reserved for our own metadata, and distinct from every name already in the table; the
    // key column's name is the key field's alone.
    if (name.startsWith('_thena_')) name = shortenIdentifier(`x${base}`, max)
    const taken = (n: string) =>
      table.names.has(n) ||
      (table.keyPath !== undefined && path !== table.keyPath && n === table.schema.primaryKey)
    for (let n = 2; taken(name); n++) name = shortenIdentifier(`${base}_${n}`, max)
    return name
  }
}
