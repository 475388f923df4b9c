/**
 * The Thalian stand-in says what other-apis.md says: shapes that validate against the
 * schemas, auth and workspace checks with `{error}` bodies, the hourly limit without headers,
 * the paging switch, determinism per seed; and the declared source stops, rather than loads
 * 100 findings, when the API ignores `offset`.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { request } from 'undici'
import {
  AuditEntrySchema,
  FindingSchema,
  IntegrationSchema,
  PostureSummarySchema,
  RiskScoreSchema,
} from '../../schemas/thalian/index.js'
import { resolvePipeline } from '../../src/config/resolve-pipeline.js'
import { runPipeline } from '../../src/pipeline/run-pipeline.js'
import { thalianPipeline } from '../../sources/thalian/index.js'
import { startThalianStandIn } from '../../sources/thalian/stand-in/thalian-stand-in.js'
import type { ThalianStandIn } from '../../sources/thalian/stand-in/thalian-stand-in.js'
import { tempDir } from '../helpers/pipeline.js'
import { join } from 'node:path'

let api: ThalianStandIn | undefined
afterEach(async () => {
  await api?.close()
  api = undefined
})

async function call(
  s: ThalianStandIn,
  path: string,
  options: { token?: string; body?: unknown } = {},
): Promise<{ status: number; body: Record<string, unknown>; headers: Record<string, unknown> }> {
  const res = await request(`${s.url}${path}`, {
    method: options.body === undefined ? 'GET' : 'POST',
    headers: {
      authorization: `Bearer ${options.token ?? s.apiKey}`,
      'content-type': 'application/json',
    },
    ...(options.body !== undefined && { body: JSON.stringify(options.body) }),
  })
  return {
    status: res.statusCode,
    body: (await res.body.json()) as Record<string, unknown>,
    headers: res.headers,
  }
}

describe('the Thalian stand-in', () => {
  it('serves shapes the schemas accept', async () => {
    const s = (api = await startThalianStandIn({ findings: 30, auditEntries: 5 }))
    const findings = await call(s, '/api/mcp/findings?limit=100')
    expect(findings.body).toMatchObject({ total: 30, returned: 30 })
    for (const f of findings.body.findings as unknown[]) FindingSchema.parse(f)
    const integrations = await call(s, '/api/mcp/integrations')
    for (const i of integrations.body.integrations as unknown[]) IntegrationSchema.parse(i)
    RiskScoreSchema.parse((await call(s, '/api/mcp/risk-score')).body)
    PostureSummarySchema.parse((await call(s, '/api/mcp/posture-summary')).body)
    const audit = await call(s, '/api/export-audit-log', { token: s.sessionToken, body: {} })
    for (const e of audit.body.entries as unknown[]) AuditEntrySchema.parse(e)
  })

  it.each<[string, string, { token?: string; body?: unknown }, number, RegExp]>([
    ['no valid key', '/api/mcp/findings', { token: 'thal_wrong' }, 401, /invalid API key/],
    ['a malformed workspace', '/api/mcp/findings?workspaceId=nope', {}, 400, /invalid workspaceId/],
    [
      'another workspace',
      '/api/mcp/findings?workspaceId=00000000-0000-4000-8000-000000000000',
      {},
      403,
      /workspace mismatch/,
    ],
    ['a limit over 100', '/api/mcp/findings?limit=101', {}, 400, /between 1 and 100/],
    ['the API key on the export', '/api/export-audit-log', { body: {} }, 403, /session token/],
    [
      'a bad export cursor',
      '/api/export-audit-log',
      { token: 'SESSION', body: { cursor: 'x9' } },
      400,
      /invalid cursor/,
    ],
  ])('answers %s with %i and {error}', async (_name, path, options, status, error) => {
    const s = (api = await startThalianStandIn())
    const token = options.token === 'SESSION' ? s.sessionToken : options.token
    const res = await call(s, path, { ...options, ...(token && { token }) })
    expect(res.status).toBe(status)
    expect(Object.keys(res.body)).toEqual(['error'])
    expect(String(res.body.error)).toMatch(error)
  })

  it('limits each key per window and sends no rate-limit headers unless told to', async () => {
    const s = (api = await startThalianStandIn({ rateLimit: { limit: 3, windowMs: 60_000 } }))
    const statuses = []
    for (let i = 0; i < 5; i++) statuses.push((await call(s, '/api/mcp/integrations')).status)
    expect(statuses).toEqual([200, 200, 200, 429, 429])
    const last = await call(s, '/api/mcp/integrations')
    expect(last.body).toEqual({ error: 'rate limit exceeded' })
    expect(Object.keys(last.headers).filter((h) => /ratelimit|retry-after/i.test(h))).toEqual([])
  })

  it('is deterministic per seed, and mutations change the truth and the answers', async () => {
    const a = await startThalianStandIn({ seed: 3 })
    const b = await startThalianStandIn({ seed: 3 })
    try {
      expect([...a.truth().findings.keys()]).toEqual([...b.truth().findings.keys()])
      a.mutate({ newFindings: 2, updateFindings: 1 })
      expect(a.truth().findings.size).toBe(b.truth().findings.size + 2)
      const first = [...a.truth().findings.values()][0]!
      expect(first.status).toBe('resolved')
      expect((await call(a, '/api/mcp/findings?limit=1')).body.findings).toEqual([first])
    } finally {
      await a.close()
      await b.close()
    }
  })

  it('with paging off (offset ignored), the declared source stops instead of loading a partial list', async () => {
    const s = (api = await startThalianStandIn({ findings: 250, findingsPaging: 'none' }))
    const p = resolvePipeline(
      { pipelines: { thalian: { ...thalianPipeline, http: { backoffMs: 5 } } } },
      'thalian',
      {
        THALIAN_API_KEY: s.apiKey,
        THALIAN_BASE_URL: s.url,
        THENA_DESTINATION: `duckdb:${join(tempDir(), 'w.duckdb')}`,
      },
    )
    const result = await runPipeline(p)
    expect(result.status).toBe('failed')
    expect(result.error?.code).toBe('pagination_loop')
    expect(result.error?.message).toMatch(/same page twice/)
  })
})
