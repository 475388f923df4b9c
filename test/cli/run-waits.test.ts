import type { ChildProcess } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { startSimulator } from '../../sources/thena/simulator/index.js'
import type { Simulator } from '../../sources/thena/simulator/index.js'
import { startCli } from '../helpers/cli.js'
import { tempDir } from '../helpers/pipeline.js'
import { startScriptedApi } from '../helpers/scripted-api.js'
import type { ScriptedApi, ScriptedResponse } from '../helpers/scripted-api.js'

let sim: Simulator | undefined
let api: ScriptedApi | undefined
/** CLI processes started by the test: one a broken build leaves waiting is killed after it. */
const children: ChildProcess[] = []
afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL')
  await api?.close()
  await sim?.stop()
  api = sim = undefined
})

const cli = (args: readonly string[], options: { cwd: string; env: NodeJS.ProcessEnv }) => {
  const started = startCli(args, options)
  children.push(started.child)
  return started
}
const runCli = (args: readonly string[], options: { cwd: string; env: NodeJS.ProcessEnv }) =>
  cli(args, options).done

/** A project whose one pipeline reads `baseUrl` with these `http` settings, one page per batch. */
function projectDir(baseUrl: string, http: object): string {
  const dir = tempDir()
  const index = fileURLToPath(new URL('../../src/index.ts', import.meta.url))
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }')
  writeFileSync(
    join(dir, 'pipelines.config.ts'),
    `import { defineConfig, env } from ${JSON.stringify(index)}\n` +
      `export default defineConfig({ pipelines: { thena: { token: env('THENA_API_TOKEN'), baseUrl: ${JSON.stringify(baseUrl)}, destination: 'duckdb:./thena.duckdb', batchPages: 1, http: ${JSON.stringify(http)} } } })\n`,
  )
  return dir
}

/** Resolves with the first `"event":"wait"` log line of a CLI run, parsed. */
const firstWait = (child: ChildProcess) =>
  new Promise<Record<string, unknown>>((resolve, reject) => {
    let text = ''
    const onData = (d: Buffer) => {
      text += String(d)
      const line = text.split('\n').find((l) => l.includes('"event":"wait"'))
      if (!line) return
      child.stderr!.off('data', onData)
      resolve(JSON.parse(line) as Record<string, unknown>)
    }
    child.stderr!.on('data', onData)
    child.once('close', () => reject(new Error(`exited without waiting: ${text}`)))
  })

/** The last load of the warehouse in `dir`, as `thena-sync status --json` shows it. */
async function lastLoad(dir: string, env: NodeJS.ProcessEnv): Promise<Record<string, unknown>> {
  const res = await runCli(['status', '--json'], { cwd: dir, env })
  expect(res.code).toBe(0)
  return (JSON.parse(res.stdout) as { loads: Record<string, unknown>[] }).loads[0]!
}

/** From the third page of requests on, the API answers `response` until it is healthy again. */
async function hostileApi(response: ScriptedResponse) {
  const s = (sim = await startSimulator({ rateLimit: false, records: 450 }))
  const state = { healthy: false }
  const a = (api = await startScriptedApi(s, ({ url, nth }) =>
    !state.healthy && url.pathname === '/rest/v2/requests' && nth >= 3 ? response : undefined,
  ))
  return { s, a, state }
}

describe('thena-sync run (CLI): waits', () => {
  it('SIGTERM during a long retry backoff: exit 130 at once; the wait was logged with its reason and end time', async () => {
    const { a } = await hostileApi({ status: 503, body: 'unavailable' })
    const dir = projectDir(a.url, { backoffMs: 20_000 })
    const env = { THENA_API_TOKEN: a.token }
    const run = cli(['run'], { cwd: dir, env })
    const wait = await firstWait(run.child)
    const loggedAt = Date.now()
    expect(wait.reason).toContain('retry 1 of 8 after HTTP 503: unavailable')
    expect(wait.seconds).toBeGreaterThanOrEqual(10)
    expect(String(wait.until)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
    expect(Date.parse(String(wait.until))).toBeGreaterThan(loggedAt + 8000)
    expect(String(wait.msg)).toContain(`until ${String(wait.until)}`)
    const stopped = Date.now()
    run.child.kill('SIGTERM')
    const res = await run.done
    expect(Date.now() - stopped).toBeLessThan(3000)
    expect(res.code).toBe(130)
    expect(res.stdout).toMatch(/thena: interrupted — [1-9]\d* records/)
    expect(await lastLoad(dir, env)).toMatchObject({ status: 'interrupted' })
  })

  it('a 429 asking for an hour: exit 4 at once, status shows why, and the next run resumes', async () => {
    const { a, state } = await hostileApi({
      status: 429,
      headers: { 'retry-after': '3600' },
      body: '{}',
    })
    const dir = projectDir(a.url, {})
    const env = { THENA_API_TOKEN: a.token }
    const started = Date.now()
    const failed = await runCli(['run'], { cwd: dir, env })
    expect(Date.now() - started).toBeLessThan(15_000)
    expect(failed.code).toBe(4)
    const errors = failed.stderr.split('\n').filter((l) => l.startsWith('thena-sync:'))
    expect(errors).toHaveLength(1)
    expect(errors[0]).toContain('rate limited by the API (429, Retry-After 3600 s)')
    expect(errors[0]).toContain('longer than http.maxWaitSeconds (300 s)')
    expect(errors[0]).toContain('the next run resumes')
    const load = await lastLoad(dir, env)
    expect(load).toMatchObject({ status: 'failed' })
    expect(String(load.error)).toContain('Retry-After 3600 s')
    expect(Number(load.records)).toBeGreaterThanOrEqual(200)
    state.healthy = true
    const resumed = await runCli(['run'], { cwd: dir, env })
    expect(resumed.stderr).not.toContain('thena-sync:')
    expect(resumed.code).toBe(0)
    expect(await lastLoad(dir, env)).toMatchObject({ status: 'success' })
  })
})
