import { mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { DuckDBInstance } from '@duckdb/node-api'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { HttpClient } from '../../src/http/http-client.js'
import { bearerAuth } from '../../src/source/auth.js'
import { startSimulator } from '../../sources/thena/simulator/index.js'
import { startPlatformSimulator } from '../../sources/thena-platform/simulator/index.js'
import type { Simulator } from '../../sources/thena/simulator/index.js'
import { runCli } from '../helpers/cli.js'
import { startStandInApi } from '../helpers/http.js'
import { tempDir } from '../helpers/pipeline.js'

const INDEX = fileURLToPath(new URL('../../src/index.ts', import.meta.url))

let sim: Simulator
beforeAll(async () => {
  sim = await startSimulator({ rateLimit: false, records: 120 })
})
afterAll(() => sim.stop())

/** A config that loads into `<ext>.duckdb`, so `status` names which file was read. */
const configText = (ext: string, from = JSON.stringify(INDEX)) =>
  `import { defineConfig, env } from ${from}\n` +
  `const name: string = '${ext}'\n`.replace(': string', ext.endsWith('ts') ? ': string' : '') +
  `export default defineConfig({ pipelines: { thena: { token: env('T', 'x'), destination: \`duckdb:./\${name}.duckdb\` } } })\n`

const PACKAGE_JSONS = {
  'no package.json': undefined,
  'a CommonJS package (npm init)': '{ "name": "project", "version": "1.0.0" }',
  'an ES module package': '{ "name": "project", "type": "module" }',
} as const

describe('config files load in any project', () => {
  for (const [folder, packageJson] of Object.entries(PACKAGE_JSONS)) {
    it(`.ts, .mts, .js and .mjs in ${folder}`, async () => {
      const dir = tempDir()
      if (packageJson) writeFileSync(join(dir, 'package.json'), packageJson)
      for (const ext of ['ts', 'mts', 'js', 'mjs']) {
        writeFileSync(join(dir, `pipelines.config.${ext}`), configText(ext))
        const res = await runCli(['status', '--config', `pipelines.config.${ext}`], { cwd: dir })
        // The config loaded: status reached the warehouse it names (which does not exist yet).
        expect(res.stderr.trim()).toBe(
          `thena-sync: no warehouse at duckdb:./${ext}.duckdb yet: run \`thena-sync run\` (or \`thena-sync demo\`) first`,
        )
        expect(res.code).toBe(4)
      }
      // Without --config, the first of the four names that exists is taken; no file is left.
      const res = await runCli(['status'], { cwd: dir })
      expect(res.stderr).toContain('duckdb:./ts.duckdb')
      expect(readdirSync(dir).sort()).toEqual(
        [
          ...(packageJson ? ['package.json'] : []),
          'pipelines.config.js',
          'pipelines.config.mjs',
          'pipelines.config.mts',
          'pipelines.config.ts',
        ].sort(),
      )
    })
  }

  it('CommonJS `module.exports` in a .js config', async () => {
    const dir = tempDir()
    writeFileSync(join(dir, 'package.json'), '{ "name": "project" }')
    writeFileSync(
      join(dir, 'pipelines.config.js'),
      "module.exports = { pipelines: { thena: { token: 'x', destination: 'duckdb:./cjs.duckdb' } } }\n",
    )
    const res = await runCli(['status'], { cwd: dir })
    expect(res.stderr).toContain('no warehouse at duckdb:./cjs.duckdb yet')
  })

  it('a syntax error names file:line:column and the message; a throw names the file', async () => {
    const dir = tempDir()
    writeFileSync(
      join(dir, 'pipelines.config.ts'),
      `import { defineConfig } from ${JSON.stringify(INDEX)}\n` +
        "export default defineConfig({ pipelines: { thena: { token: 'x',\n" +
        '  http: { concurrency: 4 ) } })\n',
    )
    const res = await runCli(['run'], { cwd: dir })
    expect(res.code).toBe(2)
    expect(res.stderr).toBe(
      `thena-sync: ${join(dir, 'pipelines.config.ts')}:3:26: Expected "}" but found ")"\n`,
    )
    writeFileSync(join(dir, 'pipelines.config.ts'), "throw new Error('no config for you')\n")
    const thrown = await runCli(['run'], { cwd: dir })
    expect(thrown.code).toBe(2)
    expect(thrown.stderr).toBe(
      `thena-sync: ${join(dir, 'pipelines.config.ts')}: failed while loading (no config for you)\n`,
    )
    writeFileSync(join(dir, 'pipelines.config.ts'), "throw { code: 42, why: 'no' }\n")
    const thrownObject = await runCli(['run'], { cwd: dir })
    expect(thrownObject.code).toBe(2)
    expect(thrownObject.stderr).toBe(
      `thena-sync: ${join(dir, 'pipelines.config.ts')}: failed while loading (threw {"code":42,"why":"no"})\n`,
    )
    writeFileSync(join(dir, 'pipelines.config.ts'), 'export const pipelines = {}\n')
    const noDefault = await runCli(['run'], { cwd: dir })
    expect(noDefault.code).toBe(2)
    expect(noDefault.stderr).toContain(
      'expected `export default defineConfig({ pipelines: { ... } })`',
    )
  })

  it("a symlinked config imports packages from its real folder's node_modules", async () => {
    const dir = tempDir()
    const real = join(dir, 'shared-config')
    mkdirSync(join(real, 'node_modules', 'batch-size'), { recursive: true })
    writeFileSync(
      join(real, 'node_modules', 'batch-size', 'package.json'),
      '{ "name": "batch-size", "main": "index.js" }',
    )
    writeFileSync(join(real, 'node_modules', 'batch-size', 'index.js'), 'module.exports = 7\n')
    writeFileSync(
      join(real, 'pipelines.config.ts'),
      `import { defineConfig } from ${JSON.stringify(INDEX)}\n` +
        "import pages from 'batch-size'\n" +
        "export default defineConfig({ pipelines: { thena: { token: 'x', batchPages: pages, destination: 'duckdb:./linked.duckdb' } } })\n",
    )
    const project = join(dir, 'project')
    mkdirSync(project)
    symlinkSync(join(real, 'pipelines.config.ts'), join(project, 'pipelines.config.ts'))
    const res = await runCli(['status'], { cwd: project })
    expect(res.stderr).toContain('no warehouse at duckdb:./linked.duckdb yet')
    expect(res.code).toBe(4)
    expect(readdirSync(project)).toEqual(['pipelines.config.ts'])
    expect(readdirSync(real).sort()).toEqual(['node_modules', 'pipelines.config.ts'])
  })

  it('a config whose top-level await never settles is a config error, not a silent exit 13', async () => {
    const dir = tempDir()
    writeFileSync(
      join(dir, 'pipelines.config.ts'),
      `import { defineConfig } from ${JSON.stringify(INDEX)}\n` +
        'await new Promise(() => undefined)\n' +
        "export default defineConfig({ pipelines: { thena: { token: 'x' } } })\n",
    )
    const res = await runCli(['status'], { cwd: dir })
    expect(res.stderr).toBe(
      `thena-sync: ${join(dir, 'pipelines.config.ts')}: never finished loading (a top-level await that nothing settles)\n`,
    )
    expect(res.code).toBe(2)
  })

  it('a config in a CommonJS folder extends the source through a relative .ts import of `thena-sync`', async () => {
    const dir = tempDir()
    // A plain `npm init` folder without thena-sync in node_modules: the running copy is used.
    writeFileSync(join(dir, 'package.json'), '{ "name": "project", "version": "1.0.0" }')
    mkdirSync(join(dir, 'lib'))
    writeFileSync(
      join(dir, 'lib', 'statuses.ts'),
      "import { SubStatusSchema, defineResource } from 'thena-sync'\n" +
        'export const statusCopy = defineResource({\n' +
        "  name: 'sub_status_copy', path: '/rest/v2/requests/sub-status', recordsPath: [],\n" +
        "  schema: SubStatusSchema.extend({ name: SubStatusSchema.shape.name }), primaryKey: 'id',\n" +
        "  paginator: { type: 'cursor', limitParam: null }, sync: 'full',\n" +
        '})\n',
    )
    writeFileSync(
      join(dir, 'pipelines.config.ts'),
      "import { defineConfig, defineSource, env, thenaSource, z } from 'thena-sync'\n" +
        "import { statusCopy } from './lib/statuses'\n" +
        "const source = defineSource({ ...thenaSource, resources: [...thenaSource.resources.filter((r) => r.name !== 'requests_v3'), statusCopy] })\n" +
        'z.string().parse(source.name)\n' +
        "export default defineConfig({ pipelines: { thena: { source, token: env('THENA_API_TOKEN'), baseUrl: env('THENA_BASE_URL'), destination: 'duckdb:./mine.duckdb' } } })\n",
    )
    const res = await runCli(['run'], {
      cwd: dir,
      env: { THENA_API_TOKEN: sim.token, THENA_BASE_URL: sim.url },
    })
    expect(res.stderr).not.toContain('thena-sync:')
    expect(res.code).toBe(0)
    const db = await DuckDBInstance.create(join(dir, 'mine.duckdb'))
    const conn = await db.connect()
    const tables = (
      await conn.runAndReadAll(
        "select table_name from information_schema.tables where table_schema = 'thena' and table_name not like '\\_%' escape '\\' order by 1",
      )
    )
      .getRows()
      .map((r) => String(r[0]))
    const copies = Number(
      (
        await conn.runAndReadAll('select count(*) from mine.thena.sub_status_copy')
      ).getRows()[0]![0],
    )
    const originals = Number(
      (await conn.runAndReadAll('select count(*) from mine.thena.sub_statuses')).getRows()[0]![0],
    )
    conn.closeSync()
    db.closeSync()
    expect(tables).toContain('sub_status_copy')
    expect(tables).not.toContain('requests_v3')
    expect(copies).toBeGreaterThan(0)
    expect(copies).toBe(originals)
  })
})

it('the README example that extends the built-in source runs as written', async () => {
  const readme = readFileSync(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8')
  const example = /\*\*Extending the built-in source\.\*\*[\s\S]*?```ts\n([\s\S]*?)```/.exec(
    readme,
  )?.[1]
  expect(example).toContain("from 'thena-sync'")
  const dir = tempDir()
  writeFileSync(join(dir, 'pipelines.config.ts'), example!)
  const res = await runCli(['run'], {
    cwd: dir,
    env: { THENA_API_TOKEN: sim.token, THENA_BASE_URL: sim.url },
  })
  expect(res.stderr).not.toContain('thena-sync:')
  expect(res.code).toBe(0)
  const db = await DuckDBInstance.create(join(dir, 'thena.duckdb'))
  const conn = await db.connect()
  const count = async (table: string) =>
    Number((await conn.runAndReadAll(`select count(*) from thena.thena.${table}`)).getRows()[0]![0])
  const [escalations, requests] = [await count('escalations'), await count('requests')]
  conn.closeSync()
  db.closeSync()
  expect(escalations).toBeGreaterThan(0)
  expect(escalations).toBe(requests)
})

it('the README example that reads tickets by their dateRange window runs as written', async () => {
  const readme = readFileSync(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8')
  const example = /turns out to filter on `updatedAt`[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme)?.[1]
  expect(example).toContain("from 'thena-sync'")
  const platform = await startPlatformSimulator({
    tickets: 150,
    commentsPerTicket: 1,
    rateLimit: false,
    dateRangeField: 'updatedAt',
  })
  try {
    const dir = tempDir()
    writeFileSync(join(dir, 'pipelines.config.ts'), example!)
    const env = { THENA_PLATFORM_API_KEY: platform.apiKey, THENA_PLATFORM_BASE_URL: platform.url }
    const run = async () => {
      const res = await runCli(['run', '--pipeline', 'platform'], { cwd: dir, env })
      expect(res.stderr).not.toContain('thena-sync:')
      expect(res.code).toBe(0)
    }
    const ticketUrls = () => platform.stats.urls.filter((u) => u.startsWith('/v1/tickets?'))
    await run()
    // The first run reads the whole list; the next ones the smallest window since the last.
    expect(ticketUrls().every((u) => !u.includes('dateRange'))).toBe(true)
    platform.resetStats()
    const [updated] = platform.mutate({ op: 'updateTickets', count: 1 }).ids
    await run()
    expect(ticketUrls().length).toBeGreaterThan(0)
    expect(ticketUrls().every((u) => u.includes('dateRange=1d'))).toBe(true)
    const db = await DuckDBInstance.create(join(dir, 'thena.duckdb'))
    const conn = await db.connect()
    const rows = (
      await conn.runAndReadAll(
        `select status from thena.thena_platform.tickets where id = '${updated}'`,
      )
    ).getRows()
    conn.closeSync()
    db.closeSync()
    expect(rows).toEqual([[platform.truth().tickets.get(updated!)!.status]])
  } finally {
    await platform.close()
  }
})

describe('a mistake is one line before any request', () => {
  const project = (config: string) => {
    const dir = tempDir()
    writeFileSync(
      join(dir, 'pipelines.config.ts'),
      `import { defineConfig, env } from ${JSON.stringify(INDEX)}\nexport default defineConfig(${config})\n`,
    )
    return dir
  }

  for (const [what, config, command, vars, line] of [
    [
      'a misspelt destination',
      `{ pipelines: { thena: { token: env('THENA_API_TOKEN'), baseUrl: env('THENA_BASE_URL'), destinaton: 'duckdb:./other.duckdb' } } }`,
      'run',
      {},
      'pipelines.thena.destinaton: unknown setting; did you mean `destination`?',
    ],
    [
      'an empty pipelines object',
      '{ pipelines: {} }',
      'run',
      {},
      "pipelines: no pipelines: add one, e.g. `pipelines: { thena: { token: env('THENA_API_TOKEN') } }`",
    ],
    [
      'an unset cron variable',
      `{ pipelines: { thena: { token: env('THENA_API_TOKEN'), baseUrl: env('THENA_BASE_URL'), schedule: { cron: env('NOPE_CRON') } } } }`,
      'schedule',
      {},
      'NOPE_CRON: is not set (pipelines.thena.schedule.cron reads it): export NOPE_CRON=...',
    ],
    [
      'a schedule that never fires, from the environment',
      `{ pipelines: { thena: { token: env('THENA_API_TOKEN'), baseUrl: env('THENA_BASE_URL'), schedule: { cron: env('THENA_SCHEDULE', '') } } } }`,
      'schedule',
      { THENA_SCHEDULE: '0 0 31 2 *' },
      'THENA_SCHEDULE: `0 0 31 2 *` can never fire: 31 2 is an impossible day of month for the given month',
    ],
    [
      'a token with a line break',
      `{ pipelines: { thena: { token: env('MY_TOKEN'), baseUrl: env('THENA_BASE_URL') } } }`,
      'run',
      { MY_TOKEN: 'tok-with-newline\n' },
      'MY_TOKEN: contains a line break or another control character; copy the token again without it',
    ],
    [
      'a token with a non-breaking hyphen (it exited 13 without a word)',
      `{ pipelines: { thena: { token: env('MY_TOKEN'), baseUrl: env('THENA_BASE_URL') } } }`,
      'run',
      { MY_TOKEN: 'sim\u2011token' },
      'MY_TOKEN: contains U+2011, which a token cannot hold (it is ASCII); copy the token again without it',
    ],
  ] as const) {
    it(`${what}: exit 2, no request`, async () => {
      const before = sim.counters.requests
      const dir = project(config)
      const res = await runCli([command], {
        cwd: dir,
        env: { THENA_API_TOKEN: sim.token, THENA_BASE_URL: sim.url, ...vars },
      })
      expect(res.stderr).toBe(`thena-sync: ${line}\n`)
      expect(res.code).toBe(2)
      expect(sim.counters.requests).toBe(before)
      expect(readdirSync(dir)).toEqual(['pipelines.config.ts'])
    })
  }
})

describe('the base URL keeps its path', () => {
  it('every request goes under the path, the token never outside it', async () => {
    const seen: string[] = []
    const api = await startStandInApi(
      {
        '/some/prefix/rest/v2/requests': { data: { results: [] } },
        '/some/prefix/rest/v2/requests/v3': { data: { results: [] } },
        '/some/prefix/rest/v2/requests/sub-status': [],
      },
      (url) => seen.push(url.pathname),
    )
    try {
      const client = new HttpClient({
        baseUrl: `${api.url}/some/prefix/`,
        auth: bearerAuth(api.token),
      })
      await client.get('/rest/v2/users', { limit: '5' })
      await client.close()
      expect(seen).toEqual(['/some/prefix/rest/v2/users'])
      const dir = tempDir()
      const res = await runCli(['run'], {
        cwd: dir,
        env: {
          THENA_API_TOKEN: api.token,
          THENA_BASE_URL: `${api.url}/some/prefix`,
          THENA_DESTINATION: `duckdb:${join(dir, 'x.duckdb')}`,
        },
      })
      expect(res.stderr).not.toContain('thena-sync:')
      expect(res.code).toBe(0)
      expect(seen.length).toBeGreaterThan(5)
      expect(seen.filter((path) => !path.startsWith('/some/prefix/rest/v2/'))).toEqual([])
    } finally {
      api.close()
    }
  })
})
