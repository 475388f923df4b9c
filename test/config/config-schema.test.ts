import { describe, expect, it } from 'vitest'
import { closestMatch } from '../../src/config/closest-match.js'
import { validateConfig } from '../../src/config/config-schema.js'
import { env } from '../../src/config/env.js'
import { resolvePipeline } from '../../src/config/resolve-pipeline.js'
import type { ThenaSyncConfig } from '../../src/config/define-config.js'
import { thenaSource } from '../../sources/thena/index.js'

const pipeline = (extra: Record<string, unknown>) =>
  ({ pipelines: { thena: { token: 'tok', ...extra } } }) as unknown as ThenaSyncConfig

const resolve = (config: ThenaSyncConfig, vars: NodeJS.ProcessEnv = {}) =>
  resolvePipeline(config, 'thena', vars)

/** Each mistake of the issue, and the one line it must produce. */
const MISTAKES: readonly [string, ThenaSyncConfig, NodeJS.ProcessEnv, string][] = [
  [
    'a misspelt top-level setting',
    pipeline({ destinaton: 'postgres://u@h/db' }),
    {},
    'pipelines.thena.destinaton: unknown setting; did you mean `destination`?',
  ],
  [
    'a misspelt resource setting',
    pipeline({ resources: { requests: { lookbakDays: 3 } } }),
    {},
    'pipelines.thena.resources.requests.lookbakDays: unknown setting; did you mean `lookbackDays`?',
  ],
  [
    'a misspelt http setting',
    pipeline({ http: { concurency: 3 } }),
    {},
    'pipelines.thena.http.concurency: unknown setting; did you mean `concurrency`?',
  ],
  [
    'an unknown key with nothing close',
    pipeline({ http: { colour: 'blue' } }),
    {},
    'pipelines.thena.http.colour: unknown setting; known: concurrency, requestsPerMinute, maxRetries, timeoutMs, backoffMs, maxWaitSeconds',
  ],
  [
    'a string for a boolean',
    pipeline({ resources: { requests: { enabled: 'no' } } }),
    {},
    'pipelines.thena.resources.requests.enabled: expected `true` or `false`, got `"no"`',
  ],
  [
    'zero pages per batch',
    pipeline({ batchPages: 0 }),
    {},
    'pipelines.thena.batchPages: expected a whole number from 1 to 10000, got `0`',
  ],
  [
    'a word for a number',
    pipeline({ http: { backoffMs: 'fast' } }),
    {},
    'pipelines.thena.http.backoffMs: expected a whole number of milliseconds from 0 to 600000, got `"fast"`',
  ],
  [
    'a negative rate',
    pipeline({ http: { requestsPerMinute: -5 } }),
    {},
    'pipelines.thena.http.requestsPerMinute: expected requests per minute ≥ 0 and ≤ 1000000, got `-5`',
  ],
  [
    'a fractional concurrency',
    pipeline({ http: { concurrency: 2.5 } }),
    {},
    'pipelines.thena.http.concurrency: expected a whole number from 1 to 64, got `2.5`',
  ],
  [
    'no pipelines at all',
    { pipelines: {} },
    {},
    "pipelines: no pipelines: add one, e.g. `pipelines: { thena: { token: env('THENA_API_TOKEN') } }`",
  ],
  [
    'a misspelt `pipelines`',
    { pipelnes: {} } as unknown as ThenaSyncConfig,
    {},
    'pipelnes: unknown setting; did you mean `pipelines`?',
  ],
  [
    'an unset variable without a default, on an optional field',
    pipeline({ schedule: { cron: env('NOPE_CRON') } }),
    {},
    'NOPE_CRON: is not set (pipelines.thena.schedule.cron reads it): export NOPE_CRON=...',
  ],
  [
    'an unset token variable',
    { pipelines: { thena: { token: env('THENA_API_TOKEN') } } },
    {},
    'THENA_API_TOKEN: is not set (pipelines.thena.token reads it): export THENA_API_TOKEN=... (or try `thena-sync demo`, which needs none)',
  ],
  [
    'no token, with a source that declares no client',
    { pipelines: { thena: { source: { name: 'mine', resources: thenaSource.resources } } } },
    {},
    "pipelines.thena.token: is required, e.g. env('THENA_API_TOKEN')",
  ],
  [
    "no token for bolt: the source's own THENA_API_TOKEN is read",
    { pipelines: { thena: {} } },
    {},
    'THENA_API_TOKEN: is not set (source thena: client.auth.token reads it): export THENA_API_TOKEN=... (or try `thena-sync demo`, which needs none)',
  ],
  [
    'a token with a line break',
    { pipelines: { thena: { token: env('THENA_API_TOKEN') } } },
    { THENA_API_TOKEN: 'abc-token-line\r\n' },
    'THENA_API_TOKEN: contains a line break or another control character; copy the token again without it',
  ],
  [
    'a cron expression from the environment',
    pipeline({ schedule: { cron: env('THENA_SCHEDULE', '') } }),
    { THENA_SCHEDULE: 'hourly' },
    'THENA_SCHEDULE: `hourly` is not a cron expression: expected 5 or 6 fields but got 1 (e.g. `*/15 * * * *`)',
  ],
  [
    'a cron expression that can never fire',
    pipeline({ schedule: { reconcile: '0 0 31 2 *' } }),
    {},
    'pipelines.thena.schedule.reconcile: `0 0 31 2 *` can never fire: 31 2 is an impossible day of month for the given month',
  ],
  [
    'a time zone from an unset variable',
    pipeline({ schedule: { timezone: env('MY_TZ') } }),
    {},
    'MY_TZ: is not set (pipelines.thena.schedule.timezone reads it): export MY_TZ=...',
  ],
  [
    'a paginator key that does not exist',
    pipeline({ resources: { requests: { paginator: { type: 'page', pagex: 1 } } } }),
    {},
    'pipelines.thena.resources.requests.paginator.pagex: unknown setting; known: type, pageParam, firstPage, limitParam, limit, totalPagesPath, learnPageSize, minServerPageSize',
  ],
  [
    'a paginator type that does not exist',
    pipeline({ resources: { requests: { paginator: { type: 'pages' } } } }),
    {},
    'pipelines.thena.resources.requests.paginator.type: expected one of `cursor`, `page`, `offset`, `next_url`, `body_cursor`, `single_page`, `page_number`, got `"pages"`',
  ],
  [
    'a paginator limit of 0',
    pipeline({ resources: { requests: { paginator: { type: 'cursor', limit: 0 } } } }),
    {},
    'pipelines.thena.resources.requests.paginator.limit: expected a number ≥ 1, got `0`',
  ],
  [
    'a misspelt resource',
    pipeline({ resources: { reqests: {} } }),
    {},
    'pipelines.thena.resources.reqests: no such resource; did you mean `requests`? (known: sub_statuses, custom_fields, users, requests, requests_v3)',
  ],
  [
    'a contract mode that does not exist',
    pipeline({ contract: { newColumns: 'evolv' } }),
    {},
    'pipelines.thena.contract.newColumns: expected one of `evolve`, `freeze`, `discard_row`, `discard_value`, got `"evolv"`',
  ],
  [
    'a share of 0',
    pipeline({ reconcile: { maxDeleteShare: 0 } }),
    {},
    'pipelines.thena.reconcile.maxDeleteShare: expected a share of the table > 0 and ≤ 1, got `0`',
  ],
  [
    'a base URL with a query',
    pipeline({ baseUrl: 'http://h/x?y=1' }),
    {},
    'pipelines.thena.baseUrl: expected a base URL without `?query` or `#fragment`; resource paths and their parameters are added to it',
  ],
  [
    'a base URL from the environment that is not http',
    pipeline({ baseUrl: env('THENA_BASE_URL', 'https://bolt.thena.ai') }),
    { THENA_BASE_URL: 'ftp://files.example.com' },
    'THENA_BASE_URL: expected an http(s) URL such as `https://bolt.thena.ai`, got `ftp://files.example.com`',
  ],
  [
    // undici sends no userinfo: a proxy's user:password would be dropped without a word.
    'a base URL with credentials, from the environment',
    pipeline({ baseUrl: env('THENA_BASE_URL') }),
    { THENA_BASE_URL: 'https://proxyuser:s3cret-pw@proxy.example.com/thena' },
    'THENA_BASE_URL: expected a base URL without `user:password@`; they would not be sent (the token goes in the Authorization header)',
  ],
  [
    'a dataset the destination keeps for itself',
    pipeline({ dataset: 'information_schema' }),
    {},
    'pipelines.thena.dataset: `information_schema` is a system schema of DuckDB or Postgres; choose another name such as `thena`',
  ],
  [
    'a dataset in the prefix Postgres reserves',
    pipeline({ dataset: 'pg_temp' }),
    {},
    'pipelines.thena.dataset: `pg_temp` is a system schema of DuckDB or Postgres; choose another name such as `thena`',
  ],
  [
    // Pasted from a document or a chat: undici refuses such a header value.
    'a token with a zero-width space, from any variable',
    pipeline({ token: env('MY_TOKEN') }),
    { MY_TOKEN: 'sim-token\u200b' },
    'MY_TOKEN: contains U+200B, which a token cannot hold (it is ASCII); copy the token again without it',
  ],
  [
    'a hand-written env reference',
    pipeline({ baseUrl: { kind: 'env' } }),
    {},
    "pipelines.thena.baseUrl: expected a string or env('NAME'), got an object",
  ],
  [
    'a dataset that is not an identifier',
    pipeline({ dataset: 'My Data' }),
    {},
    'pipelines.thena.dataset: expected a lowercase SQL identifier such as `thena`',
  ],
  [
    'a memory limit from the environment',
    pipeline({}),
    { THENA_DUCKDB_MEMORY_LIMIT: 'lots' },
    'THENA_DUCKDB_MEMORY_LIMIT: expected a size such as `256MB` or `2GB`, got `lots`',
  ],
  [
    'a lookback of a negative number of days',
    pipeline({ resources: { requests: { lookbackDays: -1 } } }),
    {},
    'pipelines.thena.resources.requests.lookbackDays: expected a number of days ≥ 0 and ≤ 3650, got `-1`',
  ],
  [
    'a path override with a query string (it would be sent before the parameters, twice)',
    pipeline({ resources: { requests: { path: '/v2/requests?status=open' } } }),
    {},
    'pipelines.thena.resources.requests.path: expected a path without `?` or `#`; put query parameters in `params`',
  ],
  [
    'a records path that is neither text nor a list of keys',
    pipeline({ resources: { requests: { recordsPath: 5 } } }),
    {},
    "pipelines.thena.resources.requests.recordsPath: expected a path such as 'data' or 'data.results' (or a list of keys), got `5`",
  ],
  [
    'a pipeline name that is not one',
    { pipelines: { 'my pipeline': { token: 'x' } } },
    {},
    'pipelines["my pipeline"]: a pipeline name is letters, digits, `_`, `.` or `-`, at most 63 characters',
  ],
]

describe('the config schema', () => {
  for (const [what, config, vars, message] of MISTAKES) {
    it(`${what}: one line naming the field and the fix`, () => {
      expect(() => resolve(config, vars)).toThrow(message)
      try {
        resolve(config, vars)
      } catch (error) {
        expect((error as Error).message).toBe(message)
        expect((error as Error & { code: string }).code).toBe('config_invalid')
      }
    })
  }

  it('checks every pipeline, not only the one being resolved', () => {
    const config = {
      pipelines: { a: { token: 'x' }, b: { token: 'x', batchPages: 'many' } },
    } as unknown as ThenaSyncConfig
    expect(() => resolvePipeline(config, 'a', {})).toThrow(
      'pipelines.b.batchPages: expected a whole number from 1 to 10000, got `"many"`',
    )
  })

  it('a source whose resource names are not table names, or repeat', () => {
    const resource = (name: string) => ({ ...thenaSource.resources[0]!, name })
    const withSource = (...names: string[]) =>
      pipeline({ source: { name: 'mine', resources: names.map(resource) } })
    expect(() => resolve(withSource('ok_name', 'myTickets'))).toThrow(
      'pipelines.thena.source.resources[1].name: expected a snake_case table name such as `my_tickets`, got `"myTickets"`',
    )
    expect(() => resolve(withSource('tickets', 'tickets'))).toThrow(
      'pipelines.thena.source.resources[1].name: `tickets` is the name of another resource of the source',
    )
    expect(resolve(withSource('tickets')).resources.map((r) => r.name)).toEqual(['tickets'])
  })

  it('a pipeline name that is not in the config suggests the closest', () => {
    const config: ThenaSyncConfig = { pipelines: { thena: { token: 'x' }, other: { token: 'x' } } }
    expect(() => resolvePipeline(config, 'thenna', {})).toThrow(
      '--pipeline: no pipeline named `thenna` in the config; did you mean `thena`? (known: thena, other)',
    )
    expect(() => resolvePipeline(config, 'constructor', {})).toThrow('no pipeline named')
  })

  it('a good config passes unchanged, and an unset variable with a default takes it', () => {
    const config = pipeline({
      baseUrl: env('THENA_BASE_URL', 'https://example.com/api/'),
      http: { concurrency: 2, backoffMs: 0, maxWaitSeconds: 60 },
      batchPages: 5,
      schedule: { cron: '0 0 29 2 *', timezone: 'Europe/Berlin' },
      resources: { users: { enabled: false }, requests: { lookbackDays: 0.5 } },
    })
    expect(validateConfig(config)).toBe(config)
    const resolved = resolve(config)
    expect(resolved.client.baseUrl).toBe('https://example.com/api')
    expect(resolved.batchPages).toBe(5)
    expect(resolved.schedule).toEqual({ cron: '0 0 29 2 *', timezone: 'Europe/Berlin' })
    expect(resolved.resources.map((r) => r.name)).not.toContain('users')
    expect(resolved.resources.find((r) => r.name === 'requests')?.lookbackDays).toBe(0.5)
  })

  it('the closest known word: within a third of the length, swaps included', () => {
    expect(closestMatch('concurency', ['concurrency', 'maxRetries'])).toBe('concurrency')
    expect(closestMatch('tiemoutMs', ['timeoutMs'])).toBe('timeoutMs')
    expect(closestMatch('BATCHPAGES', ['batchPages'])).toBe('batchPages')
    expect(closestMatch('colour', ['concurrency', 'maxRetries'])).toBeUndefined()
  })
})
