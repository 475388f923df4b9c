import { z } from 'zod'
import { ConfigError } from '../errors.js'
import { isEnvRef } from '../config/env.js'
import type { Setting } from '../config/env.js'
import { readSetting } from '../config/read-setting.js'
import { resolveAuth } from './auth.js'
import type { ResolvedAuth } from './auth.js'
import type { ResourceDefinition } from './define-source.js'
import { AutoPaginator } from './paginators/auto-paginator.js'
import { createPaginator } from './paginators/index.js'
import type { PaginatorConfig } from './paginators/index.js'
import { toJsonPath } from '../core/json-path.js'
import { EVOLVE } from '../normalize/schema-contract.js'
import type { SchemaContract } from '../normalize/schema-contract.js'
import { resolveStrategy } from './incremental/index.js'
import type { ResolvedStrategy } from './incremental/index.js'
import type { Paginator } from './paginators/paginator.js'

/** A resource with its settings settled (defaults and overrides applied). */
export interface ResolvedResource extends ResourceDefinition {
  readonly recordsPath: readonly string[]
  readonly resolvedPaginator: Paginator
  /** The incremental strategy that plans each run of the resource. */
  readonly strategy: ResolvedStrategy
  /** Days of recent records `run` re-reads (only with `createdAtField`). */
  readonly lookbackDays: number
  readonly backfillParams: { readonly from?: string; readonly to?: string }
  readonly contract: SchemaContract
  /** Whether a response holds one record (a snapshot) rather than an array. */
  readonly single: boolean
  /** A child's own key field, and the composite key field the engine fills from it. */
  readonly childKey?: { readonly field: string; readonly composite: string }
  readonly params: Readonly<Record<string, string>>
  readonly body: Readonly<Record<string, unknown>>
  /** The resource's own credentials, when it declares some. */
  readonly resolvedAuth?: ResolvedAuth
}

/** Where a resource's settings are read. */
export interface ResolveContext {
  readonly env: NodeJS.ProcessEnv
  /** False for commands that only read the warehouse: no secret is read. Default true. */
  readonly secrets?: boolean
}

/** Whether a declared `enabled` (a boolean or a setting) lets the resource be read. */
export function isEnabled(
  enabled: boolean | Setting | undefined,
  field: string,
  env: NodeJS.ProcessEnv,
): boolean {
  if (enabled === undefined || typeof enabled === 'boolean') return enabled !== false
  const { value } = readSetting(enabled, field, env, '')
  return value !== '' && value !== 'false' && value !== '0'
}

/** What a pipeline's config overrides of a resource (see `ResourceConfig`). */
export interface ResourceOverrides {
  readonly paginator?: PaginatorConfig
  readonly lookbackDays?: number
  readonly backfillParams?: { readonly from?: string; readonly to?: string }
  readonly contract?: Partial<SchemaContract>
}

const DEFAULT_LOOKBACK_DAYS = 14

/**
 * Settles one resource of a source: its paginator, strategy, records path, and what snapshots
 * and child resources add to each record (the run's time, the parent's key) and so to the
 * schema. `earlier` are the resources declared before it (a parent must be one of them).
 */
export function resolveResource(
  source: string,
  resource: ResourceDefinition,
  overrides: ResourceOverrides | undefined,
  pipelineContract: Partial<SchemaContract> | undefined,
  earlier: readonly ResourceDefinition[],
  context: ResolveContext = { env: process.env },
): ResolvedResource {
  const at = `source ${source}: resource ${resource.name}`
  const fail = (field: string, problem: string): never => {
    throw new ConfigError(`${at}: ${field}: ${problem}`)
  }
  const recordsPath = toJsonPath(resource.recordsPath)
  // A snapshot is one object: nothing in it is a paging field, whatever its name.
  const declared =
    overrides?.paginator ??
    resource.paginator ??
    (resource.kind === 'snapshot' ? { type: 'single_page' } : undefined)
  // Without a declaration, the first response decides (and the choice is logged).
  const paginator = declared
    ? createPaginator(declared, `${at}: paginator`)
    : new AutoPaginator(recordsPath, `${at}: paginator`)
  let schema = resource.schema
  let primaryKey = resource.primaryKey
  const extend = (field: string, type: z.ZodType, why: string) => {
    if (!(schema instanceof z.ZodObject))
      fail('schema', `${why} needs an object schema (z.object) to add \`${field}\` to`)
    schema = (schema as z.ZodObject).extend({ [field]: type })
  }
  let childKey: { field: string; composite: string } | undefined
  const kind = resource.kind ?? 'list'
  if (kind === 'snapshot') {
    primaryKey = resource.snapshotKey ?? 'snapshot_at'
    extend(primaryKey, z.string(), 'a snapshot')
  }
  if (resource.parent) {
    const parent = earlier.find((r) => r.name === resource.parent!.resource)
    if (!parent)
      fail(
        'parent.resource',
        `\`${resource.parent.resource}\` is not a resource declared before this one`,
      )
    const placeholder = `{${resource.parent.placeholder ?? 'id'}}`
    if (!resource.path.includes(placeholder))
      fail('path', `expected \`${placeholder}\` in \`${resource.path}\`, filled from each parent`)
    extend(resource.parent.key, z.union([z.string(), z.number()]), 'a child resource')
    // Children of two parents may share their own key (one user, two teams): the row's key
    // holds both.
    const composite = resource.parent.compositeKey ?? `${resource.parent.key}_${primaryKey}`
    extend(composite, z.string(), 'a child resource')
    childKey = { field: primaryKey, composite }
    primaryKey = composite
  }
  const incremental =
    resource.incremental ??
    (resource.sync === 'incremental'
      ? resource.createdAtField
        ? 'page_lookback'
        : 'resume'
      : 'full_refresh')
  if (resource.parent && incremental !== 'full_refresh')
    fail('incremental', 'a child resource is re-read whole for each parent: use `full_refresh`')
  const read = (setting: unknown, field: string): unknown =>
    isEnvRef(setting) ? readSetting(setting, `${at}: ${field}`, context.env, '').value : setting
  const params: Record<string, string> = {}
  for (const [name, setting] of Object.entries(resource.params ?? {})) {
    const value = read(setting, `params.${name}`)
    if (value !== '') params[name] = String(value)
  }
  const body: Record<string, unknown> = {}
  for (const [name, setting] of Object.entries(resource.body ?? {})) {
    const value = read(setting, `body.${name}`)
    if (value !== '') body[name] = value
  }
  const resolvedAuth = resource.auth
    ? resolveAuth(resource.auth, context.env, {
        field: `${at}: auth`,
        ...(context.secrets === false && { secrets: false }),
      })
    : undefined
  return {
    ...resource,
    params,
    body,
    ...(resolvedAuth && { resolvedAuth }),
    schema,
    primaryKey,
    recordsPath,
    resolvedPaginator: paginator,
    strategy: resolveStrategy(incremental, `${at}: incremental`),
    lookbackDays: overrides?.lookbackDays ?? DEFAULT_LOOKBACK_DAYS,
    backfillParams: overrides?.backfillParams ?? {},
    contract: { ...EVOLVE, ...pipelineContract, ...overrides?.contract },
    single: kind === 'snapshot',
    ...(childKey && { childKey }),
  }
}
