import type { z } from 'zod'
import type { Setting } from '../config/env.js'
import type { PaginatorConfig } from './paginators/index.js'
import type { AuthDeclaration } from './auth.js'

/** A strategy by name, or with its settings (`{ type: 'updated_since', field, param }`). */
export type IncrementalDeclaration =
  | 'full_refresh'
  | 'resume'
  | 'page_lookback'
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

/**
 * A resource read once per record of another (its parent): `/teams/{id}/members` for each
 * team. Its rows carry the parent's key; it is re-read for the parents a run merged (changed
 * or new), and for every parent by `reconcile`.
 */
export interface ParentDefinition {
  /** The parent resource; declared before this one. */
  readonly resource: string
  /** Field of the parent record whose value fills the path. Default the parent's primary key. */
  readonly field?: string
  /** Placeholder in this resource's path, `{name}`. Default `id`. */
  readonly placeholder?: string
  /** Field added to each child record, holding the parent's value; e.g. `team_id`. */
  readonly key: string
  /**
   * The child's key in the warehouse: the parent's value and the child's own key together
   * (the same user in two teams is two rows), as the JSON text `["t1","u1"]`. Default
   * `<key>_<primaryKey>`, e.g. `team_id_user_id`.
   */
  readonly compositeKey?: string
}

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
   * (needs `createdAtField`), or `{ type: 'updated_since', field, param }`; see
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
}

/** Declares a resource; an identity function that keeps the schema's type. */
export const defineResource = <S extends z.ZodType>(
  resource: ResourceDefinition<S>,
): ResourceDefinition<S> => resource

/** Declares a source; an identity function. */
export const defineSource = (source: SourceDefinition): SourceDefinition => source
