/**
 * The exit codes are the documented ones (README, "Exit codes"): usage errors at any depth of
 * the command tree exit 2, a reader that closes the output early gets no stack trace, and a
 * token refused by one endpoint mid-run exits 3 with what was committed before kept.
 */
import { spawn } from 'node:child_process'
import { closeSync, openSync, readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { request } from 'undici'
import { afterEach, describe, expect, it } from 'vitest'
import { runPipeline } from '../../src/pipeline/run-pipeline.js'
import { startSimulator } from '../../sources/thena/simulator/index.js'
import type { Simulator } from '../../sources/thena/simulator/index.js'
import { runCli } from '../helpers/cli.js'
import { DESTINATION_KINDS } from '../helpers/destinations.js'
import { simulatorPipeline, tempDir } from '../helpers/pipeline.js'
import { BIN } from '../helpers/spawn-simulator.js'
import { rowsOf } from '../helpers/truth.js'

let sim: Simulator | undefined
afterEach(async () => {
  await sim?.stop()
  sim = undefined
})

const start = async (records = 60) =>
  (sim = await startSimulator({ rateLimit: false, records, users: 5, hiddenUsers: 0 }))

/** The CLI's stderr without the help hint commander adds after a usage error. */
const errorLines = (stderr: string) =>
  stderr
    .trim()
    .split('\n')
    .filter((l) => !l.startsWith('(run `thena-sync'))

describe('usage errors (CLI)', () => {
  it('every usage error of a subcommand exits 2 with one line and the help hint', async () => {
    const cases: [string[], string][] = [
      [['run', '--bogus'], "unknown option '--bogus'"],
      [['status', 'extra'], "too many arguments for 'status'"],
      [['query'], "missing required argument 'sql'"],
      [['query', 'select 1', '--format', 'xml'], "argument 'xml' is invalid"],
      [['simulate', '--port', 'abc'], 'Expected `--port` to be a whole number'],
      [['run', '--pipeline'], "option '--pipeline <name>' argument missing"],
      [['backfill', '--resource'], "option '--resource <name...>' argument missing"],
      [['schedule', '--bogus'], "unknown option '--bogus'"],
      [['bogus'], "unknown command 'bogus'"],
    ]
    const dir = tempDir()
    const results = await Promise.all(cases.map(([args]) => runCli(args, { cwd: dir })))
    for (const [i, [args, message]] of cases.entries()) {
      const res = results[i]!
      expect({ args, code: res.code }).toEqual({ args, code: 2 })
      const lines = errorLines(res.stderr)
      expect(lines, args.join(' ')).toHaveLength(1)
      expect(lines[0]).toContain(message)
      expect(res.stderr).toMatch(/\(run `thena-sync( \w+)? --help` for/)
      expect(res.stderr).not.toMatch(/\n\s+at /)
    }
  })

  it('backfill refuses impossible dates instead of rolling them over (exit 2)', async () => {
    const dir = tempDir()
    const bad = [
      ['--to', '2026-02-30'],
      ['--from', '2026-13-01'],
      ['--from', '2026-01-31T25:00'],
      ['--to', '2025-02-29'],
      ['--from', '25:00'],
    ]
    const results = await Promise.all(
      bad.map((args) => runCli(['backfill', ...args], { cwd: dir })),
    )
    for (const [i, [flag, value]] of bad.entries()) {
      expect(results[i]!.code).toBe(2)
      expect(results[i]!.stderr.trim()).toBe(
        `thena-sync: ${flag}: expected a date like 2026-01-31 or 2026-01-31T12:00:00Z, got \`${value}\``,
      )
    }
  })

  it('demo --records takes a whole number of at least 1; anything else names the flag (exit 2)', async () => {
    const dir = tempDir()
    const values = ['abc', '0', '-1', '1.5']
    const results = await Promise.all(
      values.map((v) => runCli(['demo', '--records', v], { cwd: dir })),
    )
    for (const [i, value] of values.entries()) {
      expect(results[i]!.code).toBe(2)
      const lines = errorLines(results[i]!.stderr)
      expect(lines).toEqual([
        `error: option '--records <n>' argument '${value}' is invalid. Expected \`--records\` to be a whole number of at least 1, got \`${value}\``,
      ])
    }
  })
})

describe('a reader that closes early (CLI)', () => {
  it('`status | head`: no EPIPE stack trace, exit 0', async () => {
    const s = await start()
    const dir = tempDir()
    const destination = `duckdb:${join(dir, 'thena.duckdb')}`
    expect((await runPipeline(simulatorPipeline(s, {}, destination))).status).toBe('success')
    for (const args of [
      ['status'],
      ['status', '--json'],
      ['query', 'select * from thena.requests'],
    ]) {
      const child = spawn(process.execPath, [BIN, ...args], {
        cwd: dir,
        env: { PATH: process.env.PATH, HOME: process.env.HOME, THENA_DESTINATION: destination },
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      // The reader is gone before the first line is written, as `head -0` would be.
      child.stdout.destroy()
      let stderr = ''
      child.stderr.on('data', (d) => (stderr += String(d)))
      const code = await new Promise((resolve) => child.once('close', resolve))
      expect({ args, stderr }).toEqual({ args, stderr: '' })
      expect(code).toBe(0)
    }
  })

  it('`status --json > file` on a full disk: one line and exit 4, not a stack trace', async () => {
    const s = await start()
    const dir = tempDir()
    const destination = `duckdb:${join(dir, 'thena.duckdb')}`
    expect((await runPipeline(simulatorPipeline(s, {}, destination))).status).toBe('success')
    const full = openSync('/dev/full', 'w')
    const child = spawn(process.execPath, [BIN, 'status', '--json'], {
      cwd: dir,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, THENA_DESTINATION: destination },
      stdio: ['ignore', full, 'pipe'],
    })
    closeSync(full)
    let stderr = ''
    child.stderr!.on('data', (d) => (stderr += String(d)))
    const code = await new Promise((resolve) => child.once('close', resolve))
    // A truncated report with exit 0 would pass for a whole one.
    expect(stderr).toBe(
      'thena-sync: cannot write to stdout (ENOSPC: no space left on device, write): the output is incomplete\n',
    )
    expect(code).toBe(4)
  })
})

for (const kind of DESTINATION_KINDS) {
  describe(`status --json on ${kind.name}`, () => {
    it('gives every counter as a number', async () => {
      const s = await start()
      const destination = await kind.freshUrl()
      expect((await runPipeline(simulatorPipeline(s, {}, destination))).status).toBe('success')
      const res = await runCli(['status', '--json'], {
        cwd: tempDir(),
        env: { THENA_DESTINATION: destination },
      })
      expect(res.code).toBe(0)
      const report = JSON.parse(res.stdout) as {
        loads: Record<string, unknown>[]
        tables: Record<string, unknown>[]
        resources: Record<string, unknown>[]
        schemaChanges: Record<string, unknown>[]
      }
      const [load] = report.loads
      for (const counter of [
        'records',
        'unchanged',
        'rejects',
        'requests',
        'retries',
        'rate_limited',
      ])
        expect({ counter, type: typeof load![counter] }).toEqual({ counter, type: 'number' })
      expect(load!.records).toBeGreaterThanOrEqual(60)
      for (const t of report.tables) expect(typeof t.rows).toBe('number')
      for (const r of report.resources) {
        for (const field of ['rows', 'softDeleted', 'rejects', 'lookbackPages'])
          expect(typeof r[field]).toBe('number')
      }
      expect(report.schemaChanges.length).toBeGreaterThan(0)
      for (const c of report.schemaChanges) expect(typeof c.columns).toBe('number')
    })
  })
}

describe('a token refused by one endpoint mid-run (CLI)', () => {
  it('exits 3; what was committed before stays; the load row is failed; the message names the endpoint', async () => {
    const s = await start(120)
    // The simulator behind a proxy that refuses the last resource's endpoint.
    const proxy = createServer((req, res) => {
      const url = new URL(req.url!, 'http://proxy')
      if (url.pathname === '/rest/v2/requests/v3') {
        res.statusCode = 403
        res.setHeader('content-type', 'application/json')
        return res.end('{"message":"Forbidden"}')
      }
      void request(`${s.url}${req.url}`, {
        headers: { authorization: req.headers.authorization ?? '' },
      }).then(async (upstream) => {
        res.statusCode = upstream.statusCode
        for (const [name, value] of Object.entries(upstream.headers))
          if (value !== undefined && name !== 'content-length' && name !== 'transfer-encoding')
            res.setHeader(name, value)
        res.end(Buffer.from(await upstream.body.arrayBuffer()))
      })
    })
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
    try {
      const { port } = proxy.address() as AddressInfo
      const dir = tempDir()
      const destination = `duckdb:${join(dir, 'thena.duckdb')}`
      const res = await runCli(['run'], {
        cwd: dir,
        env: {
          THENA_API_TOKEN: s.token,
          THENA_BASE_URL: `http://127.0.0.1:${port}`,
          THENA_DESTINATION: destination,
        },
      })
      expect(res.code).toBe(3)
      const errors = res.stderr.split('\n').filter((l) => l.startsWith('thena-sync:'))
      expect(errors).toHaveLength(1)
      expect(errors[0]).toContain('refused the token (HTTP 403)')
      expect(errors[0]).toContain('/rest/v2/requests/v3')
      const pipeline = simulatorPipeline(s, {}, destination)
      const [requests] = await rowsOf(pipeline, 'SELECT count(*) AS n FROM thena.requests')
      expect(Number(requests!.n)).toBe(120)
      const loads = await rowsOf(pipeline, 'SELECT status, records, error FROM thena._thena_loads')
      expect(loads).toHaveLength(1)
      expect(loads[0]!.status).toBe('failed')
      expect(Number(loads[0]!.records)).toBeGreaterThanOrEqual(120)
      expect(String(loads[0]!.error)).toContain('HTTP 403')
      // What the README promises for exit code 3 is what happened.
      const row = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
        .split('\n')
        .find((l) => l.startsWith('| 3 |'))
      expect(row).toContain('401/403')
      expect(row).toContain('batches committed before the refusal stay')
      expect(row).toContain('names the endpoint')
    } finally {
      proxy.close()
    }
  })
})
