import type { z } from 'zod'
import type { ResourceDefinition } from '../extract/define-source.js'
import type { PathNode, SchemaRegistry, TableState } from './schema-registry.js'
import type { ColumnSchema, ColumnType, Row } from './table-schema.js'
import { shapeOf } from './zod-shape.js'
import { EVOLVE } from './schema-contract.js'
import type { SchemaContract } from './schema-contract.js'
import { pathKey } from './schema-registry.js'
import { TerminalError } from '../errors.js'
import type { Shape } from './zod-shape.js'

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
  /** Rows per table name; root rows are unique by key (the last occurrence wins). */
  readonly rows: ReadonlyMap<string, Row[]>
  /** Keys of the root records in the batch: their child rows are replaced whole. */
  readonly rootIds: readonly string[]
  readonly rejects: readonly Reject[]
}

interface Pending {
  readonly root: Row
  readonly children: [string, Row][]
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v)

function valueType(v: unknown): ColumnType {
  if (typeof v === 'string') return 'text'
  if (typeof v === 'number') return Number.isSafeInteger(v) ? 'bigint' : 'double'
  if (typeof v === 'boolean') return 'boolean'
  return 'json'
}

function fits(type: ColumnType, v: unknown): boolean {
  switch (type) {
    case 'text':
      return typeof v === 'string'
    case 'timestamp':
      return typeof v === 'string' && !Number.isNaN(Date.parse(v))
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
    const ms = typeof value === 'string' ? Date.parse(value) : NaN
    if (Number.isNaN(ms)) return false
    row[column.name] = ms
    return true
  }
  if (!fits(column.type, value)) return false
  row[column.name] = value
  return true
}

function convert(type: ColumnType, v: unknown): unknown {
  // JSON values stay as they came: each destination serializes them its own way.
  return type === 'timestamp' ? Date.parse(v as string) : v
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
  }

  /** Columns and child tables the contract declares exist even before a value arrives. */
  #declare(table: TableState, shape: Shape, prefix: readonly string[]): void {
    if (shape.kind !== 'object') return
    for (const [key, field] of shape.fields) {
      const path = [...prefix, key]
      if (field.kind === 'scalar') this.#registry.column(table, path, field.type)
      else if (field.kind === 'object') this.#declare(table, field, path)
      else if (field.element.kind === 'object')
        this.#declare(this.#registry.childTable(table, path), field.element, [])
      else this.#registry.column(table, path, 'json')
    }
  }

  /** Validates and flattens one record; a record that fails its contract becomes a reject. */
  add(record: unknown): void {
    const parsed = this.#schema.safeParse(record)
    const key = this.#resource.primaryKey
    const id = isObject(record) && record[key] != null ? String(record[key]) : null
    if (!parsed.success) {
      const reason = parsed.error.issues
        .slice(0, 5)
        .map((i) => `${i.path.join('.') || '(record)'}: ${i.message}`)
        .join('; ')
      this.#rejects.push({
        resource: this.#resource.name,
        recordId: id,
        reason,
        raw: JSON.stringify(record) ?? 'undefined',
      })
      return
    }
    const rec = record as Record<string, unknown>
    const root = this.#root.newRow()
    root._thena_load_id = this.#loadId
    root._thena_synced_at = this.#syncedAt
    const children: [string, Row][] = []
    this.#notes = []
    try {
      this.#flatten(this.#root, root, rec, [], this.#root.paths, this.#shape, id!, id!, children)
    } catch (error) {
      if (!(error instanceof DiscardRow)) throw error
      this.#rejects.push({
        resource: this.#resource.name,
        recordId: id,
        reason: `discard_row: ${error.message}`,
        raw: JSON.stringify(record),
      })
      return
    }
    if (this.#notes.length > 0) {
      this.#rejects.push({
        resource: this.#resource.name,
        recordId: id,
        reason: `discard_value: ${this.#notes.join('; ')}`,
        raw: JSON.stringify(record),
      })
    }
    // A record repeated in one batch (an API repeating a row across pages) is kept once: the last.
    this.#pending.delete(id!)
    this.#pending.set(id!, { root, children })
  }

  /** The batch so far; the normalizer starts a new one. */
  take(): NormalizedBatch {
    const rows = new Map<string, Row[]>([[this.#root.schema.name, []]])
    for (const { root, children } of this.#pending.values()) {
      rows.get(this.#root.schema.name)!.push(root)
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
  ): void {
    const fields = shape?.kind === 'object' ? shape.fields : undefined
    for (const key in obj) {
      const value = obj[key]
      if (value === null || value === undefined) continue
      const hint = fields?.get(key)
      const at = node?.children.get(key)
      if (isObject(value)) {
        this.#flatten(table, row, value, [...prefix, key], at, hint, rowKey, rootId, children)
        continue
      }
      if (Array.isArray(value)) {
        const objects =
          hint?.kind === 'array'
            ? hint.element.kind === 'object'
            : value.length > 0 && value.every(isObject)
        if (objects) {
          const arrayPath = [...prefix, key]
          if (
            !table.children.has(pathKey(arrayPath)) &&
            !this.#allow('newColumns', `new array of objects \`${arrayPath.join('.')}\``)
          )
            continue
          const child = this.#registry.childTable(table, arrayPath)
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
    const column =
      main?.type === type ? main : this.#registry.column(table, [...prefix, key], type, keyStr)
    row[column.name] = convert(type, value)
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
