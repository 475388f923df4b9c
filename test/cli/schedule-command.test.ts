import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { resolvePipeline } from '../../src/config/resolve-pipeline.js'
import { startSimulator } from '../../sources/thena/simulator/index.js'
import { startPlatformSimulator } from '../../sources/thena-platform/simulator/index.js'
import { startWorkflowsSimulator } from '../../sources/thena-workflows/simulator/index.js'
import type { Simulator } from '../../sources/thena/simulator/index.js'
import { runCli, startCli } from '../helpers/cli.js'
import { DESTINATION_KINDS, epochMs } from '../helpers/destinations.js'
import { tempDir } from '../helpers/pipeline.js'
import { expectWarehouseEqualsTruth, rowsOf } from '../helpers/truth.js'

let sim: Simulator | undefined
afterEach(async () => {
  await sim?.stop()
  sim = undefined
})

const REPO_CONFIG = fileURLToPath(new URL('../../pipelines.config.ts', import.meta.url))

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('thena-sync schedule (CLI)', () => {
  it('without any schedule it says which setting to add (exit 2)', async () => {
    const s = (sim = await startSimulator({ rateLimit: false, records: 10 }))
    const dir = tempDir()
    const res = await runCli(['schedule'], {
      cwd: dir,
      env: { THENA_API_TOKEN: s.token, THENA_BASE_URL: s.url },
    })
    expect(res.code).toBe(2)
    expect(res.stderr).toContain('THENA_SCHEDULE')
    const bad = await runCli(['schedule'], {
      cwd: dir,
      env: { THENA_API_TOKEN: s.token, THENA_BASE_URL: s.url, THENA_SCHEDULE: '61 * * * *' },
    })
    expect(bad.code).toBe(2)
    expect(bad.stderr.trim()).toMatch(/^thena-sync: THENA_SCHEDULE: `61 \* \* \* \*`/)
    const zone = await runCli(['schedule'], {
      cwd: dir,
      env: {
        THENA_API_TOKEN: s.token,
        THENA_BASE_URL: s.url,
        THENA_SCHEDULE: '0 3 * * *',
        THENA_SCHEDULE_TIMEZONE: 'Mars/Olympus',
      },
    })
    expect(zone.code).toBe(2)
    expect(zone.stderr.trim()).toBe(
      'thena-sync: THENA_SCHEDULE_TIMEZONE: `Mars/Olympus` is not an IANA time zone, e.g. `Europe/Berlin`',
    )
  })
})

/**
 * Waits (up to 60 s) until a daemon is up (its `scheduled` log lines: starting takes seconds on
 * a loaded machine), then at least `minMs` more, and until `done` holds of what they printed.
 */
async function daemonsUp(
  daemons: readonly ReturnType<typeof startCli>[],
  minMs: number,
  done: (stdout: string) => boolean,
): Promise<{ seen: string }> {
  const out = { seen: '', logged: '' }
  for (const d of daemons) {
    d.child.stdout!.on('data', (x) => (out.seen += String(x)))
    d.child.stderr!.on('data', (x) => (out.logged += String(x)))
  }
  let upAt: number | undefined
  for (const end = Date.now() + 60_000; Date.now() < end; await sleep(100)) {
    upAt ??= out.logged.includes('"event":"scheduled"') ? Date.now() : undefined
    if (upAt !== undefined && Date.now() - upAt >= minMs && done(out.seen)) break
  }
  return out
}

for (const kind of DESTINATION_KINDS) {
  describe(`thena-sync schedule (CLI) on ${kind.name}`, () => {
    it('two schedulers on one warehouse never overlap; SIGTERM commits and exits 0; the next run is exact', async () => {
      const s = (sim = await startSimulator({
        rateLimit: false,
        records: 1500,
        faults: { latency: { rate: 1, ms: 10 } },
      }))
      const dir = tempDir()
      const destination = await kind.freshUrl()
      const env = {
        THENA_API_TOKEN: s.token,
        THENA_BASE_URL: s.url,
        THENA_DESTINATION: destination,
        THENA_SCHEDULE: '* * * * * *',
        // Odd seconds only, to fall between some of the run ticks.
        THENA_RECONCILE_SCHEDULE: '1-59/4 * * * * *',
      }
      expect((await runCli(['run'], { cwd: dir, env })).code).toBe(0)
      const pipeline = resolvePipeline(
        { pipelines: { thena: { token: s.token, baseUrl: s.url, destination } } },
        'thena',
        {},
      )
      const [{ n: before }] = (await rowsOf(
        pipeline,
        'SELECT count(*) AS n FROM thena._thena_loads',
      )) as [{ n: string }]
      s.resetCounters()
      const a = startCli(['schedule'], { cwd: dir, env })
      const b = startCli(['schedule'], { cwd: dir, env })
      // At least 7 s from when a daemon is up, so that the reconcile cron fires; and until two
      // runs succeeded (a loaded machine fits fewer ticks in 7 s).
      await daemonsUp([a, b], 7000, (out) => (out.match(/^thena: success /gm)?.length ?? 0) >= 2)
      s.mutate({ op: 'insertRequests', count: 40 })
      await sleep(1500)
      a.child.kill('SIGTERM')
      b.child.kill('SIGTERM')
      const [ra, rb] = await Promise.all([a.done, b.done])
      expect([ra.code, rb.code]).toEqual([0, 0])
      const lines = (ra.stderr + rb.stderr).trim().split('\n')
      // No run failed: every stderr line is a structured log line, none an error line.
      expect(lines.filter((l) => !l.startsWith('{'))).toEqual([])
      const logs = lines.map(
        (l) => JSON.parse(l) as { event: string; mode?: string; reason?: string },
      )
      expect(logs.filter((l) => l.event === 'scheduled')).toHaveLength(4)
      // They did compete: some ticks found the pipeline running (here or in the other process).
      expect(logs.filter((l) => l.event === 'skipped').length).toBeGreaterThan(0)
      const loads = (
        await rowsOf(
          pipeline,
          'SELECT load_id, command, status, started_at, finished_at, requests FROM thena._thena_loads ORDER BY started_at',
        )
      ).slice(Number(before))
      // Runs kept coming, tick after tick (how many fit in 8.5 s depends on the machine's load).
      expect(loads.filter((l) => l.status === 'success').length).toBeGreaterThanOrEqual(2)
      // The reconcile job fired: it ran, or found the pipeline running (here or elsewhere).
      expect(
        loads.some((l) => l.command === 'reconcile') ||
          logs.some((l) => l.event === 'skipped' && l.mode === 'reconcile'),
      ).toBe(true)
      expect(loads.filter((l) => l.status === 'running' || l.status === 'aborted')).toEqual([])
      // Never two at once: each load finished before the next one started.
      for (let i = 1; i < loads.length; i++)
        expect(epochMs(loads[i]!.started_at)!).toBeGreaterThanOrEqual(
          epochMs(loads[i - 1]!.finished_at)!,
        )
      // Every request the API served belongs to a recorded load: a refused scheduler sent none.
      // (A run interrupted by SIGTERM may have one prefetch in flight: counted by the client
      // but cancelled before the server saw it, or the other way round.)
      const recorded = loads.reduce((n, l) => n + Number(l.requests), 0)
      const interrupted = loads.filter((l) => l.status === 'interrupted').length
      expect(Math.abs(s.counters.requests - recorded)).toBeLessThanOrEqual(interrupted)
      expect((await runCli(['run'], { cwd: dir, env })).code).toBe(0)
      await expectWarehouseEqualsTruth(pipeline, s)
    }, 90_000)
  })
}

describe('thena-sync schedule (CLI): two pipelines on one DuckDB file', () => {
  it('same cron, same file, two datasets: they take turns; every success printed is on record; the file stays readable', async () => {
    const s = (sim = await startSimulator({
      rateLimit: false,
      records: 1500,
      faults: { latency: { rate: 1, ms: 5 } },
    }))
    const dir = tempDir()
    const file = join(dir, 'shared.duckdb')
    const index = fileURLToPath(new URL('../../src/index.ts', import.meta.url))
    const pipeline = (dataset: string) =>
      `{ token: env('SIM_TOKEN'), baseUrl: ${JSON.stringify(s.url)}, destination: ${JSON.stringify(`duckdb:${file}`)}, dataset: '${dataset}', schedule: { cron: '*/2 * * * * *' } }`
    writeFileSync(join(dir, 'package.json'), '{ "type": "module" }')
    writeFileSync(
      join(dir, 'pipelines.config.ts'),
      `import { defineConfig, env } from ${JSON.stringify(index)}\n` +
        `export default defineConfig({ pipelines: { first: ${pipeline('thena')}, second: ${pipeline('other')} } })\n`,
    )
    const env = { SIM_TOKEN: s.token }
    const daemon = startCli(['schedule'], { cwd: dir, env })
    // Wait on what the daemon prints, not on the clock: a loaded machine fits fewer ticks.
    let seen = ''
    daemon.child.stdout!.on('data', (d) => (seen += String(d)))
    const successes = (name: string) =>
      seen.match(new RegExp(`^${name}: success `, 'gm'))?.length ?? 0
    const until = async (ok: () => boolean, ms: number) => {
      for (const end = Date.now() + ms; !ok() && Date.now() < end;) await sleep(100)
    }
    await until(() => successes('first') >= 2 && successes('second') >= 2, 40_000)
    s.mutate({ op: 'insertRequests', count: 25 })
    const [a, b] = [successes('first'), successes('second')]
    await until(() => successes('first') > a && successes('second') > b, 20_000)
    daemon.child.kill('SIGTERM')
    const res = await daemon.done
    expect(res.code).toBe(0)
    expect(res.stderr.split('\n').filter((l) => l.startsWith('thena-sync:'))).toEqual([])
    const printed = [...res.stdout.matchAll(/^(first|second): success .*\[load (\S+)\]/gm)].map(
      (m) => ({ pipeline: m[1]!, load: m[2]! }),
    )
    // Neither pipeline starves the other.
    for (const name of ['first', 'second'])
      expect(printed.filter((p) => p.pipeline === name).length).toBeGreaterThanOrEqual(2)
    const reader = resolvePipeline(
      { pipelines: { r: { token: 'x', destination: `duckdb:${file}` } } },
      'r',
      {},
    )
    for (const [name, dataset] of [
      ['first', 'thena'],
      ['second', 'other'],
    ] as const) {
      const loads = await rowsOf(
        reader,
        `SELECT load_id, status FROM ${dataset}._thena_loads WHERE pipeline = '${name}'`,
      )
      const byId = new Map(loads.map((l) => [l.load_id, l.status]))
      for (const p of printed.filter((x) => x.pipeline === name))
        expect(byId.get(p.load)).toBe('success')
      const [{ n }] = (await rowsOf(reader, `SELECT count(*) AS n FROM ${dataset}.requests`)) as [
        { n: string },
      ]
      expect(Number(n)).toBeGreaterThanOrEqual(1500)
    }
  }, 90_000)
})

describe('thena-sync schedule (CLI): the Platform and Workflows pipelines', () => {
  it('with only the Platform key set, both run and reconcile on the shared schedule, and stop on SIGTERM', async () => {
    const platform = await startPlatformSimulator({
      tickets: 40,
      commentsPerTicket: 2,
      rateLimit: false,
    })
    const workflows = await startWorkflowsSimulator({ rateLimit: false })
    try {
      const dir = tempDir()
      const env = {
        THENA_PLATFORM_API_KEY: platform.apiKey,
        THENA_PLATFORM_BASE_URL: platform.url,
        THENA_WORKFLOWS_BASE_URL: workflows.url,
        THENA_SCHEDULE: '*/2 * * * * *',
        THENA_RECONCILE_SCHEDULE: '1-59/6 * * * * *',
      }
      const daemon = startCli(['schedule', '--config', REPO_CONFIG], { cwd: dir, env })
      // At least 7 s from when the daemon is up, so that the reconcile cron fires; and until
      // both pipelines have succeeded.
      await daemonsUp(
        [daemon],
        7000,
        (out) => /^platform: success /m.test(out) && /^workflows: success /m.test(out),
      )
      daemon.child.kill('SIGTERM')
      const res = await daemon.done
      expect(res.code).toBe(0)
      expect(res.stderr.split('\n').filter((l) => l.startsWith('thena-sync:'))).toEqual([])
      const commands: string[] = []
      for (const [pipeline, dataset] of [
        ['platform', 'thena_platform'],
        ['workflows', 'thena_workflows'],
      ] as const) {
        const status = await runCli(
          [
            'query',
            `select command, status from ${dataset}._thena_loads`,
            '--format',
            'json',
            '--config',
            REPO_CONFIG,
          ],
          { cwd: dir, env },
        )
        const loads = JSON.parse(status.stdout) as { command: string; status: string }[]
        // A run or a reconcile (whichever the ticks found the pipeline free for) succeeded.
        expect(loads.filter((l) => l.status === 'success').length, pipeline).toBeGreaterThan(0)
        expect(
          loads.filter((l) => l.status === 'failed'),
          pipeline,
        ).toEqual([])
        commands.push(...loads.map((l) => l.command))
      }
      // The reconcile job fired: it ran, or found its pipeline running.
      const logs = res.stderr
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as { event: string; mode?: string })
      expect(
        commands.includes('reconcile') ||
          logs.some((l) => l.event === 'skipped' && l.mode === 'reconcile'),
      ).toBe(true)
      // bolt has no token here: it was never scheduled, so it wrote nothing.
      expect(res.stdout).not.toMatch(/^thena:/m)
    } finally {
      await platform.close()
      await workflows.close()
    }
  }, 90_000)
})
