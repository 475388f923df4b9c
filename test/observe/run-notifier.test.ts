/**
 * Notifications: a local receiver gets the POSTs of a failed run (through `thena-sync run`), a
 * contract stop and new tables and columns; deliveries are retried, bounded, and never carry
 * the token.
 */
import { writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { notifyRun } from '../../src/observe/run-notifier.js'
import type { Notification } from '../../src/observe/run-notifier.js'
import { runPipeline } from '../../src/pipeline/run-pipeline.js'
import type { RunResult } from '../../src/pipeline/run-stats.js'
import { TerminalError } from '../../src/errors.js'
import { startSimulator } from '../../sources/thena/simulator/index.js'
import type { Simulator } from '../../sources/thena/simulator/index.js'
import { runCli } from '../helpers/cli.js'
import { simulatorPipeline, tempDir } from '../helpers/pipeline.js'

let sim: Simulator | undefined
const receivers: Receiver[] = []
afterEach(async () => {
  await sim?.stop()
  sim = undefined
  for (const r of receivers.splice(0)) await r.close()
})

interface Receiver {
  readonly url: string
  /** Bodies received, parsed, in order (every attempt). */
  readonly bodies: Notification[]
  /** Raw bodies, to search for secrets. */
  readonly raw: string[]
  /** The Authorization header of each request (undefined: none). */
  readonly authorization: (string | undefined)[]
  close(): Promise<void>
}

/** A local HTTP receiver; `answer` decides each response (by attempt number, from 1). */
async function startReceiver(
  answer: (attempt: number, res: ServerResponse) => void = (_, res) => res.writeHead(204).end(),
): Promise<Receiver> {
  const bodies: Notification[] = []
  const raw: string[] = []
  const authorization: (string | undefined)[] = []
  const server = createServer((req: IncomingMessage, res) => {
    authorization.push(req.headers.authorization)
    let body = ''
    req.on('data', (d) => (body += String(d)))
    req.on('end', () => {
      raw.push(body)
      bodies.push(JSON.parse(body) as Notification)
      answer(raw.length, res)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  const receiver = {
    url: `http://127.0.0.1:${port}/hook`,
    bodies,
    raw,
    authorization,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
  receivers.push(receiver)
  return receiver
}

const failedResult = (token: string): RunResult => ({
  loadId: '20261206T170000Z-abcdef',
  pipeline: 'thena',
  status: 'failed',
  resources: [],
  records: 0,
  unchanged: 0,
  rejects: 0,
  requests: 1,
  retries: 0,
  rateLimited: 0,
  seconds: 1,
  error: new TerminalError('http_server_error', `GET /x?token=${token} answered 500\nsecond line`),
})

const INDEX = fileURLToPath(new URL('../../src/index.ts', import.meta.url))

describe('notifications', () => {
  it('`thena-sync run` against a refusing API: one run_failed POST, per-pipeline URL over THENA_NOTIFY_URL, no token', async () => {
    const s = (sim = await startSimulator({
      rateLimit: false,
      records: 20,
      faults: { serverError: 1 },
    }))
    const hook = await startReceiver()
    const other = await startReceiver()
    const dir = tempDir()
    writeFileSync(join(dir, 'package.json'), '{ "type": "module" }')
    writeFileSync(
      join(dir, 'pipelines.config.ts'),
      `import { defineConfig, env } from ${JSON.stringify(INDEX)}\n` +
        `export default defineConfig({ pipelines: { thena: { token: env('SIM_TOKEN'), baseUrl: ${JSON.stringify(s.url)}, ` +
        `destination: ${JSON.stringify(`duckdb:${join(dir, 'thena.duckdb')}`)}, http: { maxRetries: 0 }, notify: { url: env('HOOK') } } } })\n`,
    )
    const res = await runCli(['run'], {
      cwd: dir,
      env: { SIM_TOKEN: s.token, HOOK: hook.url, THENA_NOTIFY_URL: other.url },
    })
    expect(res.code).toBe(4)
    expect(other.bodies).toEqual([])
    expect(hook.bodies).toHaveLength(1)
    const [n] = hook.bodies
    expect(n).toMatchObject({ event: 'run_failed', pipeline: 'thena' })
    expect(n!.reason).not.toContain('\n')
    expect(n!.reason).toMatch(/HTTP 5\d\d/)
    expect(Date.parse(n!.at)).toBeGreaterThan(Date.now() - 60_000)
    expect(hook.raw.join('')).not.toContain(s.token)
    // The notify URL is a secret: never printed.
    expect(res.stdout + res.stderr).not.toContain(hook.url)
  }, 60_000)

  it('a contract stop, then new tables and a new column, each POSTed with its resource', async () => {
    const s = (sim = await startSimulator({
      rateLimit: false,
      records: 120,
      users: 10,
      hiddenUsers: 0,
    }))
    const hook = await startReceiver()
    const notify = { url: hook.url }
    const only = { requests_v3: { enabled: false } } as const
    s.mutate({
      op: 'changeFieldType',
      path: 'first_response_time.actual_time',
      type: 'string',
      fromIndex: 100,
    })
    const frozen = simulatorPipeline(s, {
      notify,
      resources: { ...only, requests: { contract: { typeChanges: 'freeze' } } },
    })
    const stopped = await runPipeline(frozen)
    expect(stopped.status).toBe('failed')
    await notifyRun(frozen, stopped, (line) => expect.fail(line))
    const stop = hook.bodies.find((b) => b.event === 'contract_stopped')
    expect(stop).toMatchObject({ pipeline: 'thena', resource: 'requests', loadId: stopped.loadId })
    expect(stop!.reason).toMatch(/contract freezes type changes/)
    expect(hook.bodies.filter((b) => b.event === 'run_failed')).toEqual([])

    hook.bodies.length = 0
    const evolving = simulatorPipeline(s, { notify, resources: only })
    const first = await runPipeline(evolving)
    expect(first.status).toBe('success')
    await notifyRun(evolving, first, (line) => expect.fail(line))
    // A first load creates the tables: one notification per resource.
    const created = hook.bodies.filter((b) => b.event === 'schema_changed')
    expect(created.map((b) => b.resource)).toContain('requests')
    expect(created.find((b) => b.resource === 'requests')!.reason).toMatch(
      /new table requests \(\d+ columns\)/,
    )

    hook.bodies.length = 0
    s.mutate({ op: 'addField', path: 'escalation.csat', type: 'integer' })
    const second = await runPipeline(evolving, { mode: 'reconcile' })
    expect(second.status).toBe('success')
    await notifyRun(evolving, second, (line) => expect.fail(line))
    expect(hook.bodies).toEqual([
      {
        event: 'schema_changed',
        pipeline: 'thena',
        resource: 'requests',
        loadId: second.loadId,
        reason: 'new column in requests: escalation__csat',
        at: expect.any(String),
      },
    ])
  }, 60_000)

  it('500 twice, then 200: delivered on the third attempt, nothing logged; the token in no body', async () => {
    const hook = await startReceiver((attempt, res) =>
      res.writeHead(attempt <= 2 ? 500 : 200).end(),
    )
    const token = 'tok-notify-secret-1234'
    const { redactor } = await import('../../src/redactor.js')
    redactor.add(token)
    const lines: string[] = []
    await notifyRun(
      { notify: { url: hook.url, field: 'THENA_NOTIFY_URL' } },
      failedResult(token),
      (l) => lines.push(l),
    )
    expect(hook.bodies).toHaveLength(3)
    expect(lines).toEqual([])
    expect(hook.bodies[2]).toMatchObject({ event: 'run_failed', loadId: '20261206T170000Z-abcdef' })
    expect(hook.bodies[2]!.reason).toBe('GET /x?token=*** answered 500 second line')
    expect(hook.raw.join('')).not.toContain(token)
  })

  it('a URL with user:password: sent as Basic authentication, delivered', async () => {
    const hook = await startReceiver((_, res) => res.writeHead(204).end())
    const url = new URL(hook.url)
    url.username = 'thena'
    url.password = 'p@ss:w0rd-notify'
    const lines: string[] = []
    await notifyRun(
      { notify: { url: url.href, field: 'THENA_NOTIFY_URL' } },
      failedResult('tok-unused-5678'),
      (l) => lines.push(l),
    )
    expect(lines).toEqual([])
    expect(hook.authorization).toEqual([
      `Basic ${Buffer.from('thena:p@ss:w0rd-notify').toString('base64')}`,
    ])
  })

  it('a receiver that never answers holds the run no longer than the bound; one line, without the URL', async () => {
    const hook = await startReceiver(() => undefined)
    const lines: string[] = []
    const started = Date.now()
    await notifyRun(
      { notify: { url: hook.url, field: 'THENA_NOTIFY_URL' } },
      failedResult('x'),
      (l) => lines.push(l),
      { totalMs: 1500 },
    )
    const took = Date.now() - started
    expect(took).toBeGreaterThanOrEqual(1400)
    expect(took).toBeLessThan(3000)
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(
      /^thena: run_failed notification not delivered to the URL of THENA_NOTIFY_URL: /,
    )
    expect(lines[0]).not.toContain(hook.url)
  })
})

describe('notify settings', () => {
  it('a bad URL is one line naming the field or the variable, without the value', async () => {
    const { resolvePipeline } = await import('../../src/config/resolve-pipeline.js')
    const config = (url?: string) => ({
      pipelines: { thena: { token: 't0ken-x', ...(url !== undefined && { notify: { url } }) } },
    })
    expect(() => resolvePipeline(config('ftp://user:pw-secret@host/x'), 'thena', {})).toThrow(
      /^pipelines\.thena\.notify\.url: expected an http\(s\) URL such as `https:\/\/hooks\.example\.com\/thena-sync` \(the value is not shown: it may hold a secret\)$/,
    )
    expect(() => resolvePipeline(config(), 'thena', { THENA_NOTIFY_URL: 'hooks' })).toThrow(
      /^THENA_NOTIFY_URL: expected an http\(s\) URL/,
    )
    expect(
      resolvePipeline(config(), 'thena', { THENA_NOTIFY_URL: 'https://h.example/x' }).notify,
    ).toEqual({ url: 'https://h.example/x', field: 'THENA_NOTIFY_URL' })
    expect(resolvePipeline(config(), 'thena', {}).notify).toBeUndefined()
  })
})
