import { describe, expect, it } from 'vitest'
import { env } from '../../src/config/env.js'
import { httpClientOptions, resolvePipeline } from '../../src/config/resolve-pipeline.js'
import type { PipelineConfig } from '../../src/config/define-config.js'
import { redactor } from '../../src/redactor.js'
import { defineSource } from '../../src/source/define-source.js'
import type { SourceDefinition } from '../../src/source/define-source.js'
import { thenaSource } from '../../sources/thena/index.js'

const resolve = (p: Partial<PipelineConfig>, vars: NodeJS.ProcessEnv, secrets = true) =>
  resolvePipeline({ pipelines: { x: p as PipelineConfig } }, 'x', vars, { secrets })

/** A source with an api key in a header, its own base URL, headers and hourly budget. */
const thalian: SourceDefinition = defineSource({
  name: 'thalian',
  client: {
    baseUrl: env('THALIAN_BASE_URL', 'https://api.thalian.example/v1'),
    auth: { type: 'api_key', key: env('THALIAN_API_KEY'), header: 'x-api-key' },
    headers: { 'x-client': 'thena-sync' },
    paginator: { type: 'page' },
    rateLimit: { requestsPerMinute: 30, requestsPerHour: 1000 },
  },
  resourceDefaults: { primaryKey: 'uid', incremental: 'full_refresh' },
  resources: thenaSource.resources.slice(3, 4).map(({ paginator: _, ...r }) => ({
    ...r,
    primaryKey: undefined as unknown as string,
  })) as unknown as SourceDefinition['resources'],
})

describe("a pipeline's baseUrl and token: optional overrides of the source's client", () => {
  for (const [what, p, vars, baseUrl, headers, describe_] of [
    [
      'bolt, nothing given: THENA_BASE_URL default and THENA_API_TOKEN',
      {},
      { THENA_API_TOKEN: 'tok-o1' },
      'https://bolt.thena.ai',
      { authorization: 'Bearer tok-o1' },
      'THENA_API_TOKEN',
    ],
    [
      "bolt, THENA_BASE_URL set: the source's env() reads it",
      {},
      { THENA_API_TOKEN: 'tok-o2', THENA_BASE_URL: 'http://localhost:9/x/' },
      'http://localhost:9/x',
      { authorization: 'Bearer tok-o2' },
      'THENA_API_TOKEN',
    ],
    [
      "bolt, the old shape (token and baseUrl given): they win over the source's",
      { token: env('MY_TOKEN'), baseUrl: 'https://other.example' },
      { MY_TOKEN: 'tok-o3', THENA_API_TOKEN: 'not-this-one' },
      'https://other.example',
      { authorization: 'Bearer tok-o3' },
      'MY_TOKEN',
    ],
    [
      'an api-key source: key from its variable, headers from the source',
      { source: thalian },
      { THALIAN_API_KEY: 'key-o4' },
      'https://api.thalian.example/v1',
      { 'x-client': 'thena-sync', 'x-api-key': 'key-o4' },
      'THALIAN_API_KEY',
    ],
    [
      "an api-key source with the pipeline's token: it replaces the key",
      { source: thalian, token: env('OTHER_KEY') },
      { OTHER_KEY: 'key-o5' },
      'https://api.thalian.example/v1',
      { 'x-client': 'thena-sync', 'x-api-key': 'key-o5' },
      'OTHER_KEY',
    ],
  ] as const) {
    it(what, () => {
      const resolved = resolve(p as Partial<PipelineConfig>, vars)
      expect(resolved.client.baseUrl).toBe(baseUrl)
      const options = httpClientOptions(resolved)
      expect({ ...options.headers, ...options.auth.headers }).toEqual(headers)
      expect(options.auth.describe).toBe(describe_)
      expect(options.baseUrl).toBe(baseUrl)
    })
  }

  it("the source's budget, with http.requestsPerMinute over it; engine settings stay in http", () => {
    const own = resolve({ source: thalian }, { THALIAN_API_KEY: 'key-o6' })
    expect(own.client.rateLimit).toEqual({ requestsPerMinute: 30, requestsPerHour: 1000 })
    const over = resolve(
      { source: thalian, http: { requestsPerMinute: 5, maxRetries: 2 } },
      { THALIAN_API_KEY: 'key-o6' },
    )
    expect(over.client.rateLimit).toEqual({ requestsPerMinute: 5, requestsPerHour: 1000 })
    expect(over.http).toEqual({ maxRetries: 2 })
    expect(httpClientOptions(over)).toMatchObject({ requestsPerMinute: 5, requestsPerHour: 1000 })
  })

  it('resourceDefaults and the client paginator go under each resource, which wins', () => {
    const resolved = resolve({ source: thalian }, { THALIAN_API_KEY: 'key-o7' })
    const [resource] = resolved.resources
    expect(resource!.primaryKey).toBe('uid')
    expect(resource!.strategy.type).toBe('page_lookback')
    expect(resource!.resolvedPaginator.type).toBe('page')
  })

  it('every secret resolved is registered with the redactor', () => {
    resolve({ source: thalian }, { THALIAN_API_KEY: 'key-redact-o8' })
    expect(redactor.redact('x key-redact-o8 y')).toBe('x *** y')
  })

  it('secrets: false resolves without the variables, sending no credentials', () => {
    const resolved = resolve({ source: thalian }, {}, false)
    expect(resolved.client.auth.headers).toEqual({})
    expect(resolved.client.auth.query).toEqual({})
    expect(() => resolve({ source: thalian }, {})).toThrow(
      'THALIAN_API_KEY: is not set (source thalian: client.auth.key reads it): export THALIAN_API_KEY=...',
    )
    expect(resolve({}, {}, false).client.baseUrl).toBe('https://bolt.thena.ai')
  })

  it('a source without client keeps the old shape: the bolt default URL, a bearer token', () => {
    const mine = { name: 'mine', resources: thenaSource.resources }
    const resolved = resolve({ source: mine, token: 'tok-o9' }, {})
    expect(resolved.client.baseUrl).toBe('https://bolt.thena.ai')
    expect(resolved.client.auth.headers).toEqual({ authorization: 'Bearer tok-o9' })
  })

  it("a bad source base URL is reported under the source's field or its variable", () => {
    const bad = { ...thalian, client: { ...thalian.client!, baseUrl: 'ftp://x' } }
    expect(() => resolve({ source: bad }, { THALIAN_API_KEY: 'k-1234' })).toThrow(
      'source thalian: client.baseUrl: expected an http(s) URL such as `https://bolt.thena.ai`, got `ftp://x`',
    )
    expect(() => resolve({ source: thalian }, { THALIAN_BASE_URL: 'nope' })).toThrow(
      'THALIAN_BASE_URL: expected an http(s) URL',
    )
  })
})
