import { z } from 'zod'
import { ConfigError } from '../errors.js'
import { isEnvRef } from '../config/env.js'
import type { Setting } from '../config/env.js'
import { readSetting } from '../config/read-setting.js'
import { resolveAuth } from './auth.js'
import type { ResolvedAuth } from './auth.js'
import type { ChildRefresh, ResourceDefinition } from './define-source.js'
import { AutoPaginator } from './paginators/auto-paginator.js'
import { createPaginator } from './paginators/index.js'
import type { PaginatorConfig } from './paginators/index.js'
import { toJsonPath } from '../core/json-path.js'
import { EVOLVE } from '../normalize/schema-contract.js'
import type { SchemaContract } from '../normalize/schema-contract.js'
import { resolveStrategy } from './incremental/index.js'
import type { ResolvedStrategy } from './incremental/index.js'
import type { Paginator, PaginatorContext } from './paginators/paginator.js'

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
  /** A child's own key field, and the composite key field the engine fills from it (if any). */
  readonly childKey?: { readonly field: string; readonly composite?: string }
  /** A child's parent, settled: which parent values fill what, and which parents are read. */
  readonly resolvedParent?: ResolvedParent
  readonly params: Readonly<Record<string, string>>
  readonly body: Readonly<Record<string, unknown>>
  /** The resource's own credentials, when it declares some. */
  readonly resolvedAuth?: ResolvedAuth
}

/** One value a child takes from each parent record. */
export interface ParentBinding {
  /** Field of the parent record the value is read from. */
  readonly from: string
  /** Placeholder it fills in the path and parameters, without braces. */
  readonly placeholder: string
  /** Field of each child record that gets it. */
  readonly field: string
}

/** A child resource's parent, settled (see `ParentDefinition`). */
export interface ResolvedParent {
  readonly resource: string
  readonly bindings: readonly ParentBinding[]
  readonly refresh: ChildRefresh
  /** The parent's `updatedAtField`: changed parents are those past the child's watermark. */
  readonly updatedAtField?: string
}

/** `{name}` placeholders of a path or parameter value. */
export const placeholdersIn = (text: string): string[] =>
  [...text.matchAll(/\{([^{}]+)\}/g)].map((m) => m[1]!)

/** `text` with each `{name}` of `values` replaced by its value, URL-encoded when `encode`. */
export function fillPlaceholders(
  text: string,
  values: Readonly<Record<string, string>>,
  encode: boolean,
): string {
  return text.replace(/\{([^{}]+)\}/g, (whole, name: string) =>
    Object.hasOwn(values, name) ? (encode ? pathSegment(values[name]!) : values[name]!) : whole,
  )
}

/**
 * A value as one path segment: percent-encoded, and `.` or `..` (which a proxy would resolve
 * as a step up the path) with their dots encoded too.
 */
const pathSegment = (value: string): string =>
  value === '.' || value === '..' ? value.replaceAll('.', '%2E') : encodeURIComponent(value)

/** Where a resource's settings are read. */
export interface ResolveContext {
  readonly env: NodeJS.ProcessEnv
  /** False for commands that only read the warehouse: no secret is read. Default true. */
  readonly secrets?: boolean
  /** What the pipeline's paginators share (a server's page size). Default: nothing shared. */
  readonly paginators?: PaginatorContext
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
  readonly path?: string
  readonly recordsPath?: readonly string[] | string
  readonly params?: Readonly<Record<string, Setting>>
  readonly order?: ResourceDefinition['order']
  readonly refresh?: ChildRefresh
  readonly paginator?: PaginatorConfig
  readonly lookbackDays?: number
  readonly backfillParams?: { readonly from?: string; readonly to?: string }
  readonly contract?: Partial<SchemaContract>
  readonly history?: boolean
}

const DEFAULT_LOOKBACK_DAYS = 14

/**
 * Settles one resource of a source: its paginator, strategy, records path, and what snapshots
 * and child resources add to each record (the run's time, the parent's key) and so to the
 * schema. `earlier` are the resources declared before it (a parent must be one of them).
 */
export function resolveResource(
  source: string,
  declared: ResourceDefinition,
  overrides: ResourceOverrides | undefined,
  pipelineContract: Partial<SchemaContract> | undefined,
  earlier: readonly ResourceDefinition[],
  context: ResolveContext = { env: process.env },
): ResolvedResource {
  // Paths, records paths, parameters and order are settings of a pipeline too: the API's own
  // may differ from what its docs say.
  const resource: ResourceDefinition = {
    ...declared,
    ...(overrides?.path !== undefined && { path: overrides.path }),
    ...(overrides?.recordsPath !== undefined && { recordsPath: overrides.recordsPath }),
    ...(overrides?.params !== undefined && { params: { ...declared.params, ...overrides.params } }),
    ...(overrides?.order !== undefined && { order: overrides.order }),
    ...(overrides?.history !== undefined && { history: overrides.history }),
    ...(overrides?.refresh !== undefined &&
      declared.parent && { parent: { ...declared.parent, refresh: overrides.refresh } }),
  }
  const at = `source ${source}: resource ${resource.name}`
  if (overrides?.refresh !== undefined && !declared.parent)
    throw new ConfigError(
      `${at}: refresh: only a child resource (one with \`parent\`) is read per parent; remove it`,
    )
  const fail = (field: string, problem: string): never => {
    throw new ConfigError(`${at}: ${field}: ${problem}`)
  }
  if (resource.history !== undefined && typeof resource.history !== 'boolean')
    fail(
      'history',
      `expected \`true\` or \`false\`, got \`${String(JSON.stringify(resource.history)).slice(0, 40)}\``,
    )
  const recordsPath = toJsonPath(resource.recordsPath)
  // A snapshot is one object: nothing in it is a paging field, whatever its name.
  const paginatorDeclaration =
    overrides?.paginator ??
    resource.paginator ??
    (resource.kind === 'snapshot' ? { type: 'single_page' } : undefined)
  // Without a declaration, the first response decides (and the choice is logged).
  const paginator = paginatorDeclaration
    ? createPaginator(
        paginatorDeclaration,
        `${at}: paginator`,
        context.paginators && { ...context.paginators, scope: resource.name },
      )
    : new AutoPaginator(recordsPath, `${at}: paginator`)
  let schema = resource.schema
  let primaryKey = resource.primaryKey
  const extend = (field: string, type: z.ZodType, why: string) => {
    if (!(schema instanceof z.ZodObject))
      fail('schema', `${why} needs an object schema (z.object) to add \`${field}\` to`)
    schema = (schema as z.ZodObject).extend({ [field]: type })
  }
  let childKey: { field: string; composite?: string } | undefined
  let resolvedParent: ResolvedParent | undefined
  const kind = resource.kind ?? 'list'
  if (kind === 'snapshot') {
    primaryKey = resource.snapshotKey ?? 'snapshot_at'
    extend(primaryKey, z.string(), 'a snapshot')
  }
  // Every `{name}` of the path and parameters must be filled by a parent or a forEach.
  const templated = [
    ...placeholdersIn(resource.path),
    ...Object.values(resource.params ?? {}).flatMap((v) =>
      typeof v === 'string' ? placeholdersIn(v) : [],
    ),
  ]
  const filled = new Set<string>()
  if (resource.parent) {
    const declared = resource.parent
    const parent = earlier.find((r) => r.name === declared.resource)
    if (!parent)
      fail('parent.resource', `\`${declared.resource}\` is not a resource declared before this one`)
    const bindings: ParentBinding[] = declared.fields
      ? Object.entries(declared.fields).map(([field, from]) => ({
          from,
          placeholder: field,
          field,
        }))
      : declared.key
        ? [
            {
              from: declared.field ?? parent!.primaryKey,
              placeholder: declared.placeholder ?? 'id',
              field: declared.key,
            },
          ]
        : fail('parent', "expected `fields` (e.g. `{ ticketId: 'id' }`) or `key` (e.g. `team_id`)")
    if (bindings.length === 0)
      fail('parent.fields', "expected at least one field, e.g. `{ ticketId: 'id' }`")
    if (!bindings.some((b) => templated.includes(b.placeholder)))
      fail(
        'path',
        `expected ${bindings.map((b) => `\`{${b.placeholder}}\``).join(' or ')} in \`${resource.path}\` or a parameter, filled from each parent`,
      )
    for (const b of bindings) {
      filled.add(b.placeholder)
      extend(b.field, z.union([z.string(), z.number()]), 'a child resource')
    }
    // Children of two parents may share their own key (one user, two teams): the row's key
    // holds both, unless the declaration says the child's key is unique on its own.
    const composite =
      declared.compositeKey === false
        ? undefined
        : (declared.compositeKey ?? `${bindings.map((b) => b.field).join('_')}_${primaryKey}`)
    if (composite !== undefined) extend(composite, z.string(), 'a child resource')
    childKey = { field: primaryKey, ...(composite !== undefined && { composite }) }
    if (composite !== undefined) primaryKey = composite
    resolvedParent = {
      resource: declared.resource,
      bindings,
      refresh: declared.refresh ?? 'changed',
      ...(parent!.updatedAtField && { updatedAtField: parent!.updatedAtField }),
    }
  }
  if (resource.forEach) {
    const each = resource.forEach
    if (each.values.length === 0) fail('forEach.values', 'expected at least one value')
    if (!templated.includes(each.placeholder))
      fail(
        'path',
        `expected \`{${each.placeholder}}\` in \`${resource.path}\` or a parameter, filled from forEach`,
      )
    filled.add(each.placeholder)
    const field = each.field ?? each.placeholder
    if (schema instanceof z.ZodObject && !(field in schema.shape))
      extend(field, z.string(), 'a forEach resource')
  }
  const unfilled = templated.filter((name) => !filled.has(name))
  if (unfilled.length > 0)
    fail(
      'path',
      `\`{${unfilled[0]}}\` is filled by nothing: declare it in \`parent.fields\` or \`forEach\`, or remove it`,
    )
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
    ...(resolvedParent && { resolvedParent }),
  }
}
