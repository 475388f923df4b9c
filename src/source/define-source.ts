import type { z } from 'zod'
import type { Setting } from '../config/env.js'
import type { PaginatorConfig } from '../http/paginator.js'
import type { AuthDeclaration } from './auth.js'

/** How a resource is kept fresh between runs. */
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

/** One API endpoint landing in one table (plus its child tables). */
export interface ResourceDefinition<S extends z.ZodType = z.ZodType> {
  /** Table name in the warehouse: snake_case. */
  readonly name: string
  /** Path under the base URL, e.g. `/rest/v2/requests`. */
  readonly path: string
  /** The zod contract of one record. */
  readonly schema: S
  /** Where the record array sits in the response; `[]` for a bare array. */
  readonly recordsPath: readonly string[]
  /** Field that identifies a record. Default `id`. */
  readonly primaryKey: string
  /** How the endpoint pages. */
  readonly paginator: PaginatorConfig
  /** `incremental` resumes from the saved position; `full` re-reads everything each run. */
  readonly sync: SyncMode
  /**
   * Field holding the record's creation time (ISO), for a list served oldest first. Enables
   * the lookback re-scan of `run` and the date range of `backfill`. Default none.
   */
  readonly createdAtField?: string
  /** Records this resource references and that must be fetched one by one when missing. */
  readonly dependents?: readonly DependentDefinition[]
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
