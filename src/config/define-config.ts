import type { ChildRefresh, ListOrder, SourceDefinition } from '../source/define-source.js'
import type { PaginatorConfig } from '../source/paginators/index.js'
import type { SchemaContract } from '../normalize/schema-contract.js'
import type { Setting } from './env.js'

export type { Setting } from './env.js'

/** Per-resource overrides. */
export interface ResourceConfig {
  /** Set to false to skip the resource. Default true. */
  readonly enabled?: boolean
  /** How the endpoint pages, replacing the source's default (e.g. `{ type: 'page' }`). */
  readonly paginator?: PaginatorConfig
  /**
   * Days of recent records `run` re-reads to pick up their updates (resources with a
   * created-at field only). Default 14; 0 = only new records.
   */
  readonly lookbackDays?: number
  /**
   * Query parameters the endpoint accepts for a created-at range, sent by `backfill` with ISO
   * dates (e.g. `{ from: 'created_after', to: 'created_before' }`). Default none: Thena
   * documents no such filter, so `backfill` scans and filters client-side.
   */
  readonly backfillParams?: { readonly from?: string; readonly to?: string }
  /** Schema contract for this resource, overriding the pipeline's. */
  readonly contract?: Partial<SchemaContract>
  /** The endpoint's path under the base URL, replacing the source's (e.g. `/v2/tickets`). Default the source's. */
  readonly path?: string
  /** Where the records sit in the response (`'data'`, `'data.results'`, `''` for a bare array). Default the source's. */
  readonly recordsPath?: string | readonly string[]
  /** Query parameters merged over the source's (`env()` values that read empty are left out). Default none. */
  readonly params?: Readonly<Record<string, Setting>>
  /**
   * A child resource: which parents a run reads it for, `changed` (new or updated parents) or
   * `always` (every parent, each run: children that change without their parent). Default the
   * source's.
   */
  readonly refresh?: ChildRefresh
  /** How the list is ordered by creation time (`oldest_first`, `newest_first`, `unordered`), for `backfill`. Default the source's. */
  readonly order?: ListOrder
  /**
   * Keep every version of each record that a run observes in `<table>_history`: a new version
   * when the record's content changed, the previous one closed (README, "History"). `true` or
   * `false`. Default the resource's declaration, else false.
   */
  readonly history?: boolean
}

/** When `schedule` runs a pipeline. */
export interface ScheduleConfig {
  /** Cron expression (5 or 6 fields) for `run`, e.g. `0,30 * * * *` (every half hour). Default none. */
  readonly cron?: Setting
  /** Cron expression for `reconcile`, e.g. `0 3 * * *`. Default none. */
  readonly reconcile?: Setting
  /** IANA time zone of both expressions. Default UTC. */
  readonly timezone?: Setting
}

/** HTTP engine settings. */
export interface HttpConfig {
  /** Requests in flight at once. Default 4. */
  readonly concurrency?: number
  /** Spacing budget for APIs that send no rate-limit headers; 0 = none. Default: the source's, else 0. */
  readonly requestsPerMinute?: number
  /** Retries of one request (5xx, timeouts, dropped connections, bad bodies). Default 8. */
  readonly maxRetries?: number
  /** Per-request timeout in ms. Default 30000. */
  readonly timeoutMs?: number
  /** First retry delay in ms, doubled per retry with jitter. Default 250. */
  readonly backoffMs?: number
  /**
   * Longest single wait of a run, in seconds: a rate-limit reset (429 `Retry-After`,
   * `X-RateLimit-Reset`), a retry backoff, or the turn on a DuckDB file shared in this process.
   * A longer one ends the run (exit 4, `wait_too_long`) with its batches kept; the next run
   * resumes. A whole number ≥ 0; 0 = no limit. Default 300.
   */
  readonly maxWaitSeconds?: number
}

/** How `reconcile` guards against an API that returns too little. */
export interface ReconcileConfig {
  /**
   * Largest share of a table's rows one reconcile may soft-delete; beyond it (or when it would
   * mark every row) the reconcile fails and marks nothing, unless run with
   * `--allow-mass-delete`. A number in (0, 1]. Default 0.5.
   */
  readonly maxDeleteShare?: number
}

/** Settings of a DuckDB destination (ignored for Postgres). */
export interface DuckDbSettings {
  /**
   * Buffer-pool limit of a load, in DuckDB's size syntax (`256MB`, `2GB`, `1.5GiB`), at least
   * `64MB`. Default `THENA_DUCKDB_MEMORY_LIMIT`, else `256MB`. `query`, `status` and `schema`
   * are not bounded by it.
   */
  readonly memoryLimit?: Setting
  /** Where DuckDB spills beyond the limit. Default `THENA_DUCKDB_TEMP_DIRECTORY`, else `<file>.tmp`. */
  readonly tempDirectory?: Setting
}

/** Where a pipeline's failures and schema changes are announced (README, "Notifications"). */
export interface NotifyConfig {
  /**
   * An http(s) URL that receives a JSON POST when a run fails, a schema contract stops a run,
   * or a run records a new table or column. Default `THENA_NOTIFY_URL`, else none.
   */
  readonly url?: Setting
}

/** One pipeline: a source, a destination, and how to run it. */
export interface PipelineConfig {
  /**
   * Whether commands run this pipeline: a boolean, or a setting that enables it when it reads
   * non-empty, e.g. `env('THALIAN_API_KEY', '')`: the pipeline exists once its key is set.
   * Default true.
   */
  readonly enabled?: boolean | Setting
  /** What to read. Default: the Thena bolt source (`sources/thena`). */
  readonly source?: SourceDefinition
  /**
   * API base URL, overriding the source's `client.baseUrl` (for bolt `THENA_BASE_URL`, else
   * `https://bolt.thena.ai`). Required for a source without `client`.
   */
  readonly baseUrl?: Setting
  /**
   * The auth secret, overriding the one the source's `client.auth` declares (bolt's bearer
   * token: `THENA_API_TOKEN`; an api_key's key; basic's password). Required for a source
   * without `client`; use `env('THENA_API_TOKEN')`, never a literal in a committed file.
   */
  readonly token?: Setting
  /** `duckdb:PATH` or a `postgres://` URL. Default `duckdb:./thena.duckdb`. */
  readonly destination?: Setting
  /** Schema (dataset) the tables land in. Default `thena`. */
  readonly dataset?: string
  /** DuckDB memory limit and spill directory, when the destination is a DuckDB file. */
  readonly duckdb?: DuckDbSettings
  /** Per-resource overrides, by resource name. */
  readonly resources?: Readonly<Record<string, ResourceConfig>>
  readonly http?: HttpConfig
  /** Pages committed per transaction. Default 25 (2500 records at the default page size). */
  readonly batchPages?: number
  /**
   * What to do with new fields and type changes: `evolve` (default), `freeze`, `discard_row`
   * or `discard_value`, separately for `newColumns` and `typeChanges`; per resource overridable.
   */
  readonly contract?: Partial<SchemaContract>
  /** Cron schedule used by `thena-sync schedule`. */
  readonly schedule?: ScheduleConfig
  /** The mass-delete guard of `reconcile`. */
  readonly reconcile?: ReconcileConfig
  /** Notifications of failed runs and schema changes; overrides `THENA_NOTIFY_URL`. */
  readonly notify?: NotifyConfig
}

/** The whole `pipelines.config.ts`. */
export interface ThenaSyncConfig {
  /** Pipelines by name; `run` without `--pipeline` runs them all. */
  readonly pipelines: Readonly<Record<string, PipelineConfig>>
}

/**
 * Declares the configuration; an identity function that gives editors the types.
 *
 * @example
 * export default defineConfig({
 *   pipelines: { thena: { token: env('THENA_API_TOKEN'), destination: env('THENA_DESTINATION', 'duckdb:./thena.duckdb') } },
 * })
 */
export const defineConfig = (config: ThenaSyncConfig): ThenaSyncConfig => config
