import { ByteWriter } from '../../../src/stand-in/byte-writer.js'
import { generateCustomFields, generateSubStatuses, generateUser } from './generators.js'
import type { UserContext } from './generators.js'
import { RequestWriter, STREAM_CREATED, STREAM_UPDATED } from './request-templates.js'
import { deletePath, getPath, setPath } from '../../../src/stand-in/json-path.js'
import type { JsonObject } from '../../../src/stand-in/json-path.js'
import { makeObjectId, parseObjectId } from './object-id.js'
import { hash32, hashInts } from '../../../src/stand-in/prng.js'
import type { ResolvedSimulatorOptions } from './simulator-options.js'
import { STATUSES } from './text-pools.js'

/** JSON types a drifted field can take. */
export const FIELD_TYPES = [
  'string',
  'integer',
  'number',
  'boolean',
  'timestamp',
  'object',
  'array',
  'null',
] as const
export type FieldType = (typeof FIELD_TYPES)[number]

/** Resources whose records can drift (gain, lose or retype fields). */
export const DRIFT_RESOURCES = ['requests', 'users'] as const
export type DriftResource = (typeof DRIFT_RESOURCES)[number]

interface Drift {
  readonly kind: 'add' | 'retype' | 'remove'
  readonly resource: DriftResource
  readonly path: readonly string[]
  readonly type: FieldType
  /** Only records at this position or later drift, which models a change mid-run. */
  readonly fromIndex: number
  readonly salt: number
}

interface RequestUpdate {
  updatedAt: number
  readonly patch: Map<string, { path: readonly string[]; value: unknown }>
}

const DAY = 86_400

/**
 * The simulator's truth. Requests and users are generated from (seed, position) on demand;
 * only mutations are stored, so memory does not grow with the record count.
 */
export class SimulatedDataset {
  readonly #seed: number
  readonly #users: UserContext
  readonly #requestWriter: RequestWriter
  readonly #assignableUserIds: readonly string[]
  readonly #initialRequests: number
  #totalRequests: number
  readonly #startSec: number
  readonly #stepSec: number
  readonly #endSec: number
  /** Requests inserted after start: each batch starts at `from` and is created at `createdAt + k`. */
  readonly #insertBatches: { from: number; createdAt: number }[] = []
  readonly #deleted = new Set<number>()
  #deletedSorted: number[] = []
  readonly #updates = new Map<number, RequestUpdate>()
  readonly #drifts: Drift[] = []
  readonly #initialUsers: number
  readonly #listedInitialUsers: number
  #totalUsers: number
  readonly #userStartSec: number
  readonly #subStatuses: JsonObject[]
  readonly #customFields: JsonObject[]

  constructor(options: ResolvedSimulatorOptions) {
    this.#seed = options.seed
    this.#initialRequests = this.#totalRequests = options.records
    const end = options.endAt
      ? Date.parse(options.endAt)
      : Math.floor(Date.now() / (DAY * 1000)) * DAY * 1000
    this.#endSec = Math.floor(end / 1000)
    const span = Math.max(1, Math.round(options.spanDays * DAY))
    this.#startSec = this.#endSec - span
    this.#stepSec = options.records > 1 ? span / options.records : span
    this.#initialUsers = this.#totalUsers = options.users
    const hidden = options.hiddenUsers ?? Math.max(1, Math.floor(options.users / 10))
    this.#listedInitialUsers = Math.max(0, options.users - Math.min(hidden, options.users))
    this.#userStartSec = this.#startSec - 30 * DAY
    const machine = (salt: string, suffix: string) =>
      hash32(options.seed, salt).toString(16).padStart(8, '0') + suffix
    this.#subStatuses = generateSubStatuses(options.seed, this.#userStartSec)
    this.#customFields = generateCustomFields(options.seed, this.#userStartSec)
    const userMachine = machine('user-machine', '0e')
    const assignable: string[] = []
    for (let j = 0; j < options.users; j++)
      assignable.push(makeObjectId(this.#userCreatedAt(j), userMachine, j))
    this.#users = { seed: options.seed, userMachine }
    this.#assignableUserIds = assignable
    this.#requestWriter = new RequestWriter({
      seed: options.seed,
      requestMachine: machine('request-machine', 'a1'),
      assignableUserIds: assignable,
      subStatusIds: this.#subStatuses.map((s) => s.id as string),
    })
  }

  // ---- requests -------------------------------------------------------------------------------

  /** Number of requests currently in the source (deleted ones excluded). */
  get requestCount(): number {
    return this.#totalRequests - this.#deleted.size
  }

  /** Positions ever used, deleted ones included; positions are never reused. */
  get requestPositions(): number {
    return this.#totalRequests
  }

  requestCreatedAt(index: number): number {
    if (index < this.#initialRequests) {
      const jitter = hashInts(this.#seed, STREAM_CREATED, index) / 4294967296
      return Math.floor(this.#startSec + (index + jitter) * this.#stepSec)
    }
    for (let b = this.#insertBatches.length - 1; b >= 0; b--) {
      const batch = this.#insertBatches[b]!
      if (index >= batch.from) return batch.createdAt + (index - batch.from)
    }
    throw new RangeError(`no request at position ${index}`)
  }

  /** The request at a position, or undefined when it was deleted or never existed. */
  requestAt(index: number): JsonObject | undefined {
    if (!this.#exists(index)) return undefined
    const out = new ByteWriter(4096)
    this.#writeBase(out, index)
    const record = JSON.parse(out.toString()) as JsonObject
    const update = this.#updates.get(index)
    if (update)
      for (const { path, value } of update.patch.values())
        setPath(record, path, structuredClone(value))
    return this.#applyDrift('requests', index, record)
  }

  /** Appends the request at a position as JSON; false when there is none. */
  writeRequest(out: ByteWriter, index: number): boolean {
    if (!this.#exists(index)) return false
    if (this.#updates.has(index) || this.#drifts.length > 0)
      out.utf8(JSON.stringify(this.requestAt(index)))
    else this.#writeBase(out, index)
    return true
  }

  #exists(index: number): boolean {
    return index >= 0 && index < this.#totalRequests && !this.#deleted.has(index)
  }

  #writeBase(out: ByteWriter, index: number): void {
    const created = this.requestCreatedAt(index)
    const update = this.#updates.get(index)
    const baseUpdated =
      index < this.#initialRequests
        ? created +
          Math.floor(
            (hashInts(this.#seed, STREAM_UPDATED, index) / 4294967296) *
              Math.min(30 * DAY, this.#endSec - created),
          )
        : created
    this.#requestWriter.write(out, index, created, update?.updatedAt ?? baseUpdated)
  }

  /** The id of the request at a position (live or deleted). */
  requestIdAt(index: number): string {
    return makeObjectId(this.requestCreatedAt(index), this.#requestWriter.machine, index)
  }

  /** Position of a request id, or undefined when the id is not one of ours. */
  requestIndexOf(id: string): number | undefined {
    const parsed = parseObjectId(id)
    if (!parsed || parsed.machine !== this.#requestWriter.machine) return undefined
    if (parsed.counter >= this.#totalRequests) return undefined
    if (parsed.seconds !== this.requestCreatedAt(parsed.counter)) return undefined
    return parsed.counter
  }

  isDeleted(index: number): boolean {
    return this.#deleted.has(index)
  }

  /** First live position at or after `from`, or undefined. */
  nextLivePosition(from: number): number | undefined {
    for (let i = Math.max(0, from); i < this.#totalRequests; i++)
      if (!this.#deleted.has(i)) return i
    return undefined
  }

  /** Position of the `rank`-th live request (0-based), or undefined past the end. */
  positionAtRank(rank: number): number | undefined {
    let index = rank
    // Each pass adds the deletions at or before the candidate; it converges in a few steps.
    for (;;) {
      const shifted = rank + countAtOrBelow(this.#deletedSorted, index)
      if (shifted === index) break
      index = shifted
    }
    return index < this.#totalRequests ? index : undefined
  }

  /** Every live request, oldest first, generated one at a time. */
  *requests(): Generator<JsonObject> {
    for (let i = 0; i < this.#totalRequests; i++) {
      const record = this.requestAt(i)
      if (record) yield record
    }
  }

  // ---- users, custom fields, sub-statuses -----------------------------------------------------

  #userCreatedAt(index: number): number {
    return this.#userStartSec + index * 3600
  }

  userAt(index: number): JsonObject | undefined {
    if (index < 0 || index >= this.#totalUsers) return undefined
    return this.#applyDrift(
      'users',
      index,
      generateUser(this.#users, index, this.#userCreatedAt(index)),
    )
  }

  /** Users that `/users` lists: everyone except the hidden ones. */
  *listedUsers(): Generator<JsonObject> {
    for (let j = 0; j < this.#totalUsers; j++) if (!this.isHiddenUser(j)) yield this.userAt(j)!
  }

  /** Every user, hidden ones included (what `/users/{id}` can serve). */
  *users(): Generator<JsonObject> {
    for (let j = 0; j < this.#totalUsers; j++) yield this.userAt(j)!
  }

  isHiddenUser(index: number): boolean {
    return index >= this.#listedInitialUsers && index < this.#initialUsers
  }

  get listedUserCount(): number {
    return this.#totalUsers - (this.#initialUsers - this.#listedInitialUsers)
  }

  userIndexOf(id: string): number | undefined {
    const parsed = parseObjectId(id)
    if (!parsed || parsed.machine !== this.#users.userMachine || parsed.counter >= this.#totalUsers)
      return undefined
    return parsed.seconds === this.#userCreatedAt(parsed.counter) ? parsed.counter : undefined
  }

  /** Ids of users assigned to requests but missing from `/users`. */
  get hiddenUserIds(): string[] {
    return this.#assignableUserIds.slice(this.#listedInitialUsers, this.#initialUsers)
  }

  subStatuses(): JsonObject[] {
    return structuredClone(this.#subStatuses)
  }

  customFields(): JsonObject[] {
    return structuredClone(this.#customFields)
  }

  // ---- mutations ------------------------------------------------------------------------------

  /** Appends `count` new requests (newest, so they sort last). Returns their ids. */
  insertRequests(count: number): string[] {
    if (count <= 0) return []
    const last =
      this.#totalRequests > 0 ? this.requestCreatedAt(this.#totalRequests - 1) : this.#startSec
    const createdAt = Math.max(last + 1, nowSec())
    const from = this.#totalRequests
    this.#insertBatches.push({ from, createdAt })
    this.#totalRequests += count
    const ids: string[] = []
    for (let i = from; i < this.#totalRequests; i++) ids.push(this.requestAt(i)!.id as string)
    return ids
  }

  /**
   * Updates requests in place: `updated_at` moves to now, the position does not. `set` maps
   * dotted paths to new values; without it the status moves on to the next one.
   */
  updateRequests(ids: readonly string[], set?: Readonly<Record<string, unknown>>): string[] {
    const updated: string[] = []
    const now = nowSec()
    for (const id of ids) {
      const index = this.requestIndexOf(id)
      if (index === undefined || this.#deleted.has(index)) continue
      const current = this.requestAt(index)!
      const previousUpdated = Math.floor(Date.parse(current.updated_at as string) / 1000)
      const entry = this.#updates.get(index) ?? { updatedAt: 0, patch: new Map() }
      entry.updatedAt = Math.max(now, previousUpdated + 1)
      const changes = set ?? {
        status: STATUSES[(STATUSES.indexOf(current.status as never) + 1) % STATUSES.length],
      }
      for (const [key, value] of Object.entries(changes))
        entry.patch.set(key, { path: key.split('.'), value })
      this.#updates.set(index, entry)
      updated.push(id)
    }
    return updated
  }

  /** Removes requests from the source. Returns the ids that existed. */
  deleteRequests(ids: readonly string[]): string[] {
    const deleted: string[] = []
    for (const id of ids) {
      const index = this.requestIndexOf(id)
      if (index === undefined || this.#deleted.has(index)) continue
      this.#deleted.add(index)
      deleted.push(id)
    }
    this.#deletedSorted = [...this.#deleted].sort((a, b) => a - b)
    return deleted
  }

  /** `count` live request ids picked deterministically, optionally within a created-at range. */
  pickRequestIds(
    count: number,
    salt: number,
    createdAfter?: number,
    createdBefore?: number,
  ): string[] {
    const candidates: number[] = []
    for (let i = 0; i < this.#totalRequests; i++) {
      if (this.#deleted.has(i)) continue
      const created = this.requestCreatedAt(i)
      if (createdAfter !== undefined && created < createdAfter) continue
      if (createdBefore !== undefined && created >= createdBefore) continue
      candidates.push(i)
    }
    candidates.sort((a, b) => hash32(this.#seed, salt, a) - hash32(this.#seed, salt, b))
    return candidates.slice(0, count).map((i) => this.requestAt(i)!.id as string)
  }

  addUsers(count: number): string[] {
    const ids: string[] = []
    for (let k = 0; k < count; k++) ids.push(this.userAt(this.#totalUsers++)!.id as string)
    return ids
  }

  renameSubStatus(id: string, name: string): boolean {
    const target = this.#subStatuses.find((s) => s.id === id)
    if (!target) return false
    target.name = name
    target.updated_at = new Date(nowSec() * 1000).toISOString()
    return true
  }

  /**
   * A new custom field definition (`/requests/custom-fields` lists it from now on); requests
   * carry values of it once an update sets them. Returns its id.
   */
  addCustomField(name: string, fieldType: string, options: readonly string[]): string {
    const now = nowSec()
    const index = this.#customFields.length
    const machine = hash32(this.#seed, 'custom-field-machine').toString(16).padStart(8, '0') + 'cf'
    const id = makeObjectId(now, machine, index)
    const at = new Date(now * 1000).toISOString()
    this.#customFields.push({
      id,
      category_name: name,
      field_type: fieldType,
      options: options.map((option) => ({ name: option, value: option })),
      created_at: at,
      updated_at: at,
    })
    return id
  }

  /** From position `fromIndex` on, records of `resource` gain a field of the given type. */
  addField(resource: DriftResource, path: readonly string[], type: FieldType, fromIndex = 0): void {
    this.#drifts.push({ kind: 'add', resource, path, type, fromIndex, salt: this.#drifts.length })
  }

  /** From position `fromIndex` on, the field's values are converted to `type`. */
  changeFieldType(
    resource: DriftResource,
    path: readonly string[],
    type: FieldType,
    fromIndex = 0,
  ): void {
    this.#drifts.push({
      kind: 'retype',
      resource,
      path,
      type,
      fromIndex,
      salt: this.#drifts.length,
    })
  }

  /** From position `fromIndex` on, the field disappears from records. */
  removeField(resource: DriftResource, path: readonly string[], fromIndex = 0): void {
    this.#drifts.push({
      kind: 'remove',
      resource,
      path,
      type: 'null',
      fromIndex,
      salt: this.#drifts.length,
    })
  }

  #applyDrift(resource: DriftResource, index: number, record: JsonObject): JsonObject {
    for (const drift of this.#drifts) {
      if (drift.resource !== resource || index < drift.fromIndex) continue
      const h = hash32(this.#seed, 'drift', drift.salt, index)
      if (drift.kind === 'add') setPath(record, drift.path, valueOfType(drift.type, h))
      else if (drift.kind === 'remove') deletePath(record, drift.path)
      else setPath(record, drift.path, convert(getPath(record, drift.path), drift.type, h))
    }
    return record
  }
}

function countAtOrBelow(sorted: readonly number[], value: number): number {
  let lo = 0
  let hi = sorted.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (sorted[mid]! <= value) lo = mid + 1
    else hi = mid
  }
  return lo
}

const nowSec = (): number => Math.floor(Date.now() / 1000)

function valueOfType(type: FieldType, h: number): unknown {
  switch (type) {
    case 'string':
      return `value-${h.toString(36)}`
    case 'integer':
      return h % 10_000
    case 'number':
      return (h % 1_000_000) / 100
    case 'boolean':
      return (h & 1) === 1
    case 'timestamp':
      return new Date(Date.UTC(2024, 0, 1) + (h % (365 * DAY)) * 1000).toISOString()
    case 'object':
      return { level: h % 5, label: `L${h % 5}` }
    case 'array':
      return [h % 7, h % 11]
    case 'null':
      return null
  }
}

function convert(value: unknown, type: FieldType, h: number): unknown {
  if (value === undefined) return valueOfType(type, h)
  switch (type) {
    case 'string':
      return typeof value === 'string' ? value : JSON.stringify(value)
    case 'integer':
    case 'number': {
      const n = typeof value === 'number' ? value : Number(value)
      if (Number.isFinite(n)) return type === 'integer' ? Math.trunc(n) : n
      return valueOfType(type, h)
    }
    case 'boolean':
      return Boolean(value)
    case 'timestamp':
      return typeof value === 'number' ? new Date(value * 1000).toISOString() : valueOfType(type, h)
    case 'object':
      return { value }
    case 'array':
      return [value]
    case 'null':
      return null
  }
}
