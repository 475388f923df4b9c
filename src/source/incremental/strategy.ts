import type { z } from 'zod'
import type { PagePosition, Paginator } from '../paginators/paginator.js'
import type { ResourceState } from '../../state/resource-state.js'
import type { ListOrder } from '../define-source.js'
import { ConfigError } from '../../errors.js'
import { closestMatch } from '../../config/closest-match.js'

/** What a run does: `run` (incremental), `backfill` (a created-at range), `reconcile`. */
export const RUN_MODES = ['run', 'backfill', 'reconcile'] as const
export type RunMode = (typeof RUN_MODES)[number]

/** One page as the walk fetched it, with where it was fetched from and where the next one is. */
export interface FetchedPage {
  readonly records: readonly unknown[]
  /** The position this page was fetched at (undefined = the first page). */
  readonly position: PagePosition | undefined
  /** The position of the next page, or undefined when this was the last. */
  readonly next: PagePosition | undefined
  /** The response body as received. */
  readonly text: string
  /** The API answered 404 and the walk took it for an empty list (a child's parent gone). */
  readonly notFound?: boolean
}

/** What a plan keeps of a page: the records to load, and whether the walk ends after it. */
export interface PageObservation {
  /** Records to normalize and merge (a range or an unchanged digest may leave out some or all). */
  readonly records: readonly unknown[]
  /** Records on the page left out because the warehouse already holds them as they are. */
  readonly unchanged: number
  /** The walk stops after this page (a record past the backfill range: the list is oldest first). */
  readonly stop: boolean
}

/** What a strategy needs to know about the resource it plans. */
export interface PlannedResource {
  readonly name: string
  readonly primaryKey: string
  readonly paginator: Paginator
  /** Field holding each record's creation time (ISO), for a list served oldest first. */
  readonly createdAtField?: string
  /** Days of recent records `run` re-reads (only with `createdAtField`). */
  readonly lookbackDays: number
  /** How the list is ordered by `createdAtField` (`backfill` stops early when it is). Default `oldest_first`. */
  readonly order?: ListOrder
  /** Query parameters `backfill` sends its range in, when the API filters by creation time. */
  readonly backfillParams: { readonly from?: string; readonly to?: string }
  /** Fingerprint of how the resource's records become rows (page digests are taken under it). */
  fingerprint(): string
}

/** The run a resource is planned for. */
export interface PlanContext {
  readonly mode: RunMode
  /** The resource's committed state (undefined: never loaded, or reset). */
  readonly state: ResourceState | undefined
  /** Backfill: created-at range, `from` inclusive, `to` exclusive; open ends when absent. */
  readonly range?: { readonly from?: Date; readonly to?: Date }
  /** Milliseconds since the epoch, for the lookback cutoff. */
  readonly now: number
}

/** How one resource is walked in one run: where it starts, what it keeps, what it commits. */
export interface ResourcePlan {
  /** Where the walk starts (undefined = the first page). */
  readonly start: PagePosition | undefined
  /** Extra query parameters sent with every page (date filters). */
  readonly query: Readonly<Record<string, string>>
  /**
   * For positions that shift when the source deletes: whether a page's records cover what the
   * walk must not skip. Checked where the walk resumes; absent = no check.
   */
  readonly covers?: (records: readonly unknown[]) => boolean
  /**
   * The walk sees only part of the list (a filter window): children of the records it sees
   * are read, but their watermark does not move (parents outside it were not looked at).
   */
  readonly partial?: boolean
  /** A state to commit before the walk begins (backfill forgetting digests); absent = none. */
  readonly before?: ResourceState
  /** Reads a page as it arrives. */
  observe(page: FetchedPage): PageObservation
  /**
   * The state to commit with the batch ending at `page` (`loaded` root records; `last` when the
   * walk ends with it), or undefined when this run writes no state (backfill).
   */
  checkpoint(page: FetchedPage, loaded: number, last: boolean): ResourceState | undefined
  /** Estimated seconds left, when the plan can tell (a backfill range). */
  eta(): number | undefined
}

/** A named way of keeping a resource fresh between runs. */
export interface IncrementalStrategy<C = unknown> {
  /** Name a resource declares it by (`incremental: 'page_lookback'`). */
  readonly type: string
  /** Checks the declaration's settings; throws a one-line `ConfigError` naming `field`. */
  parse(declaration: unknown, field: string): C
  plan(resource: PlannedResource, config: C, context: PlanContext): ResourcePlan
}

const STRATEGIES = new Map<string, IncrementalStrategy<never>>()

/** Makes a strategy declarable by its type name. */
export function registerStrategy<C>(strategy: IncrementalStrategy<C>): void {
  STRATEGIES.set(strategy.type, strategy as IncrementalStrategy<never>)
}

/** A strategy and its parsed settings, ready to plan runs. */
export interface ResolvedStrategy {
  readonly type: string
  plan(resource: PlannedResource, context: PlanContext): ResourcePlan
}

/** Resolves a declaration (`'resume'` or `{ type: 'updated_since', ... }`) against the registry. */
export function resolveStrategy(declaration: unknown, field: string): ResolvedStrategy {
  const type =
    typeof declaration === 'string'
      ? declaration
      : typeof declaration === 'object' && declaration !== null
        ? (declaration as { type?: unknown }).type
        : undefined
  const strategy = typeof type === 'string' ? STRATEGIES.get(type) : undefined
  if (!strategy) {
    const known = [...STRATEGIES.keys()]
    const near = typeof type === 'string' ? closestMatch(type, known) : undefined
    throw new ConfigError(
      `${field}: expected one of ${known.map((k) => `\`${k}\``).join(', ')}${near ? `; did you mean \`${near}\`?` : ''}, got ${JSON.stringify(type ?? declaration)}`,
    )
  }
  const config = strategy.parse(typeof declaration === 'string' ? { type } : declaration, field)
  return {
    type: strategy.type,
    plan: (resource, context) => strategy.plan(resource, config as never, context),
  }
}

/**
 * A strategy's settings parsed by its zod schema: a problem is one `ConfigError` line naming
 * `field` and the setting (`...incremental.window.choices.0: expected ...`).
 */
export const settingsParser =
  <T>(schema: z.ZodType<T>) =>
  (declaration: unknown, field: string): T => {
    const parsed = schema.safeParse(declaration)
    if (parsed.success) return parsed.data
    const issue = parsed.error.issues[0]!
    throw new ConfigError(
      `${field}${issue.path.length ? `.${issue.path.join('.')}` : ''}: ${issue.message}`,
    )
  }

/** The creation time of a record in ms, or undefined when the field is missing or not a date. */
export function createdAtOf(record: unknown, field: string): number | undefined {
  const value =
    typeof record === 'object' && record !== null && !Array.isArray(record)
      ? (record as Record<string, unknown>)[field]
      : undefined
  const ms = typeof value === 'string' ? Date.parse(value) : NaN
  return Number.isNaN(ms) ? undefined : ms
}

/**
 * A position as a map key (undefined and null are both the first page), with object keys
 * sorted: a position read back from a JSON column may come with its keys reordered.
 */
export const positionKey = (position: PagePosition | null | undefined): string =>
  JSON.stringify(position ?? null, (_key, value: unknown) =>
    typeof value === 'object' && value !== null && !Array.isArray(value)
      ? Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : 1)))
      : value,
  )
