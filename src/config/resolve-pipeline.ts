import { thenaSource } from '../../sources/thena/index.js'
import { ConfigError } from '../errors.js'
import type { SourceDefinition } from '../extract/define-source.js'
import type { HttpClientOptions } from '../http/http-client.js'
import { resolveResource } from '../source/resolve-resource.js'
import type { ResolvedResource } from '../source/resolve-resource.js'
import type { Destination } from '../load/destination.js'
import { destinationFromUrl, registerSecretsIn } from '../load/destination-registry.js'
import type { PipelineConfig, Setting, ThenaSyncConfig } from './define-config.js'
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

const DEFAULT_MAX_DELETE_SHARE = 0.5
const DEFAULT_BATCH_PAGES = 25

const DEFAULT_BASE_URL = 'https://bolt.thena.ai'
const DEFAULT_DESTINATION = 'duckdb:./thena.duckdb'

const fail = (field: string, problem: string): never => {
  throw new ConfigError(`${field}: ${problem}`)
}

/** A setting's value and the name its problems are reported under: the variable, or the field. */
interface SettingValue {
  readonly value: string
  readonly field: string
}

/**
 * Reads a setting. An `env()` reference whose variable is unset (or empty) takes its default;
 * without one it is an error naming the variable, even where the field itself is optional.
 */
function read(
  setting: Setting | undefined,
  field: string,
  env: NodeJS.ProcessEnv,
  fallback?: string,
): SettingValue {
  if (setting === undefined)
    return fallback === undefined ? fail(field, 'is required') : { value: fallback, field }
  if (!isEnvRef(setting)) return { value: setting, field }
  const value = env[setting.name]
  if (value !== undefined && value !== '') return { value, field: setting.name }
  if (setting.default !== undefined) return { value: setting.default, field }
  return fail(
    setting.name,
    `is not set (${field} reads it): export ${setting.name}=...` +
      (field.endsWith('.token') ? ' (or try `thena-sync demo`, which needs none)' : ''),
  )
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

/** Resolves one pipeline of a config against the environment. Throws a one-line ConfigError. */
export function resolvePipeline(
  config: ThenaSyncConfig,
  name: string,
  env: NodeJS.ProcessEnv = process.env,
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
  const dataset = p.dataset ?? 'thena'
  const baseUrl = checkBaseUrl(read(p.baseUrl, `${at}.baseUrl`, env, DEFAULT_BASE_URL))
  const token = read(p.token, `${at}.token`, env)
  redactor.add(token.value)
  // A header value cannot hold a line break: undici would fail every request as a network error.
  if ([...token.value].some((c) => c < ' ' || c === '\x7f'))
    fail(
      token.field,
      'contains a line break or another control character; copy the token again without it',
    )
  const foreign = [...token.value].find((c) => c > '\x7f')
  if (foreign)
    fail(
      token.field,
      `contains U+${foreign.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}, which a token cannot hold (it is ASCII); copy the token again without it`,
    )
  if (token.value.trim() === '') fail(token.field, 'is empty')
  const destinationUrl = read(p.destination, `${at}.destination`, env, DEFAULT_DESTINATION)
  const destination = destinationFromUrl(
    destinationUrl.value,
    dataset,
    destinationUrl.field,
    resolveDuckDb(p, at, env),
    env,
  )
  const source = p.source ?? thenaSource
  const resources: ResolvedResource[] = []
  for (const [i, resource] of source.resources.entries()) {
    const override = p.resources?.[resource.name]
    if (override?.enabled === false) continue
    const earlier = source.resources.slice(0, i)
    resources.push(resolveResource(source.name, resource, override, p.contract, earlier))
  }
  return {
    name,
    source,
    resources,
    destination,
    dataset,
    http: { ...p.http, baseUrl, token: token.value },
    batchPages: p.batchPages ?? DEFAULT_BATCH_PAGES,
    schedule: resolveSchedule(p, at, env),
    reconcile: { maxDeleteShare: p.reconcile?.maxDeleteShare ?? DEFAULT_MAX_DELETE_SHARE },
  }
}

/** An http(s) URL; its path is kept, as resource paths resolve under it. */
function checkBaseUrl({ value, field }: SettingValue): string {
  // Credentials written into the base URL are secrets too, even in a URL that is refused.
  registerSecretsIn(value)
  let url: URL | undefined
  try {
    url = /^https?:\/\/[^/\s]/i.test(value) ? new URL(value) : undefined
  } catch {
    url = undefined
  }
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
