/** `enabled` on a pipeline or a declared resource: a boolean, or a setting that reads non-empty. */
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { defineConfig } from '../../src/config/define-config.js'
import { env } from '../../src/config/env.js'
import { enabledPipelines, resolvePipeline } from '../../src/config/resolve-pipeline.js'
import { defineResource, defineSource } from '../../src/source/define-source.js'

const source = defineSource({
  name: 'other',
  client: { baseUrl: 'https://api.example.com', auth: { type: 'bearer', token: env('OTHER_KEY') } },
  resources: [
    defineResource({
      name: 'items',
      path: '/items',
      schema: z.object({ id: z.string() }),
      recordsPath: [],
      primaryKey: 'id',
    }),
    defineResource({
      name: 'audit',
      path: '/audit',
      schema: z.object({ id: z.string() }),
      recordsPath: [],
      primaryKey: 'id',
      auth: { type: 'bearer', token: env('OTHER_SESSION') },
      enabled: env('OTHER_SESSION', ''),
    }),
  ],
})

const config = defineConfig({
  pipelines: {
    thena: { token: 'x', destination: 'duckdb:/tmp/never.duckdb' },
    other: {
      enabled: env('OTHER_KEY', ''),
      source,
      destination: 'duckdb:/tmp/never.duckdb',
      dataset: 'other',
    },
    off: { enabled: false, token: 'x', destination: 'duckdb:/tmp/never.duckdb' },
  },
})

describe('enabled', () => {
  it.each([
    [{}, ['thena']],
    [{ OTHER_KEY: '' }, ['thena']],
    [{ OTHER_KEY: 'k' }, ['thena', 'other']],
  ])('with %j the pipelines that run are %j', (vars, names) => {
    expect(enabledPipelines(config, vars)).toEqual(names)
  })

  it('a disabled pipeline named to run says what enables it; reading its warehouse is fine', () => {
    expect(() => resolvePipeline(config, 'other', {})).toThrow(
      '--pipeline: pipeline `other` is disabled: it runs once OTHER_KEY is set',
    )
    expect(() => resolvePipeline(config, 'off', {})).toThrow('pipelines.off.enabled is false')
    expect(resolvePipeline(config, 'other', {}, { secrets: false }).name).toBe('other')
  })

  it('a resource enabled by a setting is read only when it is set, with its own credentials', () => {
    const without = resolvePipeline(config, 'other', { OTHER_KEY: 'k' })
    expect(without.resources.map((r) => r.name)).toEqual(['items'])
    const withSession = resolvePipeline(config, 'other', { OTHER_KEY: 'k', OTHER_SESSION: 's3ss' })
    const audit = withSession.resources.find((r) => r.name === 'audit')!
    expect(audit.resolvedAuth?.headers).toEqual({ authorization: 'Bearer s3ss' })
    expect(withSession.client.auth.headers).toEqual({ authorization: 'Bearer k' })
  })
})

describe('a child resource of a disabled parent', () => {
  it('is a one-line config error naming both', () => {
    const child = defineSource({
      name: 'kids',
      client: { baseUrl: 'https://api.example.com', auth: { type: 'none' } },
      resources: [
        defineResource({
          name: 'teams',
          path: '/teams',
          schema: z.object({ id: z.string() }),
          recordsPath: [],
          primaryKey: 'id',
        }),
        defineResource({
          name: 'members',
          path: '/teams/{id}/members',
          schema: z.object({ user: z.string() }),
          recordsPath: [],
          primaryKey: 'user',
          parent: { resource: 'teams', key: 'team_id' },
        }),
      ],
    })
    const cfg = defineConfig({
      pipelines: {
        k: {
          source: child,
          destination: 'duckdb:/tmp/never.duckdb',
          resources: { teams: { enabled: false } },
        },
      },
    })
    expect(() => resolvePipeline(cfg, 'k', {})).toThrow(
      'pipelines.k.resources.members: reads each record of `teams`, which is disabled: enable `teams` or disable `members` too',
    )
  })
})
