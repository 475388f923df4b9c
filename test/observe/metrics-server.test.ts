/**
 * `thena-sync schedule --metrics-port`: scraped during real scheduled runs of the daemon (its
 * own process) against the simulator; the port's errors; the per-resource gauges seeded from
 * the warehouse by a daemon that has not run yet.
 */
import { createServer as createHttpServer } from 'node:http'
import { createServer } from 'node:net'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { request } from 'node:http'
import { startMetricsServer } from '../../src/observe/metrics-server.js'
import { RunMetrics } from '../../src/observe/run-metrics.js'
import { ScheduleHealth } from '../../src/observe/schedule-health.js'
import { startSimulator } from '../../sources/thena/simulator/index.js'
import type { Simulator } from '../../sources/thena/simulator/index.js'
import { runCli, startCli } from '../helpers/cli.js'
import { get } from '../helpers/http.js'
import { tempDir } from '../helpers/pipeline.js'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

let sim: Simulator | undefined
afterEach(async () => {
  await sim?.stop()
  sim = undefined
})

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Polls `probe` every 200 ms until it returns a value, or fails after `ms` with `what`. */
async function until<T>(what: string, ms: number, probe: () => Promise<T | undefined>): Promise<T> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(200)) {
    const value = await probe()
    if (value !== undefined) return value
  }
  throw new Error(`timed out waiting for ${what}`)
}

/** The value of one sample of the exposition text (`name{labels}`), or undefined. */
function sample(
  text: string,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (!m || m[1] !== name) continue
    const have = Object.fromEntries(
      [...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1]!, l[2]!]),
    )
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3])
  }
  return undefined
}

const INDEX = fileURLToPath(new URL('../../src/index.ts', import.meta.url))

/**
 * A config in `dir` for the simulator with few, quick retries: a run against a stopped API
 * fails in a second, not after the default backoff of a minute.
 */
function writeConfig(dir: string, s: Simulator, cron: string): void {
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }')
  writeFileSync(
    join(dir, 'pipelines.config.ts'),
    `import { defineConfig, env } from ${JSON.stringify(INDEX)}\n` +
      `export default defineConfig({ pipelines: { thena: { token: env('SIM_TOKEN'), baseUrl: ${JSON.stringify(s.url)}, ` +
      `destination: ${JSON.stringify(`duckdb:${join(dir, 'thena.duckdb')}`)}, http: { maxRetries: 1, backoffMs: 10 }, ` +
      `schedule: { cron: ${JSON.stringify(cron)} } } } })\n`,
  )
}

/** Starts the daemon and resolves its metrics base URL from the line it logs. */
function startDaemon(args: readonly string[], cwd: string, env: NodeJS.ProcessEnv) {
  const daemon = startCli(['schedule', '--metrics-port', '0', ...args], { cwd, env })
  let stdout = ''
  let stderr = ''
  daemon.child.stdout!.on('data', (d) => (stdout += String(d)))
  daemon.child.stderr!.on('data', (d) => (stderr += String(d)))
  const base = until('the metrics line', 30_000, async () => {
    const m = /"event":"metrics","url":"(http:\/\/[^"]+)\/metrics"/.exec(stderr)
    return m?.[1]
  })
  return { ...daemon, base, out: () => stdout, err: () => stderr }
}

describe('thena-sync schedule --metrics-port', () => {
  it('counters move after runs, gauges per resource, a histogram; healthz 200, then 503 naming the pipeline once the API is gone', async () => {
    const s = (sim = await startSimulator({ rateLimit: false, records: 300 }))
    const dir = tempDir()
    writeConfig(dir, s, '*/2 * * * * *')
    // The daemon notifies too: the failed runs below reach this receiver.
    const events: string[] = []
    const hook = createHttpServer((req, res) => {
      let body = ''
      req.on('data', (d) => (body += String(d)))
      req.on('end', () => {
        events.push((JSON.parse(body) as { event: string }).event)
        res.writeHead(204).end()
      })
    })
    await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve))
    const hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`
    const env = { SIM_TOKEN: s.token, THENA_NOTIFY_URL: hookUrl }
    const daemon = startDaemon([], dir, env)
    const base = await daemon.base
    const successes = () => daemon.out().match(/^thena: success /gm)?.length ?? 0
    await until('a first success', 40_000, async () => (successes() >= 1 ? true : undefined))
    s.mutate({ op: 'insertRequests', count: 20 })
    const after = successes()
    await until('another success', 40_000, async () => (successes() > after ? true : undefined))

    const scrape = await get(base, '/metrics')
    expect(scrape.status).toBe(200)
    expect(String(scrape.headers['content-type'])).toMatch(/^text\/plain/)
    const text = scrape.text
    const ok = { pipeline: 'thena', mode: 'run', status: 'success' }
    expect(sample(text, 'thena_sync_runs_total', ok)).toBeGreaterThanOrEqual(2)
    expect(
      sample(text, 'thena_sync_records_merged_total', { pipeline: 'thena' }),
    ).toBeGreaterThanOrEqual(300)
    expect(sample(text, 'thena_sync_api_requests_total', { pipeline: 'thena' })).toBeGreaterThan(0)
    expect(sample(text, 'thena_sync_rejects_total', { pipeline: 'thena' })).toBe(0)
    expect(
      sample(text, 'thena_sync_run_duration_seconds_count', { pipeline: 'thena', mode: 'run' }),
    ).toBeGreaterThanOrEqual(2)
    const resource = { pipeline: 'thena', resource: 'requests' }
    const committed = sample(text, 'thena_sync_last_commit_timestamp_seconds', resource)!
    expect(Math.abs(committed - Date.now() / 1000)).toBeLessThan(120)
    expect(sample(text, 'thena_sync_data_age_seconds', resource)).toBeGreaterThanOrEqual(0)
    expect(
      sample(text, 'thena_sync_last_commit_timestamp_seconds', { resource: 'users' }),
    ).toBeDefined()
    // Low cardinality: no load id, no token in any label or value.
    expect(text).not.toMatch(/load_id|\d{8}T\d{6}Z-/)
    expect(text).not.toContain(s.token)

    const healthy = await until('healthz 200', 30_000, async () => {
      const h = await get(base, '/healthz')
      return h.status === 200 ? h : undefined
    })
    expect(JSON.parse(healthy.text)).toMatchObject({
      status: 'ok',
      pipelines: [{ pipeline: 'thena', healthy: true, lastStatus: 'success' }],
    })

    await s.stop()
    sim = undefined
    // Wait for the failed run itself: on a slow machine an overdue 503 may come first.
    const sick = await until('healthz 503 for the failed run', 60_000, async () => {
      const h = await get(base, '/healthz')
      return h.status === 503 && h.text.includes('its last run failed') ? h : undefined
    })
    const report = JSON.parse(sick.text) as { status: string; reason: string }
    expect(report.status).toBe('unhealthy')
    expect(report.reason).toMatch(/^thena: its last run failed/)
    const failed = sample((await get(base, '/metrics')).text, 'thena_sync_runs_total', {
      ...ok,
      status: 'failed',
    })
    expect(failed).toBeGreaterThanOrEqual(1)

    await until('a run_failed notification', 20_000, async () =>
      events.includes('run_failed') ? true : undefined,
    )
    // The first load announced its tables.
    expect(events).toContain('schema_changed')

    daemon.child.kill('SIGTERM')
    const res = await daemon.done
    expect(res.code).toBe(0)
    hook.closeAllConnections()
    hook.close()
  }, 120_000)

  it('a restarted daemon reports the last commits from the warehouse before it runs', async () => {
    const s = (sim = await startSimulator({ rateLimit: false, records: 50 }))
    const dir = tempDir()
    // Once a year: this daemon does not run while it is scraped.
    writeConfig(dir, s, '0 0 1 1 *')
    const env = { SIM_TOKEN: s.token }
    const before = Date.now() / 1000
    expect((await runCli(['run'], { cwd: dir, env })).code).toBe(0)
    const daemon = startDaemon([], dir, env)
    const base = await daemon.base
    const text = await until('seeded gauges', 30_000, async () => {
      const t = (await get(base, '/metrics')).text
      return sample(t, 'thena_sync_last_commit_timestamp_seconds', { resource: 'requests' })
        ? t
        : undefined
    })
    const at = sample(text, 'thena_sync_last_commit_timestamp_seconds', { resource: 'requests' })!
    expect(at).toBeGreaterThanOrEqual(before - 1)
    expect(sample(text, 'thena_sync_runs_total', { status: 'success' })).toBe(0)
    // Never ran, but its next tick is far off: healthy.
    expect((await get(base, '/healthz')).status).toBe(200)
    daemon.child.kill('SIGTERM')
    expect((await daemon.done).code).toBe(0)
  }, 60_000)

  it('a port in use or a bad value: one line naming the setting (exit 2)', async () => {
    const s = (sim = await startSimulator({ rateLimit: false, records: 5 }))
    const dir = tempDir()
    const env = { THENA_API_TOKEN: s.token, THENA_BASE_URL: s.url, THENA_SCHEDULE: '0 0 1 1 *' }
    const busy = createServer()
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve))
    const { port } = busy.address() as AddressInfo
    try {
      const taken = await runCli(['schedule', '--metrics-port', String(port)], { cwd: dir, env })
      expect(taken.code).toBe(2)
      expect(taken.stderr.trim()).toBe(
        `thena-sync: --metrics-port: port ${port} on 127.0.0.1 is in use (another daemon?); choose a free port`,
      )
    } finally {
      busy.close()
    }
    const bad = await runCli(['schedule'], {
      cwd: dir,
      env: { ...env, THENA_METRICS_PORT: 'http' },
    })
    expect(bad.code).toBe(2)
    expect(bad.stderr.trim()).toBe(
      'thena-sync: THENA_METRICS_PORT: expected a port number from 1 to 65535 (0: any free port), got `http`',
    )
  }, 60_000)
})

describe('the metrics server on 127.0.0.1', () => {
  /** The status of GET `path` sent with the Host header `host`. */
  const statusOf = (url: string, path: string, host: string) =>
    new Promise<number>((resolve, reject) => {
      const req = request(`${url}${path}`, { headers: { host } }, (res) => {
        res.resume()
        resolve(res.statusCode!)
      })
      req.on('error', reject)
      req.end()
    })

  it('answers only requests addressed to this machine (no DNS rebinding)', async () => {
    const server = await startMetricsServer(
      { port: 0, host: '127.0.0.1', portField: '--metrics-port', hostField: '--metrics-host' },
      new RunMetrics([]),
      new ScheduleHealth([], () => undefined),
    )
    try {
      const port = new URL(server.url).port
      for (const path of ['/metrics', '/healthz']) {
        expect(await statusOf(server.url, path, `127.0.0.1:${port}`)).toBe(200)
        expect(await statusOf(server.url, path, `localhost:${port}`)).toBe(200)
        expect(await statusOf(server.url, path, `rebound.example:${port}`)).toBe(421)
      }
    } finally {
      await server.close()
    }
  })
})
