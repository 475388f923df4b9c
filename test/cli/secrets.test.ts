/**
 * No secret in any output, in any form: a token read through any environment variable, a
 * Postgres password in the URL's userinfo (encoded or not), in a `password=` parameter, in a
 * keyword DSN or a malformed URL, a wrong password, an unreachable host. Every command's
 * stdout and stderr, and the warehouse itself, are searched for every one of them.
 */
import { randomBytes } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { resolvePipeline } from '../../src/config/resolve-pipeline.js'
import { Redactor } from '../../src/redactor.js'
import { startSimulator } from '../../sources/thena/simulator/index.js'
import type { Simulator } from '../../sources/thena/simulator/index.js'
import { runCli, startCli } from '../helpers/cli.js'
import type { CliResult } from '../helpers/cli.js'
import { dumpWarehouse } from '../helpers/destinations.js'
import { tempDir } from '../helpers/pipeline.js'

const TOKEN = 'tok-Custom-Env-7781-zz'
// Characters a URL must encode, so that every spelling of them is tried.
const PASSWORD = 'P@ss:W0rd/991 x'
const KEYWORD_PASSWORD = 'S3cretPW-keyword'
const SLASH_PASSWORD = 'S3cretPW-slash'
const WRONG_PASSWORD = 'Wr0ng-Pass-5521'
const UNREACHABLE_PASSWORD = 'Unre4chable-PW-77'
const SECRETS = [
  TOKEN,
  PASSWORD,
  KEYWORD_PASSWORD,
  SLASH_PASSWORD,
  WRONG_PASSWORD,
  UNREACHABLE_PASSWORD,
]

/** Every spelling a secret can leak in: as configured, percent-encoded, JSON-escaped. */
const spellings = (secret: string) => [
  secret,
  encodeURIComponent(secret),
  JSON.stringify(secret).slice(1, -1),
  ...secret.split(/[@:/ ]/).filter((part) => part.length >= 4),
]

function expectNoSecret(text: string, where: string) {
  for (const secret of SECRETS)
    for (const form of spellings(secret))
      expect(text.includes(form), `${where} contains ${JSON.stringify(form)}`).toBe(false)
}

let sim: Simulator
let server: URL
let role: string
let database: string
beforeAll(async () => {
  sim = await startSimulator({ rateLimit: false, records: 250, token: TOKEN })
  server = new URL(inject('postgresUrl'))
  role = `u_${randomBytes(4).toString('hex')}`
  database = `d_${randomBytes(4).toString('hex')}`
  const admin = new pg.Client({ connectionString: server.href })
  await admin.connect()
  try {
    await admin.query(`CREATE ROLE ${role} LOGIN PASSWORD '${PASSWORD}'`)
    await admin.query(`CREATE DATABASE ${database} OWNER ${role}`)
  } finally {
    await admin.end()
  }
})
afterAll(() => sim.stop())

const hostPort = () => `${server.hostname}:${server.port}`

/** A directory with a pipelines.config.ts whose token comes from `MY_THENA_KEY`. */
function projectDir(destinationEnv = 'MY_WAREHOUSE'): string {
  const dir = tempDir()
  const index = fileURLToPath(new URL('../../src/index.ts', import.meta.url))
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }')
  writeFileSync(
    join(dir, 'pipelines.config.ts'),
    `import { defineConfig, env } from ${JSON.stringify(index)}\n` +
      `export default defineConfig({ pipelines: { thena: { token: env('MY_THENA_KEY'), baseUrl: ${JSON.stringify(sim.url)}, destination: env('${destinationEnv}'), schedule: { cron: '* * * * * *' } } } })\n`,
  )
  return dir
}

describe('secrets never appear in any output', () => {
  it('redactor: every spelling of a secret is removed, longest first', () => {
    const r = new Redactor()
    r.add(PASSWORD)
    r.add('abc') // too short to redact without mangling ordinary text
    const text = `a ${PASSWORD} b ${encodeURIComponent(PASSWORD)} c ${JSON.stringify({ p: PASSWORD })} abc`
    expect(r.redact(text)).toBe('a *** b *** c {"p":"***"} abc')
  })

  for (const [name, url] of [
    [
      'in the userinfo, percent-encoded',
      () => `postgres://${role}:${encodeURIComponent(PASSWORD)}@${hostPort()}/${database}`,
    ],
    [
      'as a `password=` parameter',
      () => `postgres://${role}@${hostPort()}/${database}?password=${encodeURIComponent(PASSWORD)}`,
    ],
  ] as const) {
    it(`every command, with the password ${name} and the token in a custom variable`, async () => {
      const dir = projectDir()
      const env = { MY_THENA_KEY: TOKEN, MY_WAREHOUSE: url() }
      const outputs: [string, CliResult][] = []
      const cli = async (args: string[]) => {
        const res = await runCli(args, { cwd: dir, env })
        outputs.push([args.join(' '), res])
        return res
      }
      expect((await cli(['run'])).code).toBe(0)
      // A second run while the first holds the lock: the busy message names the warehouse.
      const slow = startCli(['run'], { cwd: dir, env })
      const busy = await cli(['run'])
      outputs.push(['run (slow)', await slow.done])
      expect([busy.code, ...outputs.map(([, r]) => r.code)]).not.toContain(1)
      for (const args of [
        ['backfill', '--from', '2020-01-01'],
        ['reconcile'],
        ['status'],
        ['status', '--json'],
        ['query', 'select count(*) from thena.requests'],
        ['query', 'select * from thena.missing_table'],
        ['schema'],
        ['schema', '--history'],
        ['schema', '--zod'],
      ])
        await cli(args)
      const daemon = startCli(['schedule'], { cwd: dir, env })
      await new Promise((resolve) => setTimeout(resolve, 2500))
      daemon.child.kill('SIGTERM')
      outputs.push(['schedule', await daemon.done])
      const [status] = outputs.find(([a]) => a === 'status')!.slice(1) as [CliResult]
      expect(status.stdout).toContain(`thena -> postgres://${role}@${hostPort()}/${database}\n`)
      for (const [args, res] of outputs) expectNoSecret(res.stdout + res.stderr, args)
      // Dumped as the superuser (dumpWarehouse logs in with the test server's password).
      const asSuperuser = new URL(server)
      asSuperuser.pathname = `/${database}`
      const pipeline = resolvePipeline(
        { pipelines: { thena: { token: TOKEN, destination: asSuperuser.href } } },
        'thena',
        {},
      )
      expectNoSecret(dumpWarehouse(pipeline), 'the warehouse')
    }, 60_000)
  }

  it('an API that echoes the token in an error body: redacted on screen and in the loads table', async () => {
    const echo = createServer((req, res) => {
      res.statusCode = 400
      res.end(
        `{"error": "the token ${req.headers.authorization?.slice('Bearer '.length)} is not valid here"}`,
      )
    })
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve))
    try {
      const dir = projectDir()
      const env = { MY_THENA_KEY: TOKEN, MY_WAREHOUSE: `duckdb:${join(dir, 'thena.duckdb')}` }
      expect((await runCli(['run'], { cwd: dir, env })).code).toBe(0)
      const { port } = echo.address() as AddressInfo
      const config = join(dir, 'pipelines.config.ts')
      writeFileSync(
        config,
        readFileSync(config, 'utf8').replace(sim.url, `http://127.0.0.1:${port}`),
      )
      const failed = await runCli(['run'], { cwd: dir, env })
      expect(failed.code).toBe(4)
      expect(failed.stderr).toContain('is not valid here')
      expectNoSecret(failed.stdout + failed.stderr, 'run')
      const status = await runCli(['status', '--json'], { cwd: dir, env })
      const loads = (JSON.parse(status.stdout) as { loads: { status: string; error: string }[] })
        .loads
      expect(loads[0]).toMatchObject({
        status: 'failed',
        error: expect.stringContaining('the token *** is not valid'),
      })
      expectNoSecret(readFileSync(join(dir, 'thena.duckdb')).toString('latin1'), 'the DuckDB file')
    } finally {
      echo.close()
    }
  })

  it('a password with an unencoded @ connects, and no part of it is taken for the host', async () => {
    const dir = projectDir()
    const env = {
      MY_THENA_KEY: TOKEN,
      // Everything but the `@` and the space encoded: the last `@` ends the userinfo.
      MY_WAREHOUSE: `postgres://${role}:${PASSWORD.replace(':', '%3A').replace('/', '%2F').replace(' ', '%20')}@${hostPort()}/${database}`,
    }
    const res = await runCli(['run'], { cwd: dir, env })
    expect(res.stderr).not.toContain('thena-sync:')
    expect(res.code).toBe(0)
    expect(res.stdout).toContain(`-> postgres://${role}@${hostPort()}/${database}`)
    expectNoSecret(res.stdout + res.stderr, 'run')
  })

  it('a base URL with credentials, even one that is refused, never shows them', async () => {
    const dir = projectDir()
    const config = join(dir, 'pipelines.config.ts')
    writeFileSync(
      config,
      readFileSync(config, 'utf8').replace(
        JSON.stringify(sim.url),
        `'htps://admin:${UNREACHABLE_PASSWORD}@api.example.com'`,
      ),
    )
    const res = await runCli(['run'], {
      cwd: dir,
      env: { MY_THENA_KEY: TOKEN, MY_WAREHOUSE: `duckdb:${join(dir, 'x.duckdb')}` },
    })
    expect(res.code).toBe(2)
    expect(res.stderr).toContain('pipelines.thena.baseUrl: expected an http(s) URL')
    expectNoSecret(res.stdout + res.stderr, 'run')
  })

  it('a wrong password, an unreachable host, a keyword DSN and a malformed URL: one line each, no secret', async () => {
    const cases: [string, number, string][] = [
      [`postgres://${role}:${WRONG_PASSWORD}@${hostPort()}/${database}`, 4, 'refused the login'],
      [
        `postgres://${role}:${UNREACHABLE_PASSWORD}@127.0.0.1:1/${database}`,
        4,
        'cannot reach Postgres at 127.0.0.1:1',
      ],
      [
        `host=127.0.0.1 password=${KEYWORD_PASSWORD} dbname=${database}`,
        2,
        'MY_WAREHOUSE: expected `duckdb:PATH` or a `postgres://` URL',
      ],
      [
        `postgres:/${role}:${SLASH_PASSWORD}/${database}`,
        2,
        'expected `postgres://USER:PASSWORD@HOST:PORT/DATABASE`',
      ],
    ]
    for (const [url, code, message] of cases) {
      const dir = projectDir()
      for (const args of [['run'], ['status'], ['query', 'select 1'], ['schedule']]) {
        const { child, done } = startCli(args, {
          cwd: dir,
          env: { MY_THENA_KEY: TOKEN, MY_WAREHOUSE: url },
        })
        // `schedule` tries again on every tick: a few ticks are enough. The other commands end
        // by themselves (a timer on them would cut a slow start on a loaded machine).
        const stop = setTimeout(() => args[0] === 'schedule' && child.kill('SIGTERM'), 3000)
        const res = await done
        clearTimeout(stop)
        expectNoSecret(res.stdout + res.stderr, `${args[0]} with ${message}`)
        if (args[0] !== 'run') continue
        expect(res.code).toBe(code)
        const lines = res.stderr.split('\n').filter((l) => l.startsWith('thena-sync:'))
        expect(lines).toHaveLength(1)
        expect(lines[0]).toContain(message)
      }
    }
  }, 60_000)
})
