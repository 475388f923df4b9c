import { thenaSource } from '../../sources/thena/index.js'
import type { ResourceDefinition, SourceDefinition } from '../source/define-source.js'
import { resolveAuth } from '../source/auth.js'
import type { ResolvedAuth } from '../source/auth.js'
import type { HttpClientOptions } from '../http/http-client.js'
import { isEnabled, resolveResource } from '../source/resolve-resource.js'
import type { PaginatorContext } from '../source/paginators/paginator.js'
import type { ResolvedResource } from '../source/resolve-resource.js'
import type { Destination } from '../load/destination.js'
import { destinationFromUrl, registerSecretsIn } from '../load/destination-registry.js'
import type { PipelineConfig, ThenaSyncConfig } from './define-config.js'
import type { Setting } from './env.js'
import { fail, readSetting as read } from './read-setting.js'
import type { SettingValue } from './read-setting.js'
import { validateDetailed } from 'node-cron'
import { validateConfig } from './config-schema.js'
import { closestMatch } from './closest-match.js'
import { env as envRef, isEnvRef } from './env.js'
import { redactor } from '../redactor.js'

export type { ResolvedResource } from '../source/resolve-resource.js'

/** A pipeline's schedule, settled. */
export interface ResolvedSchedule {
  readonly cron?: string
  readonly reconcile?: string
  readonly timezone: string
}

/** Where and how the pipeline's API is reached, resolved: what feeds its HttpClient. */
export interface ResolvedClient {
  /** The base URL, without a trailing slash. */
  readonly baseUrl: string
  /** Headers and query parameters every request carries (none when resolved without secrets). */
  readonly auth: ResolvedAuth
  /** Default headers of the source. */
  readonly headers: Readonly<Record<string, string>>
  /** The request budget (0 = none): `http.requestsPerMinute` over the source's. */
  readonly rateLimit: { readonly requestsPerMinute: number; readonly requestsPerHour: number }
}

/** HTTP engine settings of a pipeline (retries, timeouts, waits), without the client half. */
export type HttpEngineOptions = Omit<
  HttpClientOptions,
  'baseUrl' | 'auth' | 'headers' | 'requestsPerMinute' | 'requestsPerHour'
>

/** Options of `resolvePipeline`. */
export interface ResolveOptions {
  /**
   * False: read no secret of the source (commands that only read the warehouse), so they work
   * without the API's credentials; `client.auth` then sends nothing. Default true.
   */
  readonly secrets?: boolean
}

/** A pipeline ready to run: settings resolved, environment read, destination built. */
export interface ResolvedPipeline {
  readonly name: string
  readonly source: SourceDefinition
  readonly resources: readonly ResolvedResource[]
  readonly destination: Destination
  /** Schema the tables land in. */
  readonly dataset: string
  /** The client half: base URL, auth, headers, budget. */
  readonly client: ResolvedClient
  /** The engine settings (`pipelines.*.http` without `requestsPerMinute`). */
  readonly http: HttpEngineOptions
  readonly batchPages: number
  readonly schedule: ResolvedSchedule
  readonly reconcile: { readonly maxDeleteShare: number }
  /** What the pipeline's paginators learn of the server during a run (cleared as each begins). */
  readonly paginators?: PaginatorContext
  /** Where failures and schema changes are POSTed (`notify.url`, else `THENA_NOTIFY_URL`); absent: nowhere. */
  readonly notify?: ResolvedNotify
}

/** A notification endpoint, resolved: its URL is a secret (it is never printed). */
export interface ResolvedNotify {
  readonly url: string
  /** Where the URL was read (the variable or the config field), for messages. */
  readonly field: string
}

const DEFAULT_MAX_DELETE_SHARE = 0.5
const DEFAULT_BATCH_PAGES = 25

/** Base URL of a source without `client` when the pipeline gives none (as before sources had one). */
const DEFAULT_BASE_URL = 'https://bolt.thena.ai'
const DEFAULT_DESTINATION = 'duckdb:./thena.duckdb'

/** The options of the pipeline's HttpClient: its client half and its engine settings. */
export function httpClientOptions(pipeline: ResolvedPipeline): HttpClientOptions {
  const { baseUrl, auth, headers, rateLimit } = pipeline.client
  return { ...pipeline.http, baseUrl, auth, headers, ...rateLimit }
}

/** DuckDB settings, resolved (see `DuckDbSettings`). */
export interface ResolvedDuckDbSettings {
  readonly memoryLimit?: string
  readonly tempDirectory?: string
}

const MEMORY_UNITS: Readonly<Record<string, number>> = {
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
}

/** A DuckDB memory size such as `256MB` or `2GiB`, at least 64 MB (a checkpoint can fail below). */
function checkMemoryLimit(value: string, field: string): string {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]i?b)\s*$/i.exec(value)
  if (!match) return fail(field, `expected a size such as \`256MB\` or \`2GB\`, got \`${value}\``)
  if (Number(match[1]) * MEMORY_UNITS[match[2]!.toLowerCase()]! < 64e6)
    fail(field, `expected at least \`64MB\` (DuckDB cannot checkpoint below), got \`${value}\``)
  return value.trim()
}

export { destinationFromUrl } from '../load/destination-registry.js'

/** The names of the pipelines `enabled` lets run (all of them unless one says otherwise). */
export function enabledPipelines(
  config: ThenaSyncConfig,
  env: NodeJS.ProcessEnv = process.env,
): string[] {
  validateConfig(config)
  return Object.entries(config.pipelines)
    .filter(([name, p]) => isEnabled(p.enabled, `pipelines.${name}.enabled`, env))
    .map(([name]) => name)
}

/** Resolves one pipeline of a config against the environment. Throws a one-line ConfigError. */
export function resolvePipeline(
  config: ThenaSyncConfig,
  name: string,
  env: NodeJS.ProcessEnv = process.env,
  options: ResolveOptions = {},
): ResolvedPipeline {
  validateConfig(config)
  const p: PipelineConfig | undefined = Object.hasOwn(config.pipelines, name)
    ? config.pipelines[name]
    : undefined
  if (!p) {
    const names = Object.keys(config.pipelines)
    const near = closestMatch(name, names)
    return fail(
      '--pipeline',
      `no pipeline named \`${name}\` in the config${near ? `; did you mean \`${near}\`?` : ''} (known: ${names.join(', ')})`,
    )
  }
  const at = `pipelines.${name}`
  // Reading its warehouse is fine; running it is what `enabled` decides.
  if (options.secrets !== false && !isEnabled(p.enabled, `${at}.enabled`, env))
    fail(
      '--pipeline',
      `pipeline \`${name}\` is disabled: ${isEnvRef(p.enabled) ? `it runs once ${p.enabled.name} is set` : `${at}.enabled is false`}`,
    )
  const dataset = p.dataset ?? 'thena'
  const source = p.source ?? thenaSource
  const client = resolveClient(p, source, at, env, options.secrets !== false)
  const destinationUrl = read(p.destination, `${at}.destination`, env, DEFAULT_DESTINATION)
  const destination = destinationFromUrl(
    destinationUrl.value,
    dataset,
    destinationUrl.field,
    resolveDuckDb(p, at, env),
    env,
  )
  const resources: ResolvedResource[] = []
  const paginators = { shared: new Map<string, unknown>() }
  for (const [i, declared] of source.resources.entries()) {
    const override = p.resources?.[declared.name]
    if (override?.enabled === false) continue
    const resource = withDefaults(declared, source)
    const field = `source ${source.name}: resource ${declared.name}: enabled`
    if (override?.enabled !== true && !isEnabled(resource.enabled, field, env)) continue
    const earlier = source.resources.slice(0, i)
    const context = { env, secrets: options.secrets !== false, paginators }
    resources.push(resolveResource(source.name, resource, override, p.contract, earlier, context))
  }
  for (const r of resources)
    if (r.parent && !resources.some((e) => e.name === r.parent!.resource))
      fail(
        `${at}.resources.${r.name}`,
        `reads each record of \`${r.parent.resource}\`, which is disabled: enable \`${r.parent.resource}\` or disable \`${r.name}\` too`,
      )
  return {
    name,
    source,
    resources,
    destination,
    dataset,
    client,
    http: engineOptions(p),
    batchPages: p.batchPages ?? DEFAULT_BATCH_PAGES,
    schedule: resolveSchedule(p, at, env),
    reconcile: { maxDeleteShare: p.reconcile?.maxDeleteShare ?? DEFAULT_MAX_DELETE_SHARE },
    paginators,
    ...resolveNotify(p, at, env),
  }
}

/** `notify.url` of the pipeline, else `THENA_NOTIFY_URL`: an http(s) URL, or nothing. */
function resolveNotify(
  p: PipelineConfig,
  at: string,
  env: NodeJS.ProcessEnv,
): { notify?: ResolvedNotify } {
  const { value, field } = read(
    p.notify?.url ?? envRef('THENA_NOTIFY_URL', ''),
    `${at}.notify.url`,
    env,
  )
  if (value === '') return {}
  // A webhook URL often is its own credential (a token in the path or the query): the whole
  // URL, and any user:password in it, is a secret from here on.
  redactor.add(value)
  registerSecretsIn(value)
  const url = httpUrl(value)
  if (!url)
    return fail(
      field,
      'expected an http(s) URL such as `https://hooks.example.com/thena-sync` (the value is not shown: it may hold a secret)',
    )
  redactor.add(url.href)
  redactor.add(decodeURIComponent(url.username))
  return { notify: { url: url.href, field } }
}

/** `resource` over the source's `resourceDefaults`, its paginator defaulting to the client's. */
function withDefaults(resource: ResourceDefinition, source: SourceDefinition): ResourceDefinition {
  const own = Object.fromEntries(Object.entries(resource).filter(([, v]) => v !== undefined))
  const merged = { ...source.resourceDefaults, ...own } as ResourceDefinition
  const paginator = merged.paginator ?? source.client?.paginator
  return paginator === undefined ? merged : { ...merged, paginator }
}

/** `pipelines.*.http` without the budget, which the client half carries. */
function engineOptions(p: PipelineConfig): HttpEngineOptions {
  const { requestsPerMinute: _budget, ...engine } = p.http ?? {}
  return engine
}

/**
 * The client half: the source's `client`, with the pipeline's `baseUrl` and `token` as
 * overrides; a source without one takes them from the pipeline (a bearer token, required).
 */
function resolveClient(
  p: PipelineConfig,
  source: SourceDefinition,
  at: string,
  env: NodeJS.ProcessEnv,
  secrets: boolean,
): ResolvedClient {
  const declared = source.client
  const baseUrl = checkBaseUrl(
    p.baseUrl !== undefined || !declared
      ? read(p.baseUrl, `${at}.baseUrl`, env, DEFAULT_BASE_URL)
      : read(declared.baseUrl, `source ${source.name}: client.baseUrl`, env),
  )
  let auth: ResolvedAuth
  if (declared)
    auth = resolveAuth(declared.auth, env, {
      field: `source ${source.name}: client.auth`,
      ...(p.token !== undefined && { secret: p.token, secretField: `${at}.token` }),
      secrets,
    })
  else {
    // Checked here, not by the schema: a source with `client` declares its own secret.
    if (p.token === undefined) fail(`${at}.token`, "is required, e.g. env('THENA_API_TOKEN')")
    auth = resolveAuth({ type: 'bearer', token: p.token! }, env, { field: at, secrets })
  }
  return {
    baseUrl,
    auth,
    headers: declared?.headers ?? {},
    rateLimit: {
      requestsPerMinute: p.http?.requestsPerMinute ?? declared?.rateLimit?.requestsPerMinute ?? 0,
      requestsPerHour: declared?.rateLimit?.requestsPerHour ?? 0,
    },
  }
}

/** `value` as a URL when it is an absolute http(s) URL with a host, else undefined. */
function httpUrl(value: string): URL | undefined {
  if (!/^https?:\/\/[^/\s]/i.test(value)) return undefined
  try {
    return new URL(value)
  } catch {
    return undefined
  }
}

/** An http(s) URL; its path is kept, as resource paths resolve under it. */
function checkBaseUrl({ value, field }: SettingValue): string {
  // Credentials written into the base URL are secrets too, even in a URL that is refused.
  registerSecretsIn(value)
  const url = httpUrl(value)
  if (!url)
    return fail(
      field,
      `expected an http(s) URL such as \`https://bolt.thena.ai\`, got \`${value}\``,
    )
  if (url.username || url.password)
    fail(
      field,
      'expected a base URL without `user:password@`; they would not be sent (the token goes in the Authorization header)',
    )
  if (url.search || url.hash || value.includes('?') || value.includes('#'))
    fail(
      field,
      'expected a base URL without `?query` or `#fragment`; resource paths and their parameters are added to it',
    )
  return url.href.replace(/\/+$/, '')
}

function resolveDuckDb(
  p: PipelineConfig,
  at: string,
  env: NodeJS.ProcessEnv,
): ResolvedDuckDbSettings {
  const memoryLimit = read(
    p.duckdb?.memoryLimit ?? envRef('THENA_DUCKDB_MEMORY_LIMIT', ''),
    `${at}.duckdb.memoryLimit`,
    env,
  )
  const tempDirectory = read(
    p.duckdb?.tempDirectory ?? envRef('THENA_DUCKDB_TEMP_DIRECTORY', ''),
    `${at}.duckdb.tempDirectory`,
    env,
  )
  return {
    ...(memoryLimit.value && {
      memoryLimit: checkMemoryLimit(memoryLimit.value, memoryLimit.field),
    }),
    ...(tempDirectory.value && { tempDirectory: tempDirectory.value }),
  }
}

/** A cron expression node-cron accepts and that fires at least once (`0 0 31 2 *` never does). */
function checkCron({ value, field }: SettingValue): string {
  const result = validateDetailed(value)
  if (result.valid) return value
  const problem = result.errors[0]?.message ?? 'invalid'
  if (/impossible/i.test(problem)) return fail(field, `\`${value}\` can never fire: ${problem}`)
  return fail(field, `\`${value}\` is not a cron expression: ${problem} (e.g. \`*/15 * * * *\`)`)
}

function resolveSchedule(p: PipelineConfig, at: string, env: NodeJS.ProcessEnv): ResolvedSchedule {
  const optional = (setting: Setting | undefined, field: string) => {
    if (setting === undefined) return undefined
    const read_ = read(setting, field, env)
    return read_.value === '' ? undefined : read_
  }
  const cron = optional(p.schedule?.cron, `${at}.schedule.cron`)
  const reconcile = optional(p.schedule?.reconcile, `${at}.schedule.reconcile`)
  const timezone = optional(p.schedule?.timezone, `${at}.schedule.timezone`)
  if (timezone) {
    try {
      new Intl.DateTimeFormat('en', { timeZone: timezone.value })
    } catch {
      fail(timezone.field, `\`${timezone.value}\` is not an IANA time zone, e.g. \`Europe/Berlin\``)
    }
  }
  return {
    ...(cron && { cron: checkCron(cron) }),
    ...(reconcile && { reconcile: checkCron(reconcile) }),
    timezone: timezone?.value ?? 'UTC',
  }
}
