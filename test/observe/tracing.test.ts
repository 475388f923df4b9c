import { createServer } from 'node:http'
import type { IncomingHttpHeaders, Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api'
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base'
import { afterEach, describe, expect, it } from 'vitest'
import { spanMessage } from '../../src/observe/run-trace.js'
import { runPipeline } from '../../src/pipeline/run-pipeline.js'
import { redactor } from '../../src/redactor.js'
import { startSimulator } from '../../sources/thena/simulator/index.js'
import type { Simulator } from '../../sources/thena/simulator/index.js'
import { runCli, startCli } from '../helpers/cli.js'
import { DESTINATION_KINDS } from '../helpers/destinations.js'
import { simulatorPipeline, tempDir } from '../helpers/pipeline.js'

const TOKEN = 'tok-Trace-Secret-7731-qwerty'
const COLLECTOR_KEY = 'collector-Key-5150-zyxw'
const INDEX = fileURLToPath(new URL('../../src/index.ts', import.meta.url))

/** One span as OTLP/HTTP JSON carries it, attributes flattened. */
interface ReceivedSpan {
  readonly traceId: string
  readonly spanId: string
  readonly parentSpanId: string
  readonly name: string
  readonly kind: number
  readonly attributes: Record<string, string | number | boolean>
  readonly status: { readonly code?: number; readonly message?: string }
}

interface OtlpValue {
  stringValue?: string
  intValue?: number | string
  boolValue?: boolean
  doubleValue?: number
}
interface OtlpSpan {
  traceId: string
  spanId: string
  parentSpanId?: string
  name: string
  kind: number
  attributes?: { key: string; value: OtlpValue }[]
  status?: { code?: number; message?: string }
}
interface OtlpBody {
  resourceSpans: {
    resource?: { attributes?: { key: string; value: OtlpValue }[] }
    scopeSpans: { scope?: { name?: string }; spans: OtlpSpan[] }[]
  }[]
}

const valueOf = (v: OtlpValue): string | number | boolean =>
  v.stringValue ??
  (v.intValue !== undefined ? Number(v.intValue) : undefined) ??
  v.boolValue ??
  v.doubleValue ??
  ''

const flatten = (attributes: { key: string; value: OtlpValue }[] = []) =>
  Object.fromEntries(attributes.map((a) => [a.key, valueOf(a.value)]))

/** An OTLP/HTTP collector in this process: `POST /v1/traces` with JSON, every body kept raw. */
class Collector {
  readonly bodies: string[] = []
  readonly headers: IncomingHttpHeaders[] = []
  readonly #server: Server

  private constructor(server: Server) {
    this.#server = server
  }

  static async start(): Promise<Collector> {
    const server = createServer()
    const collector = new Collector(server)
    server.on('request', (req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        if (req.method !== 'POST' || req.url !== '/v1/traces') {
          res.writeHead(404).end()
          return
        }
        collector.bodies.push(Buffer.concat(chunks).toString('utf8'))
        collector.headers.push(req.headers)
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
      })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    return collector
  }

  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`
  }

  /** Every span received, and the resources they came with. */
  spans(): { spans: ReceivedSpan[]; resources: Record<string, unknown>[] } {
    const spans: ReceivedSpan[] = []
    const resources: Record<string, unknown>[] = []
    for (const body of this.bodies) {
      for (const rs of (JSON.parse(body) as OtlpBody).resourceSpans) {
        resources.push(flatten(rs.resource?.attributes))
        for (const ss of rs.scopeSpans)
          for (const s of ss.spans)
            spans.push({
              traceId: s.traceId,
              spanId: s.spanId,
              parentSpanId: s.parentSpanId ?? '',
              name: s.name,
              kind: s.kind,
              attributes: flatten(s.attributes),
              status: s.status ?? {},
            })
      }
    }
    return { spans, resources }
  }

  stop(): Promise<void> {
    this.#server.closeAllConnections()
    return new Promise((resolve) => this.#server.close(() => resolve()))
  }
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return port
}

/** A config whose batches are 2 pages: several commits per list, each with a prefetch in flight. */
function writeConfig(dir: string): void {
  writeFileSync(
    join(dir, 'pipelines.config.ts'),
    `import { defineConfig, env } from ${JSON.stringify(INDEX)}\n` +
      `export default defineConfig({ pipelines: { thena: { token: env('THENA_API_TOKEN'), ` +
      `baseUrl: env('THENA_BASE_URL'), destination: env('THENA_DESTINATION'), batchPages: 2, ` +
      `http: { backoffMs: 5 } } } })\n`,
  )
}

let sim: Simulator | undefined
let collector: Collector | undefined
afterEach(async () => {
  await sim?.stop()
  await collector?.stop()
  sim = undefined
  collector = undefined
})

const CLIENT = 3 // SPAN_KIND_CLIENT
const STATUS_ERROR = 2

for (const kind of DESTINATION_KINDS) {
  describe(`traces of a CLI run into ${kind.name}`, () => {
    it('a run span, one span per resource under it, commits and requests under those, no secret', async () => {
      sim = await startSimulator({
        rateLimit: false,
        token: TOKEN,
        records: 700,
        // Each page takes a while: the prefetch of the next page overlaps the commit.
        faults: { latency: { rate: 1, ms: 10 } },
      })
      collector = await Collector.start()
      const dir = tempDir()
      writeConfig(dir)
      const destination = await kind.freshUrl()
      const res = await runCli(['run'], {
        cwd: dir,
        env: {
          THENA_API_TOKEN: TOKEN,
          THENA_BASE_URL: sim.url,
          THENA_DESTINATION: destination,
          OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
          OTEL_EXPORTER_OTLP_HEADERS: `x-collector-key=${COLLECTOR_KEY}`,
        },
      })
      expect(res.stderr).not.toContain('thena-sync:')
      expect(res.code).toBe(0)
      const summary = /thena: success — (\d+) records.*\[load (\S+)\]/.exec(res.stdout)
      expect(summary).not.toBeNull()
      const [records, loadId] = [Number(summary![1]), summary![2]!]

      // The exporter sent the collector's header; the process showed it nowhere.
      expect(collector.headers[0]!['x-collector-key']).toBe(COLLECTOR_KEY)
      expect(res.stdout + res.stderr).not.toContain(COLLECTOR_KEY)

      const { spans, resources } = collector.spans()
      expect(resources[0]).toMatchObject({ 'service.name': 'thena-sync' })
      expect(new Set(spans.map((s) => s.traceId)).size).toBe(1)
      expect(new Set(spans.map((s) => s.spanId)).size).toBe(spans.length)

      // One run span, the root, with the run's names and counts.
      const runs = spans.filter((s) => s.name === 'run')
      expect(runs).toHaveLength(1)
      const run = runs[0]!
      expect(run.parentSpanId).toBe('')
      expect(run.attributes).toMatchObject({
        'thena.pipeline': 'thena',
        'thena.mode': 'run',
        'thena.load_id': loadId,
        'thena.status': 'success',
        'thena.records': records,
        'thena.requests': sim.counters.requests,
      })

      // One span per resource, under the run.
      const pipeline = simulatorPipeline(sim, {}, destination)
      const resourceSpans = spans.filter((s) => s.name === 'resource')
      expect(resourceSpans.map((s) => s.attributes['thena.resource']).sort()).toEqual(
        pipeline.resources.map((r) => r.name).sort(),
      )
      for (const r of resourceSpans) expect(r.parentSpanId).toBe(run.spanId)
      const resourceById = new Map(resourceSpans.map((r) => [r.spanId, r]))

      // Commits under their resource; their records add up to the resource's and the run's.
      const commits = spans.filter((s) => s.name === 'commit')
      expect(commits.length).toBeGreaterThan(resourceSpans.length)
      for (const c of commits) {
        const parent = resourceById.get(c.parentSpanId)
        expect(parent?.attributes['thena.resource']).toBe(c.attributes['thena.resource'])
      }
      const sum = (list: readonly ReceivedSpan[], key: string) =>
        list.reduce((n, s) => n + Number(s.attributes[key] ?? 0), 0)
      expect(sum(commits, 'thena.records')).toBe(records)
      for (const r of resourceSpans) {
        const own = commits.filter((c) => c.parentSpanId === r.spanId)
        expect(sum(own, 'thena.records')).toBe(r.attributes['thena.records'])
        expect(own).toHaveLength(Number(r.attributes['thena.commits']))
      }
      const requestsCommits = commits.filter((c) => c.attributes['thena.resource'] === 'requests')
      expect(requestsCommits.length).toBeGreaterThan(2) // batches of 2 pages: prefetches overlapped

      // Requests: one span per request the simulator served (no retries here), each under the
      // run (the preflight) or under the resource whose path (or lookup path) it asked for.
      const requests = spans.filter((s) => s.kind === CLIENT)
      expect(requests).toHaveLength(sim.counters.requests)
      expect(sum(requests, 'http.request.resend_count')).toBe(0)
      expect(requests.filter((s) => s.parentSpanId === run.spanId)).toHaveLength(1)
      const pathsOf = new Map(
        pipeline.resources.map((r) => [
          r.name,
          [r.path, ...(r.dependents ?? []).map((d) => d.path)],
        ]),
      )
      for (const q of requests) {
        expect(q.attributes).toMatchObject({
          'http.request.method': 'GET',
          'http.response.status_code': 200,
          'thena.rate_limited': false,
        })
        const route = String(q.attributes['url.template'])
        expect(q.name).toBe(`GET ${route}`)
        expect(route).toMatch(/^\/[^?]*$/)
        if (q.parentSpanId === run.spanId) continue
        const resource = resourceById.get(q.parentSpanId)
        expect(resource, `parent of ${q.name}`).toBeDefined()
        expect(pathsOf.get(String(resource!.attributes['thena.resource']))).toContain(route)
      }
      expect(spans.every((s) => s.status.code !== STATUS_ERROR)).toBe(true)

      // Nothing secret and no record in what left the process: the token, a Postgres password,
      // the collector's key, a cursor, a record's text.
      const sent = collector.bodies.join('\n')
      expect(sent).not.toContain(TOKEN)
      expect(sent).not.toContain(COLLECTOR_KEY)
      const password = new URL(destination.startsWith('postgres') ? destination : 'x://h').password
      if (password) expect(sent).not.toContain(password)
      expect(sent).not.toMatch(/cursor=|limit=/)
      const texts = Object.values(sim.truth.requestAt(0) ?? {}).filter(
        (v): v is string => typeof v === 'string' && v.length >= 12,
      )
      expect(texts.length).toBeGreaterThan(0)
      for (const text of texts) expect(sent).not.toContain(text)
    })
  })
}

describe('traces with a collector that is down', () => {
  it('the run succeeds, quickly, with at most one line about the traces', async () => {
    sim = await startSimulator({ rateLimit: false, token: TOKEN, records: 120 })
    const dir = tempDir()
    const started = Date.now()
    const res = await runCli(['run'], {
      cwd: dir,
      env: {
        THENA_API_TOKEN: TOKEN,
        THENA_BASE_URL: sim.url,
        THENA_DESTINATION: `duckdb:${join(dir, 'thena.duckdb')}`,
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${await closedPort()}`,
      },
    })
    const seconds = (Date.now() - started) / 1000
    expect(res.code).toBe(0)
    expect(res.stdout).toMatch(/thena: success — \d+ records/)
    // Off a terminal every other stderr line is a JSON log line.
    const plain = res.stderr
      .trim()
      .split('\n')
      .filter((l) => !l.startsWith('{'))
    expect(plain.length).toBeLessThanOrEqual(1)
    if (plain.length === 1) expect(plain[0]).toMatch(/^thena-sync: traces: .*ECONNREFUSED/)
    // The exporter's own timeout is 10 s; the flush gives up after 2.5 s at most.
    expect(seconds).toBeLessThan(9)
  })
})

describe('traces of schedule', () => {
  it('SIGTERM stops it, and the spans of every run it made are exported before it exits', async () => {
    sim = await startSimulator({
      rateLimit: false,
      token: TOKEN,
      records: 300,
      faults: { latency: { rate: 1, ms: 10 } },
    })
    collector = await Collector.start()
    const dir = tempDir()
    const { child, done } = startCli(['schedule'], {
      cwd: dir,
      env: {
        THENA_API_TOKEN: TOKEN,
        THENA_BASE_URL: sim.url,
        THENA_DESTINATION: `duckdb:${join(dir, 'thena.duckdb')}`,
        THENA_SCHEDULE: '* * * * * *',
        OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
      },
    })
    // A run has ended: its spans wait in the batch processor (5 s between exports).
    await new Promise<void>((resolve) => {
      let out = ''
      child.stdout!.on('data', (d) => {
        out += String(d)
        if (/^thena: success/m.test(out)) resolve()
      })
      child.once('close', () => resolve())
    })
    child.kill('SIGTERM')
    const res = await done
    expect(res.code).toBe(0)
    const { spans } = collector.spans()
    const runs = spans.filter((s) => s.name === 'run')
    // Every run the daemon printed, the one SIGTERM interrupted included, and nothing orphaned.
    expect(runs).toHaveLength(res.stdout.match(/^thena: /gm)?.length ?? 0)
    expect(runs.length).toBeGreaterThan(0)
    const ids = new Set(spans.map((s) => s.spanId))
    for (const s of spans) if (s.parentSpanId) expect(ids.has(s.parentSpanId)).toBe(true)
  })
})

describe('spans in-process', () => {
  it('a refused token: the run and its request span fail with the one-line message, no token', async () => {
    const exporter = new InMemorySpanExporter()
    const provider = new BasicTracerProvider({
      spanProcessors: [new SimpleSpanProcessor(exporter)],
    })
    trace.setGlobalTracerProvider(provider)
    try {
      sim = await startSimulator({ rateLimit: false, token: TOKEN, records: 10 })
      const wrong = `${TOKEN}-wrong`
      const result = await runPipeline(simulatorPipeline({ url: sim.url, token: wrong }))
      expect(result.status).toBe('failed')
      const spans = exporter.getFinishedSpans()
      const run = spans.find((s) => s.name === 'run')!
      expect(run.status.code).toBe(SpanStatusCode.ERROR)
      expect(run.status.message).toContain('refused the token (HTTP 401)')
      expect(run.attributes['error.type']).toBe('http_unauthorized')
      const requests = spans.filter((s) => s.kind === SpanKind.CLIENT)
      expect(requests).toHaveLength(1)
      expect(requests[0]!.parentSpanContext?.spanId).toBe(run.spanContext().spanId)
      expect(requests[0]!.attributes).toMatchObject({
        'http.response.status_code': 401,
        'error.type': 'http_unauthorized',
      })
      const all = JSON.stringify(spans.map((s) => [s.name, s.attributes, s.status]))
      expect(all).not.toContain(TOKEN)
    } finally {
      await provider.shutdown()
      trace.disable()
    }
  })

  it('an error message becomes one line, redacted, with no URL query string and no body', () => {
    redactor.add('s3cr3t-Value-9931')
    const error = new Error(
      'GET https://api.example/rest/v2/requests?cursor=abc123&key=s3cr3t-Value-9931 failed\n' +
        '  after 3 attempts: HTTP 500: {"echo": "s3cr3t-Value-9931"}',
    )
    expect(spanMessage(error)).toBe(
      'GET https://api.example/rest/v2/requests failed after 3 attempts: HTTP 500',
    )
    const json = new Error(
      'GET http://h/x?page=2 failed after 9 attempts: the body is not valid JSON (12 bytes: ' +
        `Unexpected token 'a', "{"title": a secret title}" is not valid JSON)`,
    )
    expect(spanMessage(json)).toBe(
      'GET http://h/x failed after 9 attempts: the body is not valid JSON (12 bytes)',
    )
  })
})
