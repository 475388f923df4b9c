import { valueAt } from '../core/json-path.js'
import type { ResolvedResource } from '../source/resolve-resource.js'
import type { RunMode } from '../source/incremental/strategy.js'
import type { ResourceState } from '../state/resource-state.js'

/** One parent a child resource is read for. */
export interface ParentRef {
  /** The parent's values, one per binding of the child (`ResolvedParent.bindings`), as text. */
  readonly values: readonly string[]
  /** The parent's update time in ms (its `updatedAtField`), when it has one. */
  readonly version?: number
  /** The values as one string (JSON): what orders parents of equal version, and progress names. */
  readonly key: string
}

/**
 * How far a child resource's reading of changed parents got, kept in its state
 * (`incremental.parents`): every parent updated at or before `through` had its children read;
 * within a pass that was stopped, so had every parent up to `after` in (version, key) order;
 * and since the last pass over every parent, the parents in `read` at the version given (read
 * by passes over a window of the parents, which move neither mark).
 */
export interface ParentProgress {
  readonly through?: string
  readonly after?: { readonly at: string; readonly key: string }
  readonly read?: Readonly<Record<string, string>>
}

/** A child's progress as its state stores it, or none. */
export function parentProgressOf(state: ResourceState | undefined): ParentProgress {
  const stored = state?.incremental?.parents
  if (typeof stored !== 'object' || stored === null || Array.isArray(stored)) return {}
  const { through, after, read } = stored as Record<string, unknown>
  const at = typeof after === 'object' && after !== null ? (after as Record<string, unknown>) : {}
  const readAt =
    typeof read === 'object' && read !== null && !Array.isArray(read)
      ? Object.fromEntries(Object.entries(read).filter(([, v]) => typeof v === 'string'))
      : {}
  return {
    ...(typeof through === 'string' && { through }),
    ...(typeof at.at === 'string' &&
      typeof at.key === 'string' && { after: { at: at.at, key: at.key } }),
    ...(Object.keys(readAt).length > 0 && { read: readAt as Record<string, string> }),
  }
}

/** `state` with the child's progress replaced (undefined progress: none kept). */
export function withParentProgress(state: ResourceState, progress: ParentProgress): ResourceState {
  const { parents: _, ...rest } = state.incremental ?? {}
  const kept =
    progress.through !== undefined ||
    progress.after !== undefined ||
    Object.keys(progress.read ?? {}).length > 0
  return {
    ...state,
    incremental: { ...rest, ...(kept && { parents: { ...progress } }) },
  }
}

const iso = (ms: number): string => new Date(ms).toISOString()

/**
 * How far before the run's start a mark may stand at most. A parent updated while the run
 * walked its list (after its page was read) is seen at its old time, and its new one may be
 * older than that of a parent read later in the walk: a mark at the newest time seen would
 * pass it for good. A mark never passes the run's start, less this margin for the API's
 * clock against this machine's and for writes that become visible late; so does it for a
 * parent dated in the future. Parents updated within it are read again by the next run.
 */
export const PARENT_MARK_LAG_MS = 5 * 60_000

const versionOf = (record: unknown, field: string | undefined): number | undefined => {
  if (field === undefined) return undefined
  const value = valueAt(record, [field])
  const ms = typeof value === 'string' ? Date.parse(value) : NaN
  return Number.isNaN(ms) ? undefined : ms
}

/** Orders parents by version (those without one last), then by key. */
const compareRefs = (a: ParentRef, b: ParentRef): number =>
  (a.version ?? Infinity) - (b.version ?? Infinity) || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)

/**
 * The parents each child resource is read for, collected from the parent's walk. Which ones
 * a run reads (`ParentDefinition.refresh`): every parent the walk saw (`always`, and any
 * `reconcile`); parents past the child's watermark, by the parent's update time, when the
 * parent declares `updatedAtField`; else the parents the run merged (new or changed pages).
 */
export class ParentKeys {
  /** Per child resource name: its parents so far, by key. */
  readonly #refs = new Map<string, Map<string, ParentRef>>()
  /** Per parent resource name: its children. */
  readonly #children = new Map<string, ResolvedResource[]>()
  readonly #mode: RunMode
  /** Children some of whose parents' pages came from a walk of part of the list. */
  readonly #partial = new Set<string>()
  /** Parent resources whose walk this run read their list to its end. */
  readonly #ended = new Set<string>()
  /** The latest a mark may stand (ms): the run's start less `PARENT_MARK_LAG_MS`. */
  readonly #bound: number

  /** `startedAt`: when the run began (ms), before any parent was read. Default now. */
  constructor(resources: readonly ResolvedResource[], mode: RunMode, startedAt = Date.now()) {
    this.#mode = mode
    this.#bound = startedAt - PARENT_MARK_LAG_MS
    for (const r of resources) {
      if (!r.resolvedParent) continue
      const list = this.#children.get(r.resolvedParent.resource) ?? []
      list.push(r)
      this.#children.set(r.resolvedParent.resource, list)
      this.#refs.set(r.name, new Map())
    }
  }

  /** Whether the child reads every parent the walk saw, not only the merged ones. */
  #readsAll(child: ResolvedResource): boolean {
    const parent = child.resolvedParent!
    return (
      this.#mode === 'reconcile' ||
      parent.refresh === 'always' ||
      (this.#mode === 'run' && parent.updatedAtField !== undefined)
    )
  }

  /**
   * Notes the parents among a page of `resource`: `merged`, the records the run writes;
   * `all`, every record the page held (with what the engine added to them); `partial` when
   * the walk sees only part of the list (a window).
   */
  collect(
    resource: string,
    merged: readonly unknown[],
    all: readonly unknown[],
    partial = false,
  ): void {
    for (const child of this.#children.get(resource) ?? []) {
      if (partial) this.#partial.add(child.name)
      const parent = child.resolvedParent!
      const refs = this.#refs.get(child.name)!
      for (const record of this.#readsAll(child) ? all : merged) {
        const values: string[] = []
        for (const binding of parent.bindings) {
          const value = valueAt(record, [binding.from])
          if ((typeof value === 'string' && value !== '') || typeof value === 'number')
            values.push(String(value))
        }
        // A parent without the values to fill the path cannot be read for.
        if (values.length !== parent.bindings.length) continue
        const key = JSON.stringify(values)
        const version = versionOf(record, parent.updatedAtField)
        refs.delete(key)
        refs.set(key, { values, key, ...(version !== undefined && { version }) })
      }
    }
  }

  /**
   * Notes that the walk of `resource` read its list to the end (every page of its plan): its
   * children may move their marks. A walk that failed part way, or a resource left out of the
   * run (`--resource`), saw only some parents, or none.
   */
  ended(resource: string): void {
    this.#ended.add(resource)
  }

  /** Whether the parent of `child` was walked to its end this run. */
  parentEnded(child: ResolvedResource): boolean {
    const parent = child.resolvedParent
    return parent !== undefined && this.#ended.has(parent.resource)
  }

  /**
   * The parents `child` is read for this run, in the order they are read: by version then key
   * when the child keeps a watermark (so that `after` names a prefix), else as the walk saw them.
   */
  parentsFor(child: ResolvedResource, state: ResourceState | undefined): ParentRef[] {
    const refs = [...(this.#refs.get(child.name)?.values() ?? [])]
    if (!this.tracksProgress(child)) return refs
    const sorted = refs.sort(compareRefs)
    if (this.#mode === 'reconcile') return sorted
    const { through, after, read = {} } = parentProgressOf(state)
    const floor = after ? Date.parse(after.at) : through ? Date.parse(through) : undefined
    const past = (ref: ParentRef) =>
      floor === undefined ||
      Number.isNaN(floor) ||
      ref.version === undefined ||
      ref.version > floor ||
      (after !== undefined && ref.version === floor && ref.key > after.key)
    // Read by a window pass at this very version: nothing of it changed since.
    const known = (ref: ParentRef) =>
      ref.version !== undefined && read[ref.key] === new Date(ref.version).toISOString()
    return sorted.filter((ref) => past(ref) && !known(ref))
  }

  /** Whether the child keeps a watermark of its parents' update times in its state. */
  tracksProgress(child: ResolvedResource): boolean {
    const parent = child.resolvedParent
    // A backfill re-reads the children of the parents it reloads, and moves no watermark.
    return (
      this.#mode !== 'backfill' &&
      parent?.refresh === 'changed' &&
      parent.updatedAtField !== undefined
    )
  }

  /**
   * The child's progress once the parents of `read` (a prefix of `parentsFor`, in order) had
   * their children committed: `complete` when that is all of them this run. A pass over part
   * of the parents (a window) moves nothing.
   */
  progressAfter(
    child: ResolvedResource,
    state: ResourceState | undefined,
    read: readonly ParentRef[],
    complete: boolean,
  ): ParentProgress {
    const before = parentProgressOf(state)
    // Parents outside the window (or after a failed page, or all of them when the parent was
    // not walked) were not looked at: neither mark may pass them, but the ones read are
    // noted, so that the next window pass does not read them again.
    if (this.#partial.has(child.name) || !this.parentEnded(child)) {
      const noted = { ...before.read }
      for (const r of read) if (r.version !== undefined) noted[r.key] = iso(r.version)
      return { ...before, ...(Object.keys(noted).length > 0 && { read: noted }) }
    }
    // A reconcile reads old parents too: stopped part way, it has not moved the watermark.
    if (this.#mode === 'reconcile' && !complete) return before
    const versions = read.flatMap((r) => (r.version === undefined ? [] : [r.version]))
    if (this.#mode === 'reconcile') {
      // Every parent was read: the watermark is the newest of them (within the bound).
      const all = versions.length > 0 ? Math.max(...versions) : undefined
      return all === undefined ? before : { through: iso(Math.min(all, this.#bound)) }
    }
    const last = [...read].reverse().find((r) => r.version !== undefined)
    if (complete) {
      // Every parent past the marks was read now or, at its version, by a window pass.
      const through = Math.max(
        before.through ? Date.parse(before.through) : -Infinity,
        before.after ? Date.parse(before.after.at) : -Infinity,
        ...versions,
        ...Object.values(before.read ?? {}).map((v) => Date.parse(v)),
      )
      return Number.isFinite(through) ? { through: iso(Math.min(through, this.#bound)) } : {}
    }
    if (!last) return before
    // Past the bound, what the pass read is read again: the parents the walk saw before
    // their last update are among them.
    const after =
      last.version! > this.#bound
        ? { at: iso(this.#bound), key: '' }
        : { at: iso(last.version!), key: last.key }
    return {
      ...(before.through !== undefined && { through: before.through }),
      after,
      ...(before.read && { read: before.read }),
    }
  }
}
