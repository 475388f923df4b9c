import { pageDigest } from '../../normalize/normalization-fingerprint.js'
import { STATE_VERSION } from '../../state/resource-state.js'
import type { LookbackPage, PageAnchor, ResourceState } from '../../state/resource-state.js'
import type { PagePosition } from '../paginators/paginator.js'
import type { ListOrder } from '../define-source.js'
import { createdAtOf, positionKey } from './strategy.js'
import type { FetchedPage, PageObservation, PlannedResource, ResourcePlan } from './strategy.js'

/** What a strategy decides for one walk; `WalkPlan` carries it out page by page. */
export interface WalkPlanSettings {
  readonly start: PagePosition | undefined
  /** Extra query parameters (date filters). Default none. */
  readonly query?: Readonly<Record<string, string>>
  /** False for backfill: it never moves the live state. */
  readonly writeState: boolean
  /** Whether the committed state keeps the position the next run resumes from. */
  readonly savePosition: boolean
  /** Pages holding records created at or after `cutoff` are remembered, with their digests. */
  readonly lookback?: { readonly field: string; readonly cutoff: number }
  /** Digests of pages as last committed, by position: an equal page is not merged again. */
  readonly unchanged?: ReadonlyMap<string, string>
  /**
   * Backfill: only records created in [from, to). The walk stops at the first one past the
   * range's far end when the list is ordered (oldest first: past `to`; newest first: before
   * `from`). Default order `oldest_first`.
   */
  readonly range?: {
    readonly field: string
    readonly from?: number
    readonly to?: number
    readonly order?: ListOrder
  }
  /** See `ResourcePlan.covers`. */
  readonly covers?: (records: readonly unknown[]) => boolean
  /** See `ResourcePlan.before`. */
  readonly before?: ResourceState
  /**
   * Every page's records are digested and the digests kept in the state, by position
   * (`incremental.pages`); a page equal to `known` at its position is not merged, unless
   * `mergeAll` (a reconcile writes everything, and records the digests). Default none.
   */
  readonly digestAll?: {
    readonly known: ReadonlyMap<string, string>
    readonly mergeAll: boolean
    /** Put before each position key (`window:...`): digests of a filtered walk are its own. Default none. */
    readonly prefix?: string
  }
  /** See `ResourcePlan.partial`. */
  readonly partial?: boolean
  /** Sees every record kept (a strategy's own bookkeeping, e.g. the newest update time). */
  readonly onRecord?: (record: unknown) => void
  /** Adds a strategy's own fields to each checkpoint. */
  readonly finishState?: (state: ResourceState, last: boolean) => ResourceState
}

/**
 * The page-by-page half of every strategy: range filtering, page digests, the lookback window,
 * the resume position (with its anchor for positions that shift), and the checkpoint.
 */
export class WalkPlan implements ResourcePlan {
  readonly start: PagePosition | undefined
  readonly query: Readonly<Record<string, string>>
  readonly covers?: (records: readonly unknown[]) => boolean
  readonly before?: ResourceState
  readonly partial?: boolean
  readonly #resource: PlannedResource
  readonly #settings: WalkPlanSettings
  #state: ResourceState
  #lookback: LookbackPage[] = []
  /** Page numbers: the last page that held records, re-read by the next run, and its anchor. */
  #resumeAt: { position: PagePosition | undefined; anchor: PageAnchor } | undefined
  #fingerprint: string | undefined
  /** `digestAll`: the digest of each page of this walk, by position key. */
  readonly #pages = new Map<string, string>()
  readonly #eta: EtaEstimate

  constructor(
    resource: PlannedResource,
    state: ResourceState | undefined,
    settings: WalkPlanSettings,
  ) {
    this.#resource = resource
    this.#settings = settings
    this.start = settings.start
    this.query = settings.query ?? {}
    if (settings.covers) this.covers = settings.covers
    if (settings.before) this.before = settings.before
    if (settings.partial) this.partial = true
    this.#state = settings.before ?? state ?? { version: STATE_VERSION, records: 0 }
    this.#eta = new EtaEstimate(settings.range)
  }

  observe(page: FetchedPage): PageObservation {
    const { lookback, range, unchanged: digests } = this.#settings
    // Hashed only for pages of the window: hashing every page of a full walk would cost
    // about as much as validating it.
    const at = positionKey(page.position)
    const all = this.#settings.digestAll
    if (all) {
      const key = `${all.prefix ?? ''}${at}`
      // The records, not the body: an envelope's timestamp or request id changes every time.
      const digest = this.#digest(JSON.stringify(page.records))
      this.#pages.set(key, digest)
      if (!all.mergeAll && all.known.get(key) === digest) {
        return { records: [], unchanged: page.records.length, stop: false }
      }
    }
    const stored = digests?.get(at)
    const digest = stored === undefined ? undefined : this.#digest(page.text)
    const unchanged = stored !== undefined && digest === stored
    const field = (range ?? lookback)?.field
    let newest: number | undefined
    let stop = false
    const kept: unknown[] = []
    for (const record of page.records) {
      const created = field === undefined ? undefined : createdAtOf(record, field)
      if (created !== undefined) {
        newest = newest === undefined || created > newest ? created : newest
        this.#eta.observe(created)
        const order = range?.order ?? 'oldest_first'
        if (range?.to !== undefined && created >= range.to) {
          if (order === 'oldest_first') stop = true
          continue
        }
        if (range?.from !== undefined && created < range.from) {
          if (order === 'newest_first') stop = true
          continue
        }
      }
      // Its records were merged when this digest was committed.
      if (unchanged) continue
      kept.push(record)
      this.#settings.onRecord?.(record)
    }
    if (lookback && newest !== undefined && newest >= lookback.cutoff) {
      this.#lookback = this.#lookback.filter((p) => positionKey(p.position) !== at)
      this.#lookback.push({
        position: page.position ?? null,
        lastCreatedAt: new Date(newest).toISOString(),
        digest: digest ?? this.#digest(page.text),
      })
    }
    if (this.#resource.paginator.positionsShift && page.records.length > 0)
      this.#resumeAt = { position: page.position, anchor: anchorOf(page.records, this.#resource) }
    return { records: kept, unchanged: unchanged ? page.records.length : 0, stop }
  }

  checkpoint(page: FetchedPage, loaded: number, last: boolean): ResourceState | undefined {
    const shifts = this.#resource.paginator.positionsShift
    const state = this.#state
    // After the last page the walk resumes by re-reading that page: new records land there.
    const position = shifts
      ? this.#resumeAt
        ? this.#resumeAt.position
        : (state.position ?? undefined)
      : (page.next ?? page.position)
    const now = new Date().toISOString()
    let next: ResourceState = {
      ...state,
      version: STATE_VERSION,
      ...(this.#settings.savePosition && position && { position }),
      anchor: shifts ? (this.#resumeAt?.anchor ?? state.anchor) : undefined,
      ...(this.#settings.lookback && { lookback: [...this.#lookback] }),
      records: state.records + loaded,
      updatedAt: now,
      ...(last && { completedAt: now }),
    }
    const all = this.#settings.digestAll
    if (all) {
      // A walk that ended knows every page of its own (prefix); one cut short keeps the
      // digests it did not reach.
      const prefix = all.prefix ?? ''
      const others = [...all.known].filter(([k]) => !last || !isOwn(k, prefix))
      const pages = new Map([...others, ...this.#pages])
      next = { ...next, incremental: { ...next.incremental, pages: Object.fromEntries(pages) } }
    }
    if (this.#settings.finishState) next = this.#settings.finishState(next, last)
    if (!this.#settings.writeState) return undefined
    return (this.#state = next)
  }

  eta(): number | undefined {
    return this.#eta.seconds()
  }

  #digest(text: string): string {
    return pageDigest((this.#fingerprint ??= this.#resource.fingerprint()), text)
  }
}

/**
 * Whether a digest key is of a walk with `prefix` (no prefix: of the whole list, whose keys
 * are positions as JSON: `null`, `{...}`, never `window:`).
 */
const isOwn = (key: string, prefix: string): boolean =>
  prefix === '' ? !key.startsWith('window:') : key.startsWith(prefix)

/** The first and last record ids of a page, and the creation time of its last record. */
export function anchorOf(records: readonly unknown[], resource: PlannedResource): PageAnchor {
  const idOf = (record: unknown) => String(fieldOf(record, resource.primaryKey))
  const last = records.at(-1)
  const created = resource.createdAtField ? createdAtOf(last, resource.createdAtField) : undefined
  return {
    ids: [...new Set([idOf(records[0]), idOf(last)])],
    ...(created !== undefined && { createdAt: new Date(created).toISOString() }),
  }
}

/**
 * Whether a page starts at or before the anchored page: it holds one of its records, or its
 * first record was created before the anchor's last one (the list is oldest first).
 */
export function coversAnchor(
  records: readonly unknown[],
  resource: PlannedResource,
  anchor: PageAnchor,
): boolean {
  const ids = new Set(anchor.ids)
  if (records.some((r) => ids.has(String(fieldOf(r, resource.primaryKey))))) return true
  if (anchor.createdAt === undefined || !resource.createdAtField) return false
  const first = createdAtOf(records[0], resource.createdAtField)
  return first !== undefined && first < Date.parse(anchor.createdAt)
}

const fieldOf = (record: unknown, field: string): unknown =>
  typeof record === 'object' && record !== null && !Array.isArray(record)
    ? (record as Record<string, unknown>)[field]
    : undefined

/** Time left of a walk over a created-at range, from how fast creation times advance. */
class EtaEstimate {
  readonly #to: number | undefined
  readonly #started = Date.now()
  #first: number | undefined
  #latest: number | undefined

  constructor(range: WalkPlanSettings['range']) {
    this.#to = range ? (range.to ?? Date.now()) : undefined
  }

  observe(created: number): void {
    this.#first ??= created
    this.#latest = created
  }

  seconds(): number | undefined {
    if (this.#to === undefined || this.#first === undefined || this.#latest === undefined)
      return undefined
    const covered = this.#latest - this.#first
    const left = this.#to - this.#latest
    if (covered <= 0) return undefined
    return Math.max(0, Math.round(((Date.now() - this.#started) / 1000) * (left / covered)))
  }
}
