/**
 * `thena-sync show` in a real browser (headless Chromium through puppeteer-core): a DuckDB file
 * loaded from the bolt and Platform simulators (two bolt runs, one reject, hostile text in a
 * record) is served by the CLI, and every page shows what the warehouse holds: counts per
 * table, statuses of runs, columns of a resource, reject reasons, a SQL box result; a write in
 * the SQL box is refused and changes nothing; no request leaves 127.0.0.1; without JavaScript
 * the tables are there; no record's markup runs. A file a run holds shows the busy page and
 * is retried, and the run (and a second one started while `show` polls) succeeds. On Postgres
 * the pages reload while a run is in progress. Screenshots go to test-artifacts/show/.
 */
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import puppeteer from 'puppeteer-core'
import type { Browser, Page } from 'puppeteer-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ResolvedPipeline } from '../../src/config/resolve-pipeline.js'
import { DuckDbDestination } from '../../destinations/duckdb/duckdb-destination.js'
import { runPipeline } from '../../src/pipeline/run-pipeline.js'
import { startPlatformSimulator } from '../../sources/thena-platform/simulator/index.js'
import type { PlatformSimulator } from '../../sources/thena-platform/simulator/index.js'
import { startSimulator } from '../../sources/thena/simulator/index.js'
import type { Simulator } from '../../sources/thena/simulator/index.js'
import { firstCommit, runCli, startCli } from '../helpers/cli.js'
import { DESTINATION_KINDS } from '../helpers/destinations.js'
import { simulatorPipeline, tempDir } from '../helpers/pipeline.js'

/** Rows of `sql` on the pipeline's warehouse, read-only (as `show` reads it, alongside it). */
async function rowsOf(pipeline: ResolvedPipeline, sql: string): Promise<Record<string, unknown>[]> {
  const session = await pipeline.destination.connect({ readOnly: true })
  try {
    return [...(await session.query(sql)).rows]
  } finally {
    await session.close()
  }
}

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const REPO_CONFIG = join(import.meta.dirname, '../../pipelines.config.ts')
const ARTIFACTS = join(import.meta.dirname, '../../test-artifacts/show')
const HOSTILE = `<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">"'&`
const USERS = 12

/** Starts `thena-sync show` and resolves with its process and the URL it printed. */
async function startShow(
  env: NodeJS.ProcessEnv,
  args: readonly string[] = [],
): Promise<{ url: string; child: ChildProcess; stop: () => Promise<void> }> {
  const { child, done } = startCli(['show', '--config', REPO_CONFIG, ...args], {
    cwd: tempDir(),
    env,
  })
  const url = await new Promise<string>((resolve, reject) => {
    let out = ''
    child.stdout!.on('data', (d) => {
      out += String(d)
      const found = /(http:\/\/127\.0\.0\.1:\d+\/)/.exec(out)
      if (found) resolve(found[1]!)
    })
    void done.then((r) => reject(new Error(`show exited ${r.code}: ${r.stderr}`)))
  })
  return {
    url,
    child,
    stop: async () => {
      child.kill('SIGTERM')
      const result = await done
      expect(result.code, result.stderr).toBe(0)
    },
  }
}

let browser: Browser | undefined
/** Every URL a page asked for that was not on 127.0.0.1 (each was aborted). */
const offsite: string[] = []

/** A new tab that aborts (and records) any request leaving 127.0.0.1. */
async function newPage(options: { javaScript?: boolean } = {}): Promise<Page> {
  const page = await browser!.newPage()
  await page.setViewport({ width: 1280, height: 900 })
  await page.setJavaScriptEnabled(options.javaScript ?? true)
  await page.setRequestInterception(true)
  page.on('request', (request) => {
    const url = new URL(request.url())
    if (url.protocol === 'data:' || url.hostname === '127.0.0.1') return void request.continue()
    offsite.push(request.url())
    void request.abort()
  })
  return page
}

const screenshot = (page: Page, name: string) =>
  page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: false })

/** The text of each cell of a table, by header. */
const tableRows = (page: Page, selector: string): Promise<Record<string, string>[]> =>
  page.$eval(selector, (table) => {
    const heads = [...table.querySelectorAll('thead th')].map((th) => th.textContent ?? '')
    return [...table.querySelectorAll('tbody tr')].map((tr) =>
      Object.fromEntries(
        [...tr.querySelectorAll('td')].map((td, i) => [heads[i]!, td.textContent ?? '']),
      ),
    )
  })

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true })
  browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  })
})

afterAll(async () => {
  await browser?.close()
  expect(offsite).toEqual([])
})

describe('thena-sync show on DuckDB, in a browser', () => {
  let sim: Simulator
  let platform: PlatformSimulator
  let env: NodeJS.ProcessEnv
  let bolt: ResolvedPipeline
  let show: Awaited<ReturnType<typeof startShow>>

  beforeAll(async () => {
    sim = await startSimulator({ rateLimit: false, records: 60, users: USERS, hiddenUsers: 0 })
    platform = await startPlatformSimulator({ tickets: 30, commentsPerTicket: 1, rateLimit: false })
    const destination = `duckdb:${join(tempDir(), 'warehouse.duckdb')}`
    env = {
      THENA_API_TOKEN: sim.token,
      THENA_BASE_URL: sim.url,
      THENA_PLATFORM_API_KEY: platform.apiKey,
      THENA_PLATFORM_BASE_URL: platform.url,
      THENA_DESTINATION: destination,
    }
    const cli = (args: string[]) =>
      runCli([...args, '--config', REPO_CONFIG], { cwd: tempDir(), env })
    // Hostile text in a record.
    sim.mutate({ op: 'updateRequests', count: 1, set: { status: HOSTILE } })
    const first = await cli(['run', '--pipeline', 'thena'])
    expect(first.code, first.stderr).toBe(0)
    // One user whose new field the contract drops: a reject.
    sim.mutate({
      op: 'addField',
      resource: 'users',
      path: 'nickname',
      type: 'string',
      fromIndex: USERS - 1,
    })
    bolt = simulatorPipeline(
      sim,
      { resources: { users: { contract: { newColumns: 'discard_value' } } } },
      destination,
    )
    const second = await runPipeline(bolt)
    expect(second.error?.message).toBeUndefined()
    expect(second.rejects).toBe(1)
    const tickets = await cli(['run', '--pipeline', 'platform'])
    expect(tickets.code, tickets.stderr).toBe(0)
    show = await startShow(env)
  }, 60_000)

  afterAll(async () => {
    await show?.stop()
    await sim?.stop()
    await platform?.close()
  })

  it('overview: each pipeline, its last run and every resource with its rows and rejects', async () => {
    const counts = await rowsOf(
      bolt,
      `SELECT 'requests' AS t, count(*) AS n FROM thena.requests UNION ALL SELECT 'users', count(*) FROM thena.users`,
    )
    const page = await newPage()
    await page.goto(show.url)
    await screenshot(page, 'overview')
    const resources = await tableRows(page, '#resources-thena')
    for (const { t, n } of counts)
      expect(resources.find((r) => r.resource === t)?.rows, String(t)).toBe(String(n))
    expect(resources.find((r) => r.resource === 'users')?.rejects).toBe('1')
    const text = await page.$eval('main', (m) => m.textContent ?? '')
    expect(text).toContain('platform')
    expect(text).toMatch(/workflows[\s\S]*No runs yet/)
    expect(text).toContain('no schedule configured')
    expect((await tableRows(page, '#resources-platform')).length).toBeGreaterThan(3)
    await page.close()
  })

  it('runs: the statuses of the runs, newest first, and a chart of them', async () => {
    const truth = await rowsOf(
      bolt,
      `SELECT load_id, status FROM thena._thena_loads WHERE pipeline = 'thena' ORDER BY started_at DESC`,
    )
    const page = await newPage()
    await page.goto(`${show.url}runs?pipeline=thena`)
    await page.waitForSelector('canvas[data-drawn="true"]')
    await screenshot(page, 'runs')
    const runs = await tableRows(page, '#runs')
    expect(runs.map((r) => [r.load_id, r.status])).toEqual(truth.map((r) => [r.load_id, r.status]))
    expect(runs.map((r) => r.status)).toEqual(['success', 'success'])
    await page.close()
  })

  it('resource: the state, the columns of its tables with source paths, and the schema history', async () => {
    const columns = await rowsOf(
      bolt,
      `SELECT column_name FROM information_schema.columns WHERE table_schema = 'thena' AND table_name = 'users' AND table_catalog = current_database()`,
    )
    const page = await newPage()
    await page.goto(`${show.url}resource?pipeline=thena&resource=users`)
    await screenshot(page, 'resource')
    const shown = await tableRows(page, '#columns-users')
    expect(shown.map((c) => c.column).sort()).toEqual(
      columns.map((c) => String(c.column_name)).sort(),
    )
    expect(shown.find((c) => c.column === 'slack_profile_email')?.source_path).toBe(
      'slack_profile_email',
    )
    const state = await tableRows(page, '#state')
    expect(state.find((s) => s.field === 'open rejects')?.value).toBe('1')
    expect((await tableRows(page, '#schema-history')).length).toBeGreaterThanOrEqual(shown.length)
    await page.close()
  })

  it('rejects: each reason with its raw record, escaped', async () => {
    const truth = await rowsOf(bolt, `SELECT reason FROM thena._thena_rejects`)
    const page = await newPage()
    await page.goto(`${show.url}rejects?pipeline=thena`)
    await screenshot(page, 'rejects')
    const reasons = await page.$$eval('.reject .reason', (els) => els.map((e) => e.textContent))
    expect(reasons).toEqual(truth.map((r) => r.reason))
    const raw = await page.$eval('.reject pre.raw', (e) => e.textContent ?? '')
    expect(raw).toContain('"nickname"')
    await page.close()
  })

  it('data: rows per table, first rows of tables and views; the SQL box reads and refuses writes', async () => {
    const counts = await rowsOf(
      bolt,
      `SELECT 'requests' AS t, count(*) AS n FROM thena.requests UNION ALL SELECT 'users', count(*) FROM thena.users UNION ALL SELECT 'sub_statuses', count(*) FROM thena.sub_statuses`,
    )
    const page = await newPage()
    await page.goto(`${show.url}data?pipeline=thena`)
    const perTable = await tableRows(page, '#row-counts')
    for (const { t, n } of counts)
      expect(perTable.find((r) => r.table === t)?.rows, String(t)).toBe(String(n))
    expect(await page.$('#relation-requests_enriched table')).not.toBeNull()
    expect(await page.$('#relation-requests table')).not.toBeNull()

    const query = `SELECT status, count(*) AS n FROM thena.requests GROUP BY status ORDER BY status`
    await page.$eval('#sql', (t, q) => void ((t as unknown as { value: string }).value = q), query)
    await Promise.all([page.waitForNavigation(), page.click('#sql-box button')])
    await screenshot(page, 'data')
    const truth = await rowsOf(bolt, query)
    const result = await tableRows(page, '#sql-result')
    expect(result).toEqual(truth.map((r) => ({ status: String(r.status), n: String(r.n) })))
    // The hostile status is shown as text, not run.
    expect(result.map((r) => r.status)).toContain(HOSTILE)
    expect(await page.evaluate('window.__pwned')).toBeUndefined()

    for (const write of ['DELETE FROM thena.requests', 'CREATE TABLE thena.x AS SELECT 1 AS a']) {
      await page.goto(`${show.url}data?${new URLSearchParams({ pipeline: 'thena', sql: write })}`)
      expect(await page.$eval('#sql-error', (e) => e.textContent)).toMatch(/read-only|refused/i)
    }
    const after = await rowsOf(bolt, `SELECT count(*) AS n FROM thena.requests`)
    expect(String(after[0]!.n)).toBe(String(counts.find((c) => c.t === 'requests')!.n))
    // A huge value is cut, and its markup stays text.
    await page.goto(
      `${show.url}data?${new URLSearchParams({ pipeline: 'thena', sql: `SELECT repeat('<b>x</b>', 5000) AS big` })}`,
    )
    const big = await page.$eval('#sql-result td', (td) => ({
      text: td.textContent ?? '',
      bold: td.querySelectorAll('b').length,
    }))
    expect(big.bold).toBe(0)
    expect(big.text.length).toBeLessThanOrEqual(201)
    // A struct shaped like the page's own markup is data too.
    await page.goto(
      `${show.url}data?${new URLSearchParams({ pipeline: 'thena', sql: `SELECT {'html': '<i>x</i>'} AS s` })}`,
    )
    expect(await page.$$('#sql-result td i')).toHaveLength(0)
    expect(await page.$eval('#sql-result td', (td) => td.textContent)).toContain('<i>x</i>')
    await page.close()
  })

  it('charts: requests per day by status and first-response time (bolt), tickets per day (Platform)', async () => {
    const page = await newPage()
    await page.goto(`${show.url}charts?pipeline=thena`)
    await page.waitForSelector('canvas[data-chart="first-response-chart"][data-drawn="true"]')
    await page.waitForSelector('canvas[data-chart="per-day-chart"][data-drawn="true"]')
    await screenshot(page, 'charts')
    const total = await rowsOf(
      bolt,
      `SELECT count(*) AS n FROM thena.requests_enriched WHERE first_response_minutes >= 0`,
    )
    const buckets = await tableRows(page, '#first-response')
    expect(buckets.reduce((n, b) => n + Number(b.requests), 0)).toBe(Number(total[0]!.n))
    expect(await page.evaluate('window.__pwned')).toBeUndefined()
    await page.goto(`${show.url}charts?pipeline=platform`)
    await page.waitForSelector('canvas[data-chart="per-day-chart"][data-drawn="true"]')
    expect(await page.$eval('.no-data', (e) => e.textContent)).toMatch(/No data yet/)
    await screenshot(page, 'charts-platform')
    await page.close()
  })

  it('works without JavaScript: the tables are there, only the charts are not drawn', async () => {
    const page = await newPage({ javaScript: false })
    await page.goto(`${show.url}runs?pipeline=thena`)
    expect((await tableRows(page, '#runs')).length).toBe(2)
    expect(await page.$('canvas[data-drawn]')).toBeNull()
    await page.goto(`${show.url}charts?pipeline=thena`)
    expect((await tableRows(page, '#first-response')).length).toBeGreaterThan(0)
    await page.close()
  })
})

describe('thena-sync show: bad flags', () => {
  it('a bad --port is one line naming the flag and the fix, exit 2', async () => {
    const res = await runCli(['show', '--port', 'abc'], { cwd: tempDir() })
    expect(res.code).toBe(2)
    expect(res.stderr.trim().split('\n')).toEqual([
      'thena-sync: --port: expected a whole number 0 to 65535 (0 picks a free port), got `abc`',
    ])
  })
})

describe('thena-sync show while a run holds the DuckDB file', () => {
  it('shows the busy page and retries; the run, and one started while show polls, succeed', async () => {
    const sim = await startSimulator({
      records: 1500,
      rateLimit: false,
      faults: { latency: { rate: 1, ms: 25 } },
    })
    const env = {
      THENA_API_TOKEN: sim.token,
      THENA_BASE_URL: sim.url,
      THENA_DESTINATION: `duckdb:${join(tempDir(), 'busy.duckdb')}`,
    }
    const show = await startShow(env, ['--pipeline', 'thena'])
    try {
      const { child, done } = startCli(['run', '--config', REPO_CONFIG], { cwd: tempDir(), env })
      await firstCommit(child)
      const page = await newPage()
      const response = await page.goto(show.url)
      expect(response?.status()).toBe(503)
      expect(await page.$eval('#busy', (e) => e.textContent?.replace(/\s+/g, ' '))).toContain(
        'The file is busy (a run is in progress), retrying',
      )
      await screenshot(page, 'busy')
      expect((await done).code).toBe(0)
      // The page retries by itself and shows the finished run.
      await page.waitForSelector('#resources-thena', { timeout: 10_000 })
      // A run that starts while show reads the file waits out the read, not fails.
      let polling = true
      const polls = (async () => {
        let n = 0
        while (polling) {
          await fetch(show.url).then((r) => r.text())
          n++
        }
        return n
      })()
      const again = await runCli(['run', '--config', REPO_CONFIG], { cwd: tempDir(), env })
      polling = false
      expect(await polls).toBeGreaterThan(0)
      expect(again.code, again.stderr).toBe(0)
      await page.close()
      // The same, made certain: another process reads the file (as a page does) when a writer
      // opens it; the writer waits for the read to end instead of failing as busy.
      await show.stop()
      const path = env.THENA_DESTINATION.slice('duckdb:'.length)
      const release = await holdReadOnly(path)
      const started = Date.now()
      const opening = new DuckDbDestination({ path }).connect()
      await new Promise((resolve) => setTimeout(resolve, 1_000))
      await release()
      const writer = await opening
      expect(Date.now() - started).toBeGreaterThanOrEqual(1_000)
      await writer.close()
    } finally {
      await show.stop()
      await sim.stop()
    }
  }, 60_000)
})

/**
 * Opens `path` read-only in another process and holds it: resolves once it is held, to the
 * function that makes that process close it and resolves when it has exited.
 */
async function holdReadOnly(path: string): Promise<() => Promise<void>> {
  const duckdb = join(import.meta.dirname, '../../destinations/duckdb/duckdb-destination.ts')
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '--input-type=module',
      '-e',
      `const { DuckDbDestination } = await import(${JSON.stringify(duckdb)})
       const s = await new DuckDbDestination({ path: ${JSON.stringify(path)} }).connect({ readOnly: true })
       console.log('held')
       process.stdin.on('data', () => void s.close().then(() => process.exit(0)))`,
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  )
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d) => String(d).includes('held') && resolve())
    void exited.then(() => reject(new Error('the reader exited before holding the file')))
  })
  return () => {
    child.stdin!.write('release\n')
    return exited
  }
}

describe('thena-sync show on Postgres', () => {
  const postgres = DESTINATION_KINDS.find((k) => k.name === 'postgres')
  it.runIf(postgres)(
    'pages reload while a run is in progress, and show the run once done',
    async () => {
      const sim = await startSimulator({
        records: 2000,
        rateLimit: false,
        faults: { latency: { rate: 1, ms: 25 } },
      })
      const env = {
        THENA_API_TOKEN: sim.token,
        THENA_BASE_URL: sim.url,
        THENA_DESTINATION: await postgres!.freshUrl(),
      }
      const show = await startShow(env, ['--pipeline', 'thena'])
      try {
        const { child, done } = startCli(['run', '--config', REPO_CONFIG], { cwd: tempDir(), env })
        await firstCommit(child)
        const page = await newPage()
        await page.goto(show.url)
        expect(await page.$('meta[http-equiv="refresh"]')).not.toBeNull()
        expect((await tableRows(page, '#resources-thena')).length).toBeGreaterThan(0)
        expect(await page.$eval('main', (m) => m.textContent)).toContain('A run is in progress')
        expect((await done).code).toBe(0)
        // The reload after the run shows it finished, and reloads no more.
        await page.waitForFunction(`!document.querySelector('meta[http-equiv="refresh"]')`, {
          timeout: 15_000,
        })
        expect(await page.$eval('.card .value', (e) => e.textContent)).toBe('success')
        await page.close()
      } finally {
        await show.stop()
        await sim.stop()
      }
    },
    60_000,
  )
})
