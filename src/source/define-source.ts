import type { z } from 'zod'
import type { Setting } from '../config/env.js'
import type { PaginatorConfig } from './paginators/index.js'
import type { AuthDeclaration } from './auth.js'
import type { ViewDeclaration } from '../views/view-declaration.js'

/** A strategy by name, or with its settings (`{ type: 'updated_since', field, param }`). */
export type IncrementalDeclaration =
  | 'full_refresh'
  | 'resume'
  | 'page_lookback'
  | 'page_digest'
  | {
      readonly type: 'updated_since'
      readonly field: string
      readonly param: string
      readonly format?: 'iso' | 'unix'
      readonly lagSeconds?: number
      readonly initial?: string
    }
  | { readonly type: string; readonly [setting: string]: unknown }

/** How a resource is kept fresh between runs (older spelling of `incremental`). */
export const SYNC_MODES = ['incremental', 'full'] as const
export type SyncMode = (typeof SYNC_MODES)[number]

/**
 * Records referenced by a field of another resource and fetched one by one when they are not
 * already loaded (e.g. users assigned to requests but missing from `/users`).
 */
export interface DependentDefinition {
  /** Resource (table) the fetched records land in. */
  readonly resource: string
  /** Field of the parent record holding the referenced id. */
  readonly field: string
  /** Path of the single-record endpoint; `{id}` is replaced by the id. */
  readonly path: string
  /** Where the record sits in the response. */
  readonly recordPath: readonly string[]
}

/** What one response holds: `list`, an array of records; `snapshot`, one object. */
export const RESOURCE_KINDS = ['list', 'snapshot'] as const
export type ResourceKind = (typeof RESOURCE_KINDS)[number]

/** When a child resource is read again: see `ParentDefinition.refresh`. */
export const CHILD_REFRESH = ['changed', 'always'] as const
export type ChildRefresh = (typeof CHILD_REFRESH)[number]

/**
 * A resource read once per record of another (its parent): `/teams/{teamId}/members` for each
 * team. Its rows carry the parent's values; it is re-read for the parents that changed (see
 * `refresh`), and for every parent by `reconcile`.
 */
export interface ParentDefinition {
  /** The parent resource; declared before this one. */
  readonly resource: string
  /**
   * Fields added to each child record from its parent's record, `{ childField: parentField }`,
   * e.g. `{ ticketId: 'id' }`; each also fills the `{childField}` placeholder of the path and
   * the parameters (`entityId: '{ticketId}'`). Give either `fields` or `key`.
   */
  readonly fields?: Readonly<Record<string, string>>
  /** One field added to each child record, holding the parent's value; e.g. `team_id`. */
  readonly key?: string
  /** With `key`: the field of the parent record whose value fills the path. Default the parent's primary key. */
  readonly field?: string
  /** With `key`: the placeholder in this resource's path, `{name}`. Default `id`. */
  readonly placeholder?: string
  /**
   * The child's key in the warehouse: the parent's values and the child's own key together
   * (the same user in two teams is two rows), as the JSON text `["t1","u1"]`. Default
   * `<key>_<primaryKey>` (with `fields`: their names joined by `_`, then the primary key), e.g.
   * `team_id_user_id`; `false` keys rows by the child's own key alone (ids unique across
   * parents, such as comment ids).
   */
  readonly compositeKey?: string | false
  /**
   * Which parents a run reads children for. `changed` (default): parents new or changed since
   * their children were last read: by the parent's `updatedAtField` when it declares one (a
   * watermark kept in the child's state, so an interrupted run resumes where it stopped), else
   * the parents the run merged. `always`: every parent the parent's walk saw (children that
   * change without their parent, such as a workflow's executions).
   */
  readonly refresh?: ChildRefresh
}

/**
 * A resource read once per value of a list, e.g. one request per attribute kind: each value
 * fills `{placeholder}` in the path and parameters.
 */
export interface ForEachDefinition {
  /** Placeholder name, `{name}` in the path or a parameter value. */
  readonly placeholder: string
  /** The values, each read in turn. At least one. */
  readonly values: readonly string[]
  /** Field of each record that gets the value when the record lacks it. Default the placeholder. */
  readonly field?: string
}

/**
 * An answer that means the account may not read this resource (a plan's tier): the resource
 * is skipped with one line, and the others load.
 */
export interface SkipRule {
  /** HTTP status, e.g. 403. */
  readonly status: number
  /** Text the body must contain (case-insensitive), e.g. `tier`. Default: any body. */
  readonly bodyIncludes?: string
}

/** How a list is ordered by creation time, as far as `backfill` may rely on it. */
export const LIST_ORDERS = ['oldest_first', 'newest_first', 'unordered'] as const
export type ListOrder = (typeof LIST_ORDERS)[number]

/** One API endpoint landing in one table (plus its child tables). */
export interface ResourceDefinition<S extends z.ZodType = z.ZodType> {
  /** Table name in the warehouse: snake_case. */
  readonly name: string
  /** Path under the base URL, e.g. `/rest/v2/requests`. */
  readonly path: string
  /** The zod contract of one record. */
  readonly schema: S
  /** Where the records sit in the response: `['data', 'results']` or `'data.results'`; `[]` for a bare array. */
  readonly recordsPath: readonly string[] | string
  /** Field that identifies a record, e.g. `id` or `platform`. Snapshots: `snapshotKey`. */
  readonly primaryKey: string
  /** How the endpoint pages. Default the source client's paginator, else one request. */
  readonly paginator?: PaginatorConfig
  /**
   * How the resource stays fresh, by strategy name: `full_refresh`, `resume`, `page_lookback`
   * (needs `createdAtField`), `page_digest` (the whole list, changed pages merged), or `{ type: 'updated_since', field, param }`; see
   * src/source/incremental. Default: from `sync`, else `full_refresh`.
   */
  readonly incremental?: IncrementalDeclaration
  /**
   * Older spelling of `incremental`: `incremental` is `page_lookback` with a `createdAtField`,
   * else `resume`; `full` is `full_refresh`. Default none.
   */
  readonly sync?: SyncMode
  /**
   * Field holding the record's creation time (ISO), for a list served oldest first. Enables
   * the lookback re-scan of `run` and the date range of `backfill`. Default none.
   */
  readonly createdAtField?: string
  /** Records this resource references and that must be fetched one by one when missing. */
  readonly dependents?: readonly DependentDefinition[]
  /**
   * `list` (default): the records path holds an array. `snapshot`: it holds one object, kept
   * as one row per run, keyed by the run's start time in `snapshotKey`.
   */
  readonly kind?: ResourceKind
  /** Snapshots: the field holding the run's start time (ISO), their key. Default `snapshot_at`. */
  readonly snapshotKey?: string
  /** Read once per record of a parent resource; default none. */
  readonly parent?: ParentDefinition
  /** Read once per value of a list (`{placeholder}` filled with each); default none. */
  readonly forEach?: ForEachDefinition
  /**
   * Field holding the record's deletion time (ISO) when the API keeps deleted records in its
   * lists (`deletedAt`): a record with one is kept with `_thena_deleted_at` set to it, without
   * waiting for `reconcile`. Default none.
   */
  readonly deletedAtField?: string
  /**
   * Field holding the record's last update time (ISO). With it, child resources are re-read
   * only for records whose update time passed the children's watermark. Default none.
   */
  readonly updatedAtField?: string
  /**
   * How the list is ordered by `createdAtField`: `oldest_first` lets `backfill` stop at the
   * first record past `--to`, `newest_first` at the first before `--from`; `unordered` reads
   * it all. Default `oldest_first`.
   */
  readonly order?: ListOrder
  /** Answers that skip the resource instead of failing the run (tier 403s). Default none. */
  readonly skipOn?: readonly SkipRule[]
  /**
   * Keep every observed version of each record in `<table>_history` (valid from/to, current
   * flag), written with the rows; a pipeline's `resources.NAME.history` overrides it. Default
   * false: no hash is computed and no history table exists.
   */
  readonly history?: boolean
  /** HTTP method. Default `GET`; `POST` sends `body` (and a body cursor) as JSON. */
  readonly method?: 'GET' | 'POST'
  /**
   * JSON body of a POST; a top-level value may be `env('NAME', '')`, and one that reads empty
   * is left out. Default `{}`.
   */
  readonly body?: Readonly<Record<string, unknown>>
  /** Query parameters sent with every request; `env()` values that read empty are left out. Default none. */
  readonly params?: Readonly<Record<string, Setting>>
  /** Credentials of this resource instead of the client's (another token). Default the client's. */
  readonly auth?: AuthDeclaration
  /**
   * Whether the resource is read: a boolean, or a setting that enables it when it reads
   * non-empty (`env('MY_SESSION_TOKEN', '')`). Default true.
   */
  readonly enabled?: boolean | Setting
}

/** A budget for an API that sends no rate-limit headers. */
export interface RateLimitBudget {
  /** Requests started in any minute, at most; 0 or absent = no limit. */
  readonly requestsPerMinute?: number
  /** Requests started in any hour (a sliding window), at most; 0 or absent = no limit. */
  readonly requestsPerHour?: number
}

/** How a source's API is reached: where, with which credentials, headers and budget. */
export interface SourceClient {
  /** API base URL, e.g. `env('THENA_BASE_URL', 'https://bolt.thena.ai')`; a pipeline's `baseUrl` overrides it. */
  readonly baseUrl: Setting
  /** How requests authenticate; a pipeline's `token` overrides its secret. */
  readonly auth: AuthDeclaration
  /** Headers sent with every request (auth headers win on a clash). Default none. */
  readonly headers?: Readonly<Record<string, string>>
  /** Paginator of resources that declare none. Default none (each resource declares its own). */
  readonly paginator?: PaginatorConfig
  /** Budget for an API without rate-limit headers; `http.requestsPerMinute` overrides it. */
  readonly rateLimit?: RateLimitBudget
}

/** A set of resources from one API. */
export interface SourceDefinition {
  /** The source's name, used in messages. */
  readonly name: string
  /** The resources it reads, each landing in its own table. */
  readonly resources: readonly ResourceDefinition[]
  /**
   * Where and how its API is reached. Without it a pipeline must give `baseUrl` and a bearer
   * `token` itself.
   */
  readonly client?: SourceClient
  /** Settings merged under each resource at resolution (the resource's own win). Default none. */
  readonly resourceDefaults?: Partial<Omit<ResourceDefinition, 'name' | 'path' | 'schema'>>
  /**
   * Views kept in the pipeline's dataset, refreshed after every successful run (see
   * src/views/); names unique and distinct from the tables'. Default none.
   */
  readonly views?: readonly ViewDeclaration[]
}

/** Declares a resource; an identity function that keeps the schema's type. */
export const defineResource = <S extends z.ZodType>(
  resource: ResourceDefinition<S>,
): ResourceDefinition<S> => resource

/** Declares a source; an identity function. */
export const defineSource = (source: SourceDefinition): SourceDefinition => source
