import type { z } from 'zod'
import type { ResourceDefinition } from '../source/define-source.js'
import type { PathNode, SchemaRegistry, TableState } from './schema-registry.js'
import type { ColumnSchema, ColumnType, Row } from './table-schema.js'
import { shapeOf } from './zod-shape.js'
import { EVOLVE } from './schema-contract.js'
import type { SchemaContract } from './schema-contract.js'
import { pathKey } from './schema-registry.js'
import { TerminalError, ThenaSyncError } from '../errors.js'
import type { Shape } from './zod-shape.js'
import { contentHash } from './content-hash.js'

/** A record that failed its contract: kept whole, with the reason, in `_thena_rejects`. */
export interface Reject {
  readonly resource: string
  readonly recordId: string | null
  readonly reason: string
  /** The record as the API sent it, as JSON text. */
  readonly raw: string
}

/** Rows of every table touched by a batch of records of one resource. */
export interface NormalizedBatch {
  readonly resource: string
  /**
   * Rows per table name; root rows are unique by key (the last occurrence wins). A resource with
   * `history` has one row per root row in its history table too: the root row's columns, the
   * content hash, the record's arrays of objects, and the update time (or null) as
   * `_thena_valid_from`, which the destination settles (`writeHistory`).
   */
  readonly rows: ReadonlyMap<string, Row[]>
  /** Keys of the root records in the batch: their child rows are replaced whole. */
  readonly rootIds: readonly string[]
  readonly rejects: readonly Reject[]
}

interface Pending {
  readonly root: Row
  readonly children: [string, Row][]
  /** The history row, for a resource with `history`. */
  readonly version?: Row
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v)

function valueType(v: unknown): ColumnType {
  if (typeof v === 'string') return 'text'
  if (typeof v === 'number') return Number.isSafeInteger(v) ? 'bigint' : 'double'
  if (typeof v === 'boolean') return 'boolean'
  return 'json'
}

/**
 * Timestamps the warehouse stores as timestamps: years 0001 to 9999, which both databases
 * hold and print the same way. Others are a type change (text, in a `__v_text` variant).
 */
const MIN_TIMESTAMP = Date.parse('0001-01-01T00:00:00.000Z')
const MAX_TIMESTAMP = Date.parse('9999-12-31T23:59:59.999Z')

/** Epoch ms of an ISO text the warehouse can store as a timestamp, else undefined. */
function timestampOf(v: unknown): number | undefined {
  if (typeof v !== 'string') return undefined
  const ms = Date.parse(v)
  return ms >= MIN_TIMESTAMP && ms <= MAX_TIMESTAMP ? ms : undefined
}

/**
 * Objects nested deeper than this (below the record) are not flattened further: each is stored
 * whole, as one JSON value.
 */
export const MAX_NESTING_DEPTH = 16

/**
 * The deepest JSON value a column holds. JavaScript cannot serialize much deeper (about 4,000
 * levels), so a record holding a deeper value is quarantined with the reason.
 */
export const MAX_JSON_DEPTH = 3000

/** A value the warehouse cannot store: its record is quarantined with the reason. */
class Unstorable extends Error {}

/** Throws Unstorable for a JSON value nested deeper than MAX_JSON_DEPTH. */
function checkJsonDepth(value: unknown): void {
  if (typeof value !== 'object' || value === null) return
  // The common case, without allocating: an array or object of scalars (tags, say).
  let flat = true
  for (const child of Array.isArray(value) ? value : Object.values(value))
    if (typeof child === 'object' && child !== null) {
      flat = false
      break
    }
  if (flat) return
  const stack: [unknown, number][] = [[value, 1]]
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!
    if (depth > MAX_JSON_DEPTH)
      throw new Unstorable(`a value is nested deeper than ${MAX_JSON_DEPTH} levels`)
    for (const child of Array.isArray(node) ? node : Object.values(node as object))
      if (typeof child === 'object' && child !== null) stack.push([child, depth + 1])
  }
}

function fits(type: ColumnType, v: unknown): boolean {
  switch (type) {
    case 'text':
      return typeof v === 'string'
    case 'timestamp':
      return timestampOf(v) !== undefined
    case 'bigint':
      return Number.isSafeInteger(v)
    case 'double':
      return typeof v === 'number'
    case 'boolean':
      return typeof v === 'boolean'
    case 'json':
      return true
  }
}

/** Writes `value` to its column when the column's type can hold it; false when it cannot. */
function store(row: Row, column: ColumnSchema, value: unknown): boolean {
  if (column.type === 'timestamp') {
    const ms = timestampOf(value)
    if (ms === undefined) return false
    row[column.name] = ms
    return true
  }
  if (!fits(column.type, value)) return false
  if (column.type === 'json') checkJsonDepth(value)
  row[column.name] = value
  return true
}

function convert(type: ColumnType, v: unknown): unknown {
  // JSON values stay as they came: each destination serializes them its own way.
  if (type === 'json') checkJsonDepth(v)
  return type === 'timestamp' ? timestampOf(v) : v
}

/**
 * A key as a source path segment the warehouse can store (in column names and the schema
 * history): U+0000 removed (Postgres cannot hold it), lone surrogates replaced by U+FFFD.
 */
const storableKey = (key: string): string =>
  key.isWellFormed() && !key.includes('\0') ? key : key.toWellFormed().replaceAll('\0', '')

/**
 * Longest primary key, in UTF-8 bytes: Postgres indexes a key of at most about 2,700 bytes, and
 * child rows' keys add a suffix per level.
 */
export const MAX_KEY_BYTES = 1000

/** A primary-key value the warehouse can store and match on, as text; undefined if unusable. */
function usableKey(value: unknown): string | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? String(value) : undefined
  if (typeof value !== 'string' || value === '') return undefined
  if (value.length > MAX_KEY_BYTES || Buffer.byteLength(value) > MAX_KEY_BYTES) return undefined
  return value.isWellFormed() && !value.includes('\0') ? value : undefined
}

/** JSON of a record for the rejects table, even one too deep for JSON.stringify. */
function rawJson(record: unknown): string {
  try {
    return JSON.stringify(record) ?? 'undefined'
  } catch {
    return JSON.stringify(truncated(record, 1000))
  }
}

/** `value` with everything deeper than `depth` levels replaced by a marker. */
function truncated(value: unknown, depth: number): unknown {
  if (typeof value !== 'object' || value === null) return value
  if (depth === 0) return '[nested deeper: cut here]'
  if (Array.isArray(value)) return value.map((v) => truncated(v, depth - 1))
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, truncated(v, depth - 1)]))
}

/**
 * Sets an own property, whatever the key: assigning `obj['__proto__']` would set the object's
 * prototype instead, and a record from the API may carry any key.
 */
const setOwn = (obj: object, key: PropertyKey, value: unknown): void =>
  void Object.defineProperty(obj, key, {
    value,
    writable: true,
    enumerable: true,
    configurable: true,
  })

/** An own property (never one inherited from the prototype). */
const getOwn = (obj: object, key: PropertyKey): unknown =>
  Object.hasOwn(obj, key) ? (obj as Record<PropertyKey, unknown>)[key] : undefined

/** The value at a zod issue's path (own properties only). */
function valueAtPath(record: unknown, path: readonly PropertyKey[]): unknown {
  let node = record
  for (const key of path) {
    if (typeof node !== 'object' || node === null) return undefined
    node = getOwn(node, key)
  }
  return node
}

/** `record` without the values at `paths` (copied along each path; the rest is shared). */
function withoutValues(
  record: Record<string, unknown>,
  paths: readonly (readonly PropertyKey[])[],
): Record<string, unknown> {
  const out = { ...record }
  for (const path of paths) {
    let node: Record<PropertyKey, unknown> | unknown[] = out
    for (let i = 0; i < path.length; i++) {
      const key = path[i]!
      const last = i === path.length - 1
      const child = getOwn(node, key)
      if (last) {
        if (Array.isArray(node)) node[key as number] = null
        else delete (node as Record<PropertyKey, unknown>)[key]
      } else if (typeof child === 'object' && child !== null) {
        const copy = Array.isArray(child) ? [...child] : { ...child }
        setOwn(node, key, copy)
        node = copy as Record<PropertyKey, unknown>
      } else break
    }
  }
  return out
}

/**
 * Validates records against the resource's zod contract and turns each into rows: nested
 * objects flattened with `__`, arrays of objects into child tables, arrays of scalars as JSON.
 * Fields the contract does not know are kept and become new columns; a value whose type clashes
 * with its column goes to a variant column `<column>__v_<type>`.
 */
export class Normalizer {
  readonly #registry: SchemaRegistry
  readonly #resource: ResourceDefinition
  readonly #schema: z.ZodType
  readonly #shape: Shape
  readonly #root: TableState
  /** The root's history table, when the resource keeps `history`; else nothing is hashed. */
  readonly #history: TableState | undefined
  /** The record's arrays of objects (child tables) by child table name, while flattening it. */
  #arrays: Record<string, unknown[]> | undefined
  readonly #loadId: string
  readonly #contract: SchemaContract
  #syncedAt: number
  #pending = new Map<string, Pending>()
  #rejects: Reject[] = []
  /** `discard_value` notes about the record being flattened. */
  #notes: string[] = []

  constructor(
    registry: SchemaRegistry,
    resource: ResourceDefinition,
    loadId: string,
    contract: SchemaContract = EVOLVE,
  ) {
    this.#contract = contract
    this.#registry = registry
    this.#resource = resource
    this.#schema = resource.schema
    this.#shape = shapeOf(resource.schema)
    this.#loadId = loadId
    this.#syncedAt = Date.now()
    this.#root = registry.rootTable(resource.name, resource.primaryKey)
    this.#declare(this.#root, this.#shape, [])
    this.#history = resource.history === true ? registry.historyTable(this.#root) : undefined
  }

  /** Columns and child tables the contract declares exist even before a value arrives. */
  #declare(table: TableState, shape: Shape, prefix: readonly string[]): void {
    if (shape.kind !== 'object') return
    for (const [key, field] of shape.fields) {
      const path = [...prefix, key]
      // A schema declaring more fields than a table may have columns: the rest overflow.
      if (field.kind !== 'object' && !this.#registry.hasRoom(table)) continue
      if (field.kind === 'scalar') this.#registry.column(table, path, field.type)
      else if (field.kind === 'object') this.#declare(table, field, path)
      else if (field.element.kind === 'object')
        this.#declare(this.#registry.childTable(table, path), field.element, [])
      else this.#registry.column(table, path, 'json')
    }
  }

  /**
   * Validates and flattens one record. Only a record without a usable primary key is rejected
   * for its schema; a field that fails its declared type goes through the `typeChanges`
   * contract like any type change. A record that cannot be turned into storable rows is
   * quarantined alone, with the reason; the batch goes on.
   */
  add(record: unknown): void {
    const key = this.#resource.primaryKey
    const id = isObject(record) ? usableKey(record[key]) : undefined
    try {
      this.#add(record, id)
    } catch (error) {
      // A contract that freezes stops the run; anything else stops only this record.
      if (error instanceof ThenaSyncError) throw error
      const reason =
        error instanceof DiscardRow
          ? `discard_row: ${error.message}`
          : error instanceof Unstorable
            ? `cannot be stored: ${error.message}`
            : `cannot be normalized: ${error instanceof Error ? error.message : String(error)}`
      this.#reject(record, id, reason)
    }
  }

  #reject(record: unknown, id: string | undefined, reason: string): void {
    const key = this.#resource.primaryKey
    const shown = id ?? (isObject(record) && record[key] != null ? String(record[key]) : null)
    this.#rejects.push({
      resource: this.#resource.name,
      recordId: shown,
      reason,
      raw: rawJson(record),
    })
  }

  #add(record: unknown, id: string | undefined): void {
    const key = this.#resource.primaryKey
    if (!isObject(record)) return this.#reject(record, undefined, '(record): not an object')
    const parsed = this.#schema.safeParse(record)
    const issues = parsed.success ? [] : parsed.error.issues
    const describe = (list: typeof issues) =>
      list
        .slice(0, 5)
        .map((i) => `${i.path.join('.') || '(record)'}: ${i.message}`)
        .join('; ')
    const keyIssues = issues.filter((i) => i.path[0] === key)
    if (keyIssues.length > 0) return this.#reject(record, id, describe(keyIssues))
    if (id === undefined)
      return this.#reject(
        record,
        id,
        `${key}: expected a non-empty string or a whole number${record[key] == null ? '' : ` (at most ${MAX_KEY_BYTES} bytes, without U+0000 or lone surrogates)`}`,
      )
    this.#notes = []
    // As for undeclared fields: an absent or null value is no value to type, and a field the
    // schema does not know (a strict object's) is a new column, which flattening decides on.
    const typeIssues = issues.filter(
      (i) => i.code !== 'unrecognized_keys' && valueAtPath(record, i.path) != null,
    )
    let rec = record
    if (typeIssues.length > 0) rec = this.#declaredTypeChanges(rec, typeIssues)
    const root = this.#root.newRow()
    root._thena_load_id = this.#loadId
    root._thena_synced_at = this.#syncedAt
    // A record the API lists as deleted is kept, marked: the source says so, not a reconcile.
    const deletedField = this.#resource.deletedAtField
    if (deletedField !== undefined) {
      const deletedAt = timestampOf(getOwn(record, deletedField))
      if (deletedAt !== undefined) root._thena_deleted_at = deletedAt
    }
    const children: [string, Row][] = []
    this.#arrays = this.#history ? {} : undefined
    this.#flatten(this.#root, root, rec, [], this.#root.paths, this.#shape, id, id, children, 0)
    if (this.#notes.length > 0) this.#reject(record, id, `discard_value: ${this.#notes.join('; ')}`)
    const version = this.#history ? this.#version(root, rec) : undefined
    // A record repeated in one batch (an API repeating a row across pages) is kept once: the last.
    this.#pending.delete(id)
    this.#pending.set(id, version ? { root, children, version } : { root, children })
  }

  /** The history row of a record: its root row, content hash, arrays and update time. */
  #version(root: Row, record: Record<string, unknown>): Row {
    const arrays = this.#arrays!
    const field = this.#resource.updatedAtField
    // From the table's template, values assigned: a spread of a wide row is several times slower.
    const version = this.#history!.newRow()
    for (const column in root) version[column] = root[column]
    version._thena_content_hash = contentHash(record)
    // The update time is a candidate start; the destination checks it against the versions.
    version._thena_valid_from =
      field === undefined ? null : (timestampOf(getOwn(record, field)) ?? null)
    version._thena_is_current = true
    version._thena_children = Object.keys(arrays).length === 0 ? null : arrays
    return version
  }

  /**
   * Fields whose values fail their declared types, under the `typeChanges` contract: `evolve`
   * keeps them (flattening stores each where its type fits: the column, or a variant);
   * `discard_value` drops them, noted; `discard_row` rejects the record; `freeze` stops.
   */
  #declaredTypeChanges(
    record: Record<string, unknown>,
    issues: readonly { readonly path: readonly PropertyKey[]; readonly message: string }[],
  ): Record<string, unknown> {
    const mode = this.#contract.typeChanges
    if (mode === 'evolve') return record
    for (const issue of issues)
      this.#allow('typeChanges', `declared field \`${issue.path.join('.')}\`: ${issue.message}`)
    return withoutValues(
      record,
      issues.map((i) => i.path),
    )
  }

  /** The batch so far; the normalizer starts a new one. */
  take(): NormalizedBatch {
    const rows = new Map<string, Row[]>([[this.#root.schema.name, []]])
    if (this.#history) rows.set(this.#history.schema.name, [])
    for (const { root, children, version } of this.#pending.values()) {
      rows.get(this.#root.schema.name)!.push(root)
      if (version) rows.get(this.#history!.schema.name)!.push(version)
      for (const [table, row] of children) {
        let list = rows.get(table)
        if (!list) rows.set(table, (list = []))
        list.push(row)
      }
    }
    const batch: NormalizedBatch = {
      resource: this.#resource.name,
      rows,
      rootIds: [...this.#pending.keys()],
      rejects: this.#rejects,
    }
    this.#pending = new Map()
    this.#rejects = []
    this.#syncedAt = Date.now()
    return batch
  }

  get size(): number {
    return this.#pending.size + this.#rejects.length
  }

  #flatten(
    table: TableState,
    row: Row,
    obj: Record<string, unknown>,
    prefix: readonly string[],
    node: PathNode | undefined,
    shape: Shape | undefined,
    rowKey: string,
    rootId: string,
    children: [string, Row][],
    depth: number,
  ): void {
    const fields = shape?.kind === 'object' ? shape.fields : undefined
    // Below this level objects and arrays of objects are kept whole, as JSON values.
    const flat = depth < MAX_NESTING_DEPTH
    for (const raw in obj) {
      const value = obj[raw]
      if (value === null || value === undefined) continue
      // A key the table already has a path for is storable as it is.
      let at = node?.children.get(raw)
      const key = at === undefined ? storableKey(raw) : raw
      if (key !== raw) at = node?.children.get(key)
      const hint = fields?.get(key)
      if (isObject(value) && flat) {
        this.#flatten(
          table,
          row,
          value,
          [...prefix, key],
          at,
          hint,
          rowKey,
          rootId,
          children,
          depth + 1,
        )
        continue
      }
      if (Array.isArray(value) && flat) {
        const arrayPath = [...prefix, key]
        const known = table.children.has(pathKey(arrayPath))
        // A resource with as many child tables as it may have keeps further arrays as JSON.
        const objects =
          (hint?.kind === 'array'
            ? hint.element.kind === 'object'
            : value.length > 0 && value.every(isObject)) &&
          (known || this.#registry.hasRoomForChildTable(table.schema.resource))
        if (objects) {
          if (
            !known &&
            !this.#allow('newColumns', `new array of objects \`${arrayPath.join('.')}\``)
          )
            continue
          const child = this.#registry.childTable(table, arrayPath)
          // A version keeps its child rows as the arrays they came from (child tables of a
          // child table are inside their elements).
          if (this.#arrays && table === this.#root) this.#arrays[child.schema.name] = value
          const element = hint?.kind === 'array' ? hint.element : undefined
          for (let i = 0; i < value.length; i++) {
            const item = value[i]
            const childKey = `${rowKey}#${i}`
            const childRow = child.newRow()
            childRow._thena_id = childKey
            childRow._thena_parent_id = rowKey
            childRow._thena_root_id = rootId
            childRow._thena_list_idx = i
            childRow._thena_load_id = this.#loadId
            childRow._thena_synced_at = this.#syncedAt
            if (isObject(item))
              this.#flatten(
                child,
                childRow,
                item,
                [],
                child.paths,
                element,
                childKey,
                rootId,
                children,
                depth + 1,
              )
            else
              this.#set(
                child,
                childRow,
                [],
                'value',
                child.paths.children.get('value'),
                item,
                undefined,
              )
            children.push([child.schema.name, childRow])
          }
          continue
        }
      }
      this.#set(table, row, prefix, key, at, value, hint)
    }
  }

  #set(
    table: TableState,
    row: Row,
    prefix: readonly string[],
    key: string,
    at: PathNode | undefined,
    value: unknown,
    hint: Shape | undefined,
  ): void {
    // The common case first, without allocating: a known column and a value that fits it.
    const known = at?.column
    if (known !== undefined && store(row, known, value)) return
    this.#setNew(table, row, prefix, key, value, hint)
  }

  /** A value for a column that does not exist yet, or whose type it does not fit. */
  #setNew(
    table: TableState,
    row: Row,
    prefix: readonly string[],
    key: string,
    value: unknown,
    hint: Shape | undefined,
  ): void {
    const keyStr = pathKey([...prefix, key])
    // By joined path: the caller's tree node may predate a column added earlier in this record.
    const main = table.byPath.get(keyStr)
    if (main !== undefined && store(row, main, value)) return
    let type: ColumnType
    if (!main && hint?.kind === 'scalar' && fits(hint.type, value)) type = hint.type
    else type = valueType(value)
    if (main?.type !== type) {
      const field = [...prefix, key].join('.')
      const allowed = !main
        ? this.#allow('newColumns', `new field \`${field}\` (${type})`)
        : table.variants.has(`${keyStr}|${type}`) ||
          this.#allow('typeChanges', `field \`${field}\` is ${main.type}, got ${type}`)
      if (!allowed) return
    }
    const existing = main?.type === type ? main : table.variants.get(`${keyStr}|${type}`)
    if (!existing && !this.#registry.hasRoom(table))
      return this.#overflow(table, row, [...prefix, key], value)
    const column = existing ?? this.#registry.column(table, [...prefix, key], type, keyStr)
    row[column.name] = convert(type, value)
  }

  /**
   * A value of a table that has as many columns as it may (MAX_TABLE_COLUMNS): kept in the
   * row's JSON overflow column, at its source path.
   */
  #overflow(table: TableState, row: Row, path: readonly string[], value: unknown): void {
    checkJsonDepth(value)
    const column = this.#registry.overflowColumn(table)
    let bag = row[column.name] as Record<string, unknown> | null
    if (!isObject(bag)) row[column.name] = bag = {}
    // Own properties only: a field named `__proto__` is data, not the prototype.
    for (const segment of path.slice(0, -1)) {
      const next = getOwn(bag, segment)
      if (isObject(next)) bag = next
      else {
        const created = {}
        setOwn(bag, segment, created)
        bag = created
      }
    }
    setOwn(bag, path.at(-1)!, value)
  }

  /**
   * Applies the contract to a change the data asks for: true to make it; false to drop the
   * value (noted); throws to drop the record (`discard_row`) or stop the run (`freeze`).
   */
  #allow(kind: keyof SchemaContract, what: string): boolean {
    const mode = this.#contract[kind]
    if (mode === 'evolve') return true
    if (mode === 'discard_value') {
      this.#notes.push(`${what}: value dropped`)
      return false
    }
    if (mode === 'discard_row') throw new DiscardRow(what)
    const setting = kind === 'newColumns' ? 'contract.newColumns' : 'contract.typeChanges'
    throw new TerminalError(
      'schema_frozen',
      `${this.#resource.name}: ${what}, but the contract freezes ${kind === 'newColumns' ? 'new columns' : 'type changes'} (set ${setting} to 'evolve', 'discard_row' or 'discard_value' to let the run go on)`,
    )
  }
}

/** Thrown inside flattening when `discard_row` drops the record being flattened. */
class DiscardRow extends Error {}
