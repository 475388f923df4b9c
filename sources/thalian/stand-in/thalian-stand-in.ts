/**
 * A stand-in for the Thalian API (shared/reference/other-apis.md): findings, integrations,
 * the risk-score and posture-summary snapshots, and the audit-log export, with the documented
 * auth, workspace checks, errors as `{error}`, a per-key hourly rate limit without headers, and
 * the unknowns (paging of findings, rate-limit headers) and faults as switches. Deterministic
 * per seed. Test infrastructure: thena-sync itself never imports it.
 */
import { createServer } from 'node:http'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { z } from 'zod'
import { FixedWindowLimiter } from '../../../src/stand-in/fixed-window-limiter.js'
import {
  closeServer,
  faultOptionsSchema,
  rateLimitOptionsSchema,
} from '../../../src/stand-in/stand-in-options.js'
import { decide, hash32, Rng } from '../../../src/stand-in/prng.js'

/** What the stand-in serves and how it misbehaves; every field has a default. */
export const thalianStandInOptionsSchema = z.strictObject({
  /** Seed of the data and of the faults. Default 1. */
  seed: z.number().int().default(1),
  /** Findings served. Default 250. */
  findings: z.number().int().min(0).default(250),
  /** Integrations served. Default 6 (at most 12 platforms). */
  integrations: z.number().int().min(0).max(12).default(6),
  /** Audit-log entries served by the export. Default 230. */
  auditEntries: z.number().int().min(0).default(230),
  /** Entries per export call; beyond, `truncated: true` and a `cursor`. Default 100. */
  auditPageSize: z.number().int().min(1).default(100),
  /**
   * How `/findings` pages: `offset` honours `offset` (an undocumented guess), `none` ignores
   * it as the public docs document no paging. Default `offset`.
   */
  findingsPaging: z.enum(['offset', 'none']).default('offset'),
  /** The API key (`thal_...`). Default derived from the seed. */
  apiKey: z.string().optional(),
  /** The session token the audit-log export takes. Default derived from the seed. */
  sessionToken: z.string().optional(),
  /** The workspace the key belongs to (UUID). Default derived from the seed. */
  workspaceId: z.string().optional(),
  /** Requests per key and window; false for none. Default 1,000 per hour, no headers. */
  rateLimit: rateLimitOptionsSchema({ limit: 1000, windowMs: 3_600_000, headers: false }),
  /** Share of responses replaced by a fault, per kind. Default none. */
  faults: faultOptionsSchema,
})

export type ThalianStandInOptions = z.input<typeof thalianStandInOptionsSchema>

type Obj = Record<string, unknown>

/** What a complete, correct load holds. */
export interface ThalianTruth {
  readonly findings: ReadonlyMap<string, Obj>
  readonly integrations: ReadonlyMap<string, Obj>
  readonly riskScore: Obj
  readonly postureSummary: Obj
  readonly auditEntries: ReadonlyMap<string, Obj>
}

/** What the stand-in saw. */
export interface ThalianStats {
  requests: number
  byRoute: Record<string, number>
  rateLimited: number
  faults: number
  /** `workspaceId` each request carried (query or body), undefined when none. */
  workspaceIds: (string | undefined)[]
  /** Every request's path and query as received, to check no secret travels in a URL. */
  urls: string[]
}

/** Changes to the served data, applied at once and reflected in `truth()`. */
export interface ThalianMutation {
  readonly newFindings?: number
  /** Findings whose status changes (the oldest first). */
  readonly updateFindings?: number
  readonly newAuditEntries?: number
  /** Integrations whose status flips. */
  readonly integrationStatusChanges?: number
}

export interface ThalianStandIn {
  readonly url: string
  readonly apiKey: string
  readonly sessionToken: string
  readonly workspaceId: string
  readonly stats: ThalianStats
  truth(): ThalianTruth
  mutate(change: ThalianMutation): void
  close(): Promise<void>
}

const SEVERITIES = ['critical', 'high', 'medium', 'low', 'info'] as const
const CATEGORIES = ['identity', 'saas', 'device', 'data', 'network'] as const
const PLATFORMS = [
  ['okta', 'idp'],
  ['google_workspace', 'idp'],
  ['slack', 'collaboration'],
  ['github', 'engineering'],
  ['salesforce', 'crm'],
  ['aws', 'cloud'],
  ['jira', 'engineering'],
  ['zoom', 'collaboration'],
  ['notion', 'collaboration'],
  ['hubspot', 'crm'],
  ['azure_ad', 'idp'],
  ['dropbox', 'storage'],
] as const
const STATUSES = ['connected', 'disconnected', 'error', 'paused', 'pending'] as const

/** An RFC 4122 version-4 UUID derived from its parts. */
function uuidOf(...parts: (string | number)[]): string {
  const hex = [0, 1, 2, 3]
    .map((i) => (hash32(...parts, i) >>> 0).toString(16).padStart(8, '0'))
    .join('')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${'89ab'[hash32(...parts, 'v') % 4]}${hex.slice(17, 20)}-${hex.slice(20, 32)}`
}

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z')
const BASE = Date.parse('2026-01-01T00:00:00Z')
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i

/** Starts the stand-in on 127.0.0.1 at a free port. */
export async function startThalianStandIn(
  input: ThalianStandInOptions = {},
): Promise<ThalianStandIn> {
  const o = thalianStandInOptionsSchema.parse(input)
  const rng = new Rng(o.seed)
  const apiKey = o.apiKey ?? `thal_${new Rng(o.seed ^ 0x5eed).hex(32)}`
  const sessionToken = o.sessionToken ?? `sess_${new Rng(o.seed ^ 0xbeef).hex(40)}`
  const workspaceId = o.workspaceId ?? uuidOf(o.seed, 'workspace')
  const findings: Obj[] = []
  const audit: Obj[] = []
  const integrations: Obj[] = []
  const finding = (n: number): Obj => ({
    id: uuidOf(o.seed, 'finding', n),
    title: `Finding ${n}: ${rng.pick(['MFA disabled', 'Stale admin', 'Public share', 'Unused app', 'Weak policy'])}`,
    severity: SEVERITIES[hash32(o.seed, 'sev', n) % SEVERITIES.length],
    category: CATEGORIES[hash32(o.seed, 'cat', n) % CATEGORIES.length],
    status: 'open',
    rule_id: `rule-${hash32(o.seed, 'rule', n) % 40}`,
    affected_entities: {
      identities: [`user${n % 17}@example.com`],
      apps: n % 3 === 0 ? ['slack'] : [],
    },
    recommended_action: n % 5 === 0 ? null : 'Review and remediate',
    created_at: iso(BASE + n * 3_600_000),
  })
  const entry = (n: number): Obj => ({
    id: uuidOf(o.seed, 'audit', n),
    workspace_id: workspaceId,
    user_id: `u${n % 9}`,
    action: ['login', 'export', 'role_change', 'key_created'][n % 4],
    actor_email: `actor${n % 9}@example.com`,
    target_type: n % 2 ? 'identity' : 'integration',
    target_id: `t${n % 23}`,
    details: { ip: `10.0.${n % 255}.${(n * 7) % 255}` },
    content_hash: (hash32(o.seed, 'hash', n) >>> 0).toString(16),
    created_at: iso(BASE + n * 600_000),
  })
  for (let n = 0; n < o.findings; n++) findings.push(finding(n))
  for (let n = 0; n < o.auditEntries; n++) audit.push(entry(n))
  for (let n = 0; n < o.integrations; n++) {
    const [platform, category] = PLATFORMS[n]!
    integrations.push({
      platform,
      category,
      status: STATUSES[hash32(o.seed, 'ist', n) % 3],
      last_sync_at: iso(BASE + n * 86_400_000),
      ...(category === 'idp' && { idp_role: 'primary' }),
    })
  }
  const counts = () => {
    const c = { critical: 0, high: 0, medium: 0, low: 0 }
    for (const f of findings)
      if (f.status !== 'resolved' && f.severity !== 'info') c[f.severity as keyof typeof c]++
    return c
  }
  const riskScore = (): Obj => {
    const c = counts()
    const score = Math.min(100, c.critical * 5 + c.high * 2 + c.medium)
    return {
      score,
      label: score > 70 ? 'high' : score > 30 ? 'medium' : 'low',
      severity_counts: c,
      total_findings: findings.length,
      top_risks: findings.slice(0, 3).map((f) => ({
        title: f.title,
        severity: f.severity,
        category: f.category,
        affected_count: 1,
      })),
    }
  }
  const postureSummary = (): Obj => {
    const r = riskScore()
    const connected = integrations.filter((i) => i.status === 'connected').length
    return {
      summary: `${findings.length} findings across ${integrations.length} integrations`,
      metrics: {
        risk_score: r.score,
        risk_label: r.label,
        total_findings: findings.length,
        severity_counts: r.severity_counts,
        // Unknown metrics are left out, as Thalian does.
        ...(o.seed % 2 === 0 && { mfa_coverage_pct: 87.5 }),
        admin_pct: 4.2,
        ...(o.seed % 3 !== 0 && { shadow_it_count: 3 }),
        connected_integrations: connected,
        identity_count: 40,
      },
    }
  }
  const stats: ThalianStats = {
    requests: 0,
    byRoute: {},
    rateLimited: 0,
    faults: 0,
    workspaceIds: [],
    urls: [],
  }
  const limiter = o.rateLimit
    ? new FixedWindowLimiter(o.rateLimit.limit, o.rateLimit.windowMs)
    : undefined

  const send = (res: ServerResponse, status: number, body: unknown, headers: Obj = {}) => {
    const text = typeof body === 'string' ? body : JSON.stringify(body)
    const finish = () => {
      res.writeHead(status, {
        'content-type': 'application/json',
        ...(headers as Record<string, string>),
      })
      res.end(text)
    }
    if (o.faults.latencyMs > 0) setTimeout(finish, o.faults.latencyMs)
    else finish()
  }

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://stand-in')
    stats.urls.push(`${url.pathname}${url.search}`)
    const n = stats.requests++
    const route = url.pathname.replace(/^\/api\/(mcp\/)?/, '')
    stats.byRoute[route] = (stats.byRoute[route] ?? 0) + 1
    let body: Obj = {}
    if (req.method === 'POST') {
      let text = ''
      for await (const chunk of req) text += String(chunk)
      try {
        body = text ? (JSON.parse(text) as Obj) : {}
      } catch {
        return send(res, 400, { error: 'request body is not JSON' })
      }
    }
    const fault = (kind: string, p: number) => decide(p, o.seed, kind, n)
    if (fault('drop', o.faults.drop)) {
      stats.faults++
      return req.socket.destroy()
    }
    const auth = req.headers.authorization ?? ''
    const export_ = url.pathname === '/api/export-audit-log'
    const key = export_ ? sessionToken : apiKey
    if (auth !== `Bearer ${key}`) {
      if (export_ && auth === `Bearer ${apiKey}`)
        return send(res, 403, {
          error: 'the audit-log export takes a session token, not an API key',
        })
      return send(res, 401, { error: 'missing or invalid API key' })
    }
    if (limiter) {
      const d = limiter.take(key)
      const rl = o.rateLimit
      const headers: Obj =
        rl && rl.headers
          ? {
              'x-ratelimit-limit': String(d.limit),
              'x-ratelimit-remaining': String(d.remaining),
              'x-ratelimit-reset': String(d.resetSeconds),
            }
          : {}
      if (!d.allowed) {
        stats.rateLimited++
        if (rl && rl.retryAfter) headers['retry-after'] = String(Math.ceil(d.retryAfterMs / 1000))
        return send(res, 429, { error: 'rate limit exceeded' }, headers)
      }
    }
    const ws =
      (req.method === 'POST' ? body.workspaceId : url.searchParams.get('workspaceId')) ?? undefined
    stats.workspaceIds.push(typeof ws === 'string' ? ws : undefined)
    if (ws !== undefined && (typeof ws !== 'string' || !UUID.test(ws)))
      return send(res, 400, { error: 'invalid workspaceId' })
    if (ws !== undefined && ws !== workspaceId)
      return send(res, 403, { error: 'workspace mismatch' })
    if (fault('serverError', o.faults.serverError)) {
      stats.faults++
      return send(res, n % 2 ? 500 : 503, { error: 'internal error, try again' })
    }
    if (fault('htmlOk', o.faults.htmlOk)) {
      stats.faults++
      res.writeHead(200, { 'content-type': 'text/html' })
      return res.end('<html><body>Maintenance</body></html>')
    }
    const answer = routeAnswer(url, body)
    if (answer.status === 200 && fault('truncated', o.faults.truncated)) {
      stats.faults++
      const text = JSON.stringify(answer.body)
      return send(res, 200, text.slice(0, Math.max(1, Math.floor(text.length / 2))))
    }
    return send(res, answer.status, answer.body)
  }

  const routeAnswer = (url: URL, body: Obj): { status: number; body: unknown } => {
    switch (url.pathname) {
      case '/api/mcp/findings': {
        const limitText = url.searchParams.get('limit')
        const limit = limitText === null ? 25 : Number(limitText)
        if (!Number.isInteger(limit) || limit < 1 || limit > 100)
          return { status: 400, body: { error: 'limit must be between 1 and 100' } }
        const offset =
          o.findingsPaging === 'offset' ? Number(url.searchParams.get('offset') ?? 0) : 0
        if (!Number.isInteger(offset) || offset < 0)
          return { status: 400, body: { error: 'invalid offset' } }
        const severity = url.searchParams.get('severity')?.split(',')
        const category = url.searchParams.get('category')
        const matching = findings.filter(
          (f) =>
            (!severity || severity.includes(String(f.severity))) &&
            (!category || f.category === category),
        )
        const page = matching.slice(offset, offset + limit)
        return {
          status: 200,
          body: { findings: page, total: matching.length, returned: page.length },
        }
      }
      case '/api/mcp/integrations':
        return {
          status: 200,
          body: {
            integrations,
            connected_count: integrations.filter((i) => i.status === 'connected').length,
            total_count: integrations.length,
          },
        }
      case '/api/mcp/risk-score':
        return { status: 200, body: riskScore() }
      case '/api/mcp/posture-summary':
        return { status: 200, body: postureSummary() }
      case '/api/export-audit-log': {
        const cursor = body.cursor
        let start = 0
        if (cursor !== undefined) {
          const match = typeof cursor === 'string' ? /^c(\d+)$/.exec(cursor) : null
          if (!match || Number(match[1]) > audit.length)
            return { status: 400, body: { error: 'invalid cursor' } }
          start = Number(match[1])
        }
        const entries = audit.slice(start, start + o.auditPageSize)
        const end = start + entries.length
        const truncated = end < audit.length
        return {
          status: 200,
          body: {
            entries,
            exported_at: new Date().toISOString(),
            workspace_id: workspaceId,
            total_entries: audit.length,
            truncated,
            ...(truncated && { cursor: `c${end}` }),
          },
        }
      }
      default:
        return { status: 404, body: { error: `no route ${url.pathname}` } }
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) send(res, 500, { error: 'stand-in failure' })
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  let nextFinding = o.findings
  let nextAudit = o.auditEntries
  return {
    url: `http://127.0.0.1:${port}`,
    apiKey,
    sessionToken,
    workspaceId,
    stats,
    truth: () => ({
      findings: new Map(findings.map((f) => [String(f.id), f])),
      integrations: new Map(integrations.map((i) => [String(i.platform), i])),
      riskScore: riskScore(),
      postureSummary: postureSummary(),
      auditEntries: new Map(audit.map((e) => [String(e.id), e])),
    }),
    mutate: (change) => {
      for (let i = 0; i < (change.newFindings ?? 0); i++) findings.push(finding(nextFinding++))
      for (let i = 0; i < Math.min(change.updateFindings ?? 0, findings.length); i++)
        findings[i] = {
          ...findings[i],
          status: findings[i]!.status === 'resolved' ? 'open' : 'resolved',
        }
      for (let i = 0; i < (change.newAuditEntries ?? 0); i++) audit.push(entry(nextAudit++))
      for (let i = 0; i < Math.min(change.integrationStatusChanges ?? 0, integrations.length); i++)
        integrations[i] = {
          ...integrations[i],
          status: integrations[i]!.status === 'connected' ? 'error' : 'connected',
        }
    },
    close: () => closeServer(server),
  }
}
