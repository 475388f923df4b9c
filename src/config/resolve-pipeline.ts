import { z } from 'zod'
import { DuckDbDestination } from '../../destinations/duckdb/index.js'
import { PostgresDestination } from '../../destinations/postgres/index.js'
import { thenaSource } from '../../sources/thena/index.js'
import { ConfigError } from '../errors.js'
import type { ResourceDefinition, SourceDefinition } from '../extract/define-source.js'
import type { HttpClientOptions } from '../http/http-client.js'
import { paginatorSchema } from '../http/paginator.js'
import type { ResolvedPaginator } from '../http/paginator.js'
import type { Destination } from '../load/destination.js'
import type { PipelineConfig, Setting, ThenaSyncConfig } from './define-config.js'
import { validate as isCron } from 'node-cron'
import { env as envRef, isEnvRef } from './env.js'
import { redactor } from '../redactor.js'
import { CONTRACT_MODES, EVOLVE } from '../normalize/schema-contract.js'
import type { SchemaContract } from '../normalize/schema-contract.js'

/** A resource with its paginator settled (defaults and overrides applied). */
export interface ResolvedResource extends ResourceDefinition {
  readonly resolvedPaginator: ResolvedPaginator
  /** Days of recent records `run` re-reads (only with `createdAtField`). */
  readonly lookbackDays: number
  readonly backfillParams: { readonly from?: string; readonly to?: string }
  readonly contract: SchemaContract
}

/** A pipeline's schedule, settled. */
export interface ResolvedSchedule {
  readonly cron?: string
  readonly reconcile?: string
  readonly timezone: string
}

/** A pipeline ready to run: settings resolved, environment read, destination built. */
export interface ResolvedPipeline {
  readonly name: string
  readonly source: SourceDefinition
  readonly resources: readonly ResolvedResource[]
  readonly destination: Destination
  /** Schema the tables land in. */
  readonly dataset: string
  readonly http: HttpClientOptions
  readonly batchPages: number
  readonly schedule: ResolvedSchedule
  readonly reconcile: { readonly maxDeleteShare: number }
}

const DEFAULT_LOOKBACK_DAYS = 14
const DEFAULT_MAX_DELETE_SHARE = 0.5

const DEFAULT_BASE_URL = 'https://bolt.thena.ai'
const DEFAULT_DESTINATION = 'duckdb:./thena.duckdb'

const fail = (field: string, problem: string): never => {
  throw new ConfigError(`${field}: ${problem}`)
}

function read(
  setting: Setting | undefined,
  field: string,
  env: NodeJS.ProcessEnv,
  fallback?: string,
): string {
  if (setting === undefined) return fallback ?? fail(field, 'is required')
  if (!isEnvRef(setting)) return setting
  const value = env[setting.name]
  if (value !== undefined && value !== '') return value
  if (setting.default !== undefined) return setting.default
  if (fallback !== undefined) return fallback
  return fail(
    field,
    `${setting.name} is not set: export ${setting.name}=... (or try \`thena-sync demo\`, which needs none)`,
  )
}

const positiveInt = (value: unknown, field: string, fix: string) => {
  if (value !== undefined && (!Number.isInteger(value) || (value as number) < 0))
    fail(field, `expected ${fix}, got \`${String(value)}\``)
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

/** Spellings of a password inside a destination string that may not parse (keyword DSNs too). */
const PASSWORD_PATTERNS = [
  /\b(?:ssl)?password\s*=\s*('(?:[^'\\]|\\.)*'|[^\s&]+)/gi,
  /^[a-z][a-z0-9+.-]*:\/*[^:/@\s]*:([^\s]+)@/gi,
]

/** Adds every password a URL or connection string holds, parsed or not, to the redactor. */
function registerSecretsIn(text: string): void {
  for (const pattern of PASSWORD_PATTERNS)
    for (const match of text.matchAll(pattern)) redactor.add(match[1]!.replace(/^'|'$/g, ''))
  if (!URL.canParse(text)) return
  const url = new URL(text)
  redactor.add(url.password)
  for (const [key, value] of url.searchParams) if (/password/i.test(key)) redactor.add(value)
}

/**
 * Builds the destination a `THENA_DESTINATION`-style string names. Its passwords are added to
 * the redactor first, and a string that does not parse is described without being echoed.
 */
export function destinationFromUrl(
  url: string,
  dataset: string,
  field = 'destination',
  duckdb: ResolvedDuckDbSettings = {},
  env: NodeJS.ProcessEnv = process.env,
): Destination {
  registerSecretsIn(url)
  // Without a password in the URL, pg falls back on the libpq variable.
  redactor.add(env.PGPASSWORD)
  if (url.startsWith('duckdb:')) {
    const path = url.slice('duckdb:'.length)
    if (path === '') fail(field, '`duckdb:` needs a file path, e.g. `duckdb:./thena.duckdb`')
    return new DuckDbDestination({ path, schema: dataset, ...duckdb })
  }
  const hidden = 'the value is not shown, as it may hold a password'
  if (/^postgres(ql)?:/i.test(url)) {
    let parsed: URL | undefined
    try {
      parsed = new URL(url)
    } catch {
      parsed = undefined
    }
    if (
      !/^postgres(ql)?:\/\//i.test(url) ||
      !(parsed?.hostname || parsed?.searchParams.get('host')) ||
      parsed.pathname.length < 2
    )
      fail(
        field,
        `expected \`postgres://USER:PASSWORD@HOST:PORT/DATABASE\`, with @ : / ? # % in the password percent-encoded (${hidden})`,
      )
    return new PostgresDestination({ url: parsed!.href, schema: dataset })
  }
  const scheme = /^([a-z][a-z0-9+.-]{0,20}):/i.exec(url)?.[1]
  return fail(
    field,
    `expected \`duckdb:PATH\` or a \`postgres://\` URL, got ${scheme ? `a \`${scheme}:\` URL` : 'something else'} (${hidden})`,
  )
}

/** Resolves one pipeline of a config against the environment. Throws a one-line ConfigError. */
export function resolvePipeline(
  config: ThenaSyncConfig,
  name: string,
  env: NodeJS.ProcessEnv = process.env,
): ResolvedPipeline {
  const p: PipelineConfig | undefined = config.pipelines[name]
  if (!p) {
    const known = Object.keys(config.pipelines).join(', ') || '(none)'
    return fail('--pipeline', `no pipeline named \`${name}\` in the config; known: ${known}`)
  }
  const at = `pipelines.${name}`
  const dataset = p.dataset ?? 'thena'
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(dataset))
    fail(`${at}.dataset`, `expected a lowercase SQL identifier, got \`${dataset}\``)
  const baseUrl = read(p.baseUrl, `${at}.baseUrl`, env, DEFAULT_BASE_URL)
  // Credentials written into the base URL are secrets too, even in a URL that is refused.
  registerSecretsIn(baseUrl)
  if (!/^https?:\/\/[^/\s]+/.test(baseUrl))
    fail(`${at}.baseUrl`, `expected an http(s) URL, got \`${baseUrl}\``)
  const token = read(p.token, `${at}.token`, env)
  redactor.add(token)
  const destinationUrl = read(p.destination, `${at}.destination`, env, DEFAULT_DESTINATION)
  const destinationField = isEnvRef(p.destination)
    ? `${at}.destination (${p.destination.name})`
    : `${at}.destination`
  const destination = destinationFromUrl(
    destinationUrl,
    dataset,
    destinationField,
    resolveDuckDb(p, at, env),
    env,
  )
  const http = p.http ?? {}
  positiveInt(http.concurrency, `${at}.http.concurrency`, 'a whole number ≥ 1')
  if (http.concurrency === 0) fail(`${at}.http.concurrency`, 'expected a whole number ≥ 1, got `0`')
  positiveInt(http.maxRetries, `${at}.http.maxRetries`, 'a whole number ≥ 0')
  positiveInt(http.timeoutMs, `${at}.http.timeoutMs`, 'milliseconds')
  positiveInt(http.maxWaitSeconds, `${at}.http.maxWaitSeconds`, 'whole seconds ≥ 0 (0 = no limit)')
  positiveInt(p.batchPages, `${at}.batchPages`, 'a whole number ≥ 1')
  const source = p.source ?? thenaSource
  const known = new Set(source.resources.map((r) => r.name))
  for (const key of Object.keys(p.resources ?? {})) {
    if (!known.has(key))
      fail(`${at}.resources.${key}`, `no such resource; known: ${[...known].join(', ')}`)
  }
  const resources: ResolvedResource[] = []
  for (const resource of source.resources) {
    const override = p.resources?.[resource.name]
    if (override?.enabled === false) continue
    const paginatorInput = override?.paginator ?? resource.paginator
    const parsed = paginatorSchema.safeParse(paginatorInput)
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!
      fail(
        `${at}.resources.${resource.name}.paginator.${issue.path.join('.')}`,
        z.prettifyError(parsed.error).split('\n')[0]!.replace(/^✖ /, ''),
      )
    }
    const lookbackDays = override?.lookbackDays ?? DEFAULT_LOOKBACK_DAYS
    if (typeof lookbackDays !== 'number' || !(lookbackDays >= 0))
      fail(
        `${at}.resources.${resource.name}.lookbackDays`,
        `expected a number of days ≥ 0, got \`${String(lookbackDays)}\``,
      )
    resources.push({
      ...resource,
      resolvedPaginator: parsed.data!,
      lookbackDays,
      backfillParams: override?.backfillParams ?? {},
      contract: resolveContract(
        { ...p.contract, ...override?.contract },
        override?.contract ? `${at}.resources.${resource.name}.contract` : `${at}.contract`,
      ),
    })
  }
  const schedule = resolveSchedule(p, at, env)
  const maxDeleteShare = p.reconcile?.maxDeleteShare ?? DEFAULT_MAX_DELETE_SHARE
  if (typeof maxDeleteShare !== 'number' || !(maxDeleteShare > 0 && maxDeleteShare <= 1))
    fail(
      `${at}.reconcile.maxDeleteShare`,
      `expected a share of the table in (0, 1], e.g. 0.5, got \`${String(maxDeleteShare)}\``,
    )
  return {
    name,
    source,
    resources,
    destination,
    dataset,
    http: { ...http, baseUrl, token },
    batchPages: p.batchPages || 25,
    schedule,
    reconcile: { maxDeleteShare },
  }
}

function resolveDuckDb(
  p: PipelineConfig,
  at: string,
  env: NodeJS.ProcessEnv,
): ResolvedDuckDbSettings {
  const field = (name: string) =>
    `${at}.duckdb.${name}` +
    (p.duckdb?.[name as keyof typeof p.duckdb] === undefined
      ? ` (THENA_DUCKDB_${name === 'memoryLimit' ? 'MEMORY_LIMIT' : 'TEMP_DIRECTORY'})`
      : '')
  const memoryLimit = read(
    p.duckdb?.memoryLimit ?? envRef('THENA_DUCKDB_MEMORY_LIMIT', ''),
    field('memoryLimit'),
    env,
    '',
  )
  const tempDirectory = read(
    p.duckdb?.tempDirectory ?? envRef('THENA_DUCKDB_TEMP_DIRECTORY', ''),
    field('tempDirectory'),
    env,
    '',
  )
  return {
    ...(memoryLimit && { memoryLimit: checkMemoryLimit(memoryLimit, field('memoryLimit')) }),
    ...(tempDirectory && { tempDirectory }),
  }
}

function resolveSchedule(p: PipelineConfig, at: string, env: NodeJS.ProcessEnv): ResolvedSchedule {
  const optional = (setting: Setting | undefined, field: string) =>
    setting === undefined ? undefined : read(setting, field, env, '') || undefined
  const cron = optional(p.schedule?.cron, `${at}.schedule.cron`)
  const reconcile = optional(p.schedule?.reconcile, `${at}.schedule.reconcile`)
  const timezone = optional(p.schedule?.timezone, `${at}.schedule.timezone`) ?? 'UTC'
  for (const [field, expression] of [
    ['cron', cron],
    ['reconcile', reconcile],
  ] as const) {
    if (expression !== undefined && !isCron(expression))
      fail(
        `${at}.schedule.${field}`,
        `\`${expression}\` is not a cron expression; expected 5 or 6 fields, e.g. \`*/15 * * * *\``,
      )
  }
  try {
    new Intl.DateTimeFormat('en', { timeZone: timezone })
  } catch {
    fail(
      `${at}.schedule.timezone`,
      `\`${timezone}\` is not an IANA time zone, e.g. \`Europe/Berlin\``,
    )
  }
  return { ...(cron && { cron }), ...(reconcile && { reconcile }), timezone }
}

function resolveContract(input: Partial<SchemaContract>, field: string): SchemaContract {
  for (const [key, mode] of Object.entries(input)) {
    if (key !== 'newColumns' && key !== 'typeChanges')
      fail(`${field}.${key}`, 'unknown setting; expected `newColumns` or `typeChanges`')
    if (!(CONTRACT_MODES as readonly unknown[]).includes(mode))
      fail(
        `${field}.${key}`,
        `expected one of ${CONTRACT_MODES.join(', ')}, got \`${String(mode)}\``,
      )
  }
  return { ...EVOLVE, ...input }
}
