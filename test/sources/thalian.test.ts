/**
 * The Thalian API, declared only (sources/thalian/, schemas/thalian/): loaded end to end from
 * its stand-in into every destination, equal to the stand-in's truth; again after changes,
 * faults and a rate limit without headers; resumed after kill -9; its key never shown or stored.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { resolvePipeline } from '../../src/config/resolve-pipeline.js'
import type { ResolvedPipeline } from '../../src/config/resolve-pipeline.js'
import { runPipeline } from '../../src/pipeline/run-pipeline.js'
import { thalianPipeline } from '../../sources/thalian/index.js'
import { startThalianStandIn } from '../../sources/thalian/stand-in/thalian-stand-in.js'
import type {
  ThalianStandIn,
  ThalianStandInOptions,
} from '../../sources/thalian/stand-in/thalian-stand-in.js'
import { DESTINATION_KINDS, dumpWarehouse } from '../helpers/destinations.js'
import { killAfterFirstCommit, runCli } from '../helpers/cli.js'
import { tempDir } from '../helpers/pipeline.js'
import { rowsOf } from '../helpers/truth.js'

const REPO_CONFIG = join(import.meta.dirname, '../../pipelines.config.ts')

let api: ThalianStandIn | undefined
afterEach(async () => {
  await api?.close()
  api = undefined
})

const start = async (options: ThalianStandInOptions = {}) =>
  (api = await startThalianStandIn({ findings: 250, auditEntries: 230, ...options }))

/** What a user exports to load Thalian (`session` adds the audit log). */
const envOf = (s: ThalianStandIn, destination: string, session = true): NodeJS.ProcessEnv => ({
  THALIAN_API_KEY: s.apiKey,
  THALIAN_BASE_URL: s.url,
  THALIAN_WORKSPACE_ID: s.workspaceId,
  THENA_DESTINATION: destination,
  ...(session && { THALIAN_SESSION_TOKEN: s.sessionToken }),
})

const pipelineOf = (env: NodeJS.ProcessEnv, secrets = true): ResolvedPipeline =>
  resolvePipeline(
    { pipelines: { thalian: { ...thalianPipeline, http: { backoffMs: 5 } } } },
    'thalian',
    env,
    { secrets },
  )

/** The warehouse holds exactly the stand-in's truth (and `snapshots` rows per snapshot table). */
async function expectTruth(
  p: ResolvedPipeline,
  s: ThalianStandIn,
  snapshots: number,
  audit = true,
) {
  const truth = s.truth()
  const findings = await rowsOf(p, 'SELECT id, severity, status, title FROM thalian.findings')
  expect(findings).toHaveLength(truth.findings.size)
  for (const row of findings) {
    const f = truth.findings.get(String(row.id))
    expect(f, `finding ${String(row.id)}`).toBeDefined()
    expect(row).toEqual({ id: f!.id, severity: f!.severity, status: f!.status, title: f!.title })
  }
  const integrations = await rowsOf(p, 'SELECT platform, status FROM thalian.integrations')
  expect(new Map(integrations.map((r) => [r.platform, r.status]))).toEqual(
    new Map([...truth.integrations].map(([k, v]) => [k, v.status])),
  )
  const scores = await rowsOf(
    p,
    'SELECT snapshot_at, score, label, total_findings FROM thalian.risk_scores ORDER BY snapshot_at',
  )
  expect(scores).toHaveLength(snapshots)
  const latest = scores.at(-1)!
  // Whole numbers come back as text (BIGINT is wider than a JS number).
  expect([Number(latest.score), latest.label, Number(latest.total_findings)]).toEqual([
    truth.riskScore.score,
    truth.riskScore.label,
    truth.riskScore.total_findings,
  ])
  const summaries = await rowsOf(p, 'SELECT count(*)::INT AS n FROM thalian.posture_summaries')
  expect(summaries[0]!.n).toBe(snapshots)
  if (!audit) return
  const entries = await rowsOf(p, 'SELECT id, action FROM thalian.audit_log')
  expect(entries).toHaveLength(truth.auditEntries.size)
  for (const row of entries) expect(truth.auditEntries.get(String(row.id))?.action).toBe(row.action)
}

for (const kind of DESTINATION_KINDS) {
  describe(`Thalian, declared only, into ${kind.name}`, () => {
    it('loads every table equal to the truth; a second run duplicates nothing and adds one snapshot', async () => {
      const s = await start()
      const p = pipelineOf(envOf(s, await kind.freshUrl()))
      const first = await runPipeline(p)
      expect(first.error?.message).toBeUndefined()
      expect(first.status).toBe('success')
      await expectTruth(p, s, 1)
      // Findings page by offset (3 pages of 100), the export by body cursor (3 calls).
      expect(s.stats.byRoute).toMatchObject({ findings: 3, 'export-audit-log': 3 })
      // The workspace goes with every request: in the query, and in the export's body.
      expect(s.stats.workspaceIds.every((w) => w === s.workspaceId)).toBe(true)
      expect((await runPipeline(p)).status).toBe('success')
      await expectTruth(p, s, 2)
      const child = await rowsOf(p, 'SELECT count(*)::INT AS n FROM thalian.risk_scores__top_risks')
      expect(child[0]!.n).toBe(6)
    })

    it('after changes: new and updated findings, new audit entries, integrations flipping', async () => {
      const s = await start({ seed: 4 })
      const p = pipelineOf(envOf(s, await kind.freshUrl()))
      expect((await runPipeline(p)).status).toBe('success')
      s.mutate({
        newFindings: 30,
        updateFindings: 12,
        newAuditEntries: 45,
        integrationStatusChanges: 2,
      })
      expect((await runPipeline(p)).status).toBe('success')
      await expectTruth(p, s, 2)
    })

    it('through faults and a rate limit with no headers: still exactly the truth', async () => {
      const s = await start({
        seed: 7,
        faults: { serverError: 0.08, truncated: 0.05, drop: 0.03, htmlOk: 0.04 },
        rateLimit: { limit: 3, windowMs: 1000 },
      })
      const p = pipelineOf(envOf(s, await kind.freshUrl()))
      const result = await runPipeline(p)
      expect(result.error?.message).toBeUndefined()
      expect(result.status).toBe('success')
      expect(s.stats.faults).toBeGreaterThan(0)
      expect(result.rateLimited).toBeGreaterThan(0)
      await expectTruth(p, s, 1)
    })

    it('without a session token the audit log is not read; the rest loads', async () => {
      const s = await start()
      const p = pipelineOf(envOf(s, await kind.freshUrl(), false))
      expect(p.resources.map((r) => r.name)).not.toContain('audit_log')
      expect((await runPipeline(p)).status).toBe('success')
      await expectTruth(p, s, 1, false)
      expect(s.stats.byRoute['export-audit-log']).toBeUndefined()
    })

    it('kill -9 at several moments, then run: exactly the truth; the key is never printed or stored', async () => {
      const s = await start({ findings: 900, auditEntries: 600, faults: { latencyMs: 15 } })
      const dir = tempDir()
      const url = await kind.freshUrl()
      const env = { ...envOf(s, url), THENA_API_TOKEN: 'unused' }
      const killed = await killAfterFirstCommit(
        ['run', '--config', REPO_CONFIG, '--pipeline', 'thalian'],
        { cwd: dir, env },
        [0, 120, 300],
      )
      for (const res of killed) expect(res.code === 0 || res.signal === 'SIGKILL').toBe(true)
      let output = killed.map((r) => r.stdout + r.stderr).join('')
      const last = await runCli(['run', '--config', REPO_CONFIG, '--pipeline', 'thalian'], {
        cwd: dir,
        env,
      })
      output += last.stdout + last.stderr
      expect(last.code).toBe(0)
      const p = pipelineOf(envOf(s, url), false)
      const truth = s.truth()
      const findings = await rowsOf(
        p,
        'SELECT count(DISTINCT id)::INT AS n, count(*)::INT AS rows FROM thalian.findings',
      )
      expect(findings[0]).toEqual({ n: truth.findings.size, rows: truth.findings.size })
      const audit = await rowsOf(
        p,
        'SELECT count(DISTINCT id)::INT AS n, count(*)::INT AS rows FROM thalian.audit_log',
      )
      expect(audit[0]).toEqual({ n: truth.auditEntries.size, rows: truth.auditEntries.size })
      // status reads the warehouse without any key set.
      const status = await runCli(['status', '--config', REPO_CONFIG, '--pipeline', 'thalian'], {
        cwd: dir,
        env: { THENA_DESTINATION: url },
      })
      expect(status.code).toBe(0)
      expect(status.stdout).toContain('findings')
      output += status.stdout + status.stderr
      const files = readdirSync(dir)
        .map((f) => readFileSync(join(dir, f)).toString('latin1'))
        .join('\n')
      const everything = output + files + dumpWarehouse(p) + s.stats.urls.join('\n')
      for (const secret of [s.apiKey, s.sessionToken]) expect(everything).not.toContain(secret)
    })
  })
}
