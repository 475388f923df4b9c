/**
 * `query` is read-only for real: on both destinations it runs exactly one statement, and what
 * would change the warehouse or reach the file system (transaction control, settings, COPY TO,
 * ATTACH, file functions, extensions) is refused with exit code 4 and leaves everything as it
 * was. Table output shows control characters from the data as escapes.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs'
import { basename, join } from 'node:path'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { resolvePipeline } from '../../src/config/resolve-pipeline.js'
import type { ResolvedPipeline } from '../../src/config/resolve-pipeline.js'
import { startSimulator } from '../../sources/thena/simulator/index.js'
import type { Simulator } from '../../sources/thena/simulator/index.js'
import { runCli } from '../helpers/cli.js'
import type { CliResult } from '../helpers/cli.js'
import { DESTINATION_KINDS } from '../helpers/destinations.js'
import { tempDir } from '../helpers/pipeline.js'
import { rowsOf } from '../helpers/truth.js'

let sim: Simulator
beforeAll(async () => {
  sim = await startSimulator({ rateLimit: false, records: 40 })
})
afterAll(() => sim.stop())

const ONE_STATEMENT = /^thena-sync: query takes exactly one SQL statement/

/** Exit code 4, one line on stderr matching `message`, nothing on stdout. */
function expectRefused(res: CliResult, message: RegExp, sql: string): void {
  expect(res.code, `${sql}\n${res.stdout}${res.stderr}`).toBe(4)
  expect(res.stdout, sql).toBe('')
  const lines = res.stderr.trim().split('\n')
  expect(lines, sql).toHaveLength(1)
  expect(lines[0], sql).toMatch(message)
}

for (const kind of DESTINATION_KINDS) {
  describe(`thena-sync query on ${kind.name}`, () => {
    let cwd: string
    let env: NodeJS.ProcessEnv
    let pipeline: ResolvedPipeline
    let url: string
    /** Everything a refused query must leave as it was: the state, the loads and the tables. */
    const snapshot = async () => ({
      state: await rowsOf(
        pipeline,
        'SELECT pipeline, resource, state FROM thena._thena_state ORDER BY 1, 2',
      ),
      loads: await rowsOf(pipeline, 'SELECT load_id, status FROM thena._thena_loads ORDER BY 1'),
      tables: await rowsOf(
        pipeline,
        `SELECT table_name FROM information_schema.tables WHERE table_schema = 'thena' ORDER BY 1`,
      ),
    })
    let before: Awaited<ReturnType<typeof snapshot>>
    const query = (sql: string, ...flags: string[]) =>
      runCli(['query', sql, ...flags], { cwd, env })

    beforeAll(async () => {
      cwd = tempDir()
      url = await kind.freshUrl()
      env = { THENA_API_TOKEN: sim.token, THENA_BASE_URL: sim.url, THENA_DESTINATION: url }
      expect((await runCli(['run'], { cwd, env })).code).toBe(0)
      pipeline = resolvePipeline(
        { pipelines: { thena: { token: sim.token, baseUrl: sim.url, destination: url } } },
        'thena',
        {},
      )
      before = await snapshot()
      expect(before.state.length).toBeGreaterThan(0)
    })

    it('runs one statement that reads; a second statement is refused alike on both', async () => {
      const reads = [
        'select count(*) as n from thena._thena_state;',
        'with s as (select resource from thena._thena_state) select count(*) as n from s',
        `select count(*) as n from thena.requests r join thena.requests__custom_fields f on f._thena_parent_id = r.id`,
        ...(kind.name === 'duckdb'
          ? ['DESCRIBE thena._thena_state', 'SHOW TABLES', 'SUMMARIZE thena._thena_state']
          : [
              'EXPLAIN select * from thena._thena_state',
              'SHOW TimeZone',
              'TABLE thena._thena_state',
            ]),
      ]
      for (const sql of reads) {
        const res = await query(sql)
        expect(res.code, `${sql}\n${res.stderr}`).toBe(0)
        expect(res.stdout, sql).toMatch(/\(\d+ rows?\)\n$/)
      }
      for (const sql of [
        'select 1; select 2',
        'BEGIN READ WRITE; delete from thena._thena_state; COMMIT',
        'delete from thena._thena_state; select 1',
        `ATTACH '${join(cwd, 'other.duckdb')}' AS other; CREATE TABLE other.t (i int)`,
      ])
        expectRefused(await query(sql), new RegExp(`${ONE_STATEMENT.source}.*more than one`), sql)
      for (const sql of [';', ' -- only a comment'])
        expectRefused(await query(sql), new RegExp(`${ONE_STATEMENT.source}.*none`), sql)
      expect(readdirSync(cwd).filter((f) => f.startsWith('other'))).toEqual([])
      expect(await snapshot()).toEqual(before)
    })

    it('table output shows control characters from the data as escapes', async () => {
      const res = await query(
        `select chr(27) || '[31mred' || chr(7) || chr(13) || chr(155) || '2J' as "x\u001b]8;;"`,
      )
      expect(res.code, res.stderr).toBe(0)
      // eslint-disable-next-line no-control-regex -- control characters are what it looks for
      expect(res.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/)
      expect(res.stdout).toContain('\\x1b[31mred\\x07\\r\\u009b2J')
      expect(res.stdout).toContain('x\\x1b]8;;')
      const json = await query(`select chr(155) || '2J' as x`, '--format', 'json')
      expect(json.stdout).not.toContain('\u009b')
      expect(JSON.parse(json.stdout)).toEqual([{ x: '\u009b2J' }])
    })

    if (kind.name === 'duckdb') {
      it('reaches no file, extension or setting, and writes nothing', async () => {
        const out = tempDir()
        const attempts = [
          `COPY (select 1) TO '${join(out, 'copy.csv')}'`,
          `COPY thena._thena_state TO '${join(out, 'state.parquet')}' (FORMAT parquet)`,
          `EXPORT DATABASE '${join(out, 'export')}'`,
          `ATTACH '${join(out, 'other.duckdb')}' AS other`,
          `select * from read_text('/etc/hostname')`,
          `select * from glob('/etc/*')`,
          'LOAD httpfs',
          'INSTALL httpfs',
          'SET enable_external_access = true',
          'SET lock_configuration = false',
          `SET temp_directory = '${join(out, 'spill')}'`,
          'CREATE TABLE thena.x (i int)',
          'DELETE FROM thena._thena_state',
          'DROP TABLE thena._thena_state',
        ]
        for (const sql of attempts) {
          const res = await query(sql)
          expectRefused(
            res,
            /disabled (by|through) configuration|configuration has been locked|read-only mode|^thena-sync: query is read-only/,
            sql,
          )
        }
        expect(readdirSync(out)).toEqual([])
        expect(await snapshot()).toEqual(before)
      })

      it('writes nothing beside the warehouse either: not its WAL, not the spill directory', async () => {
        // The files DuckDB allows a session with external access off: the attached file's WAL
        // and the spill directory.
        const file = url.slice('duckdb:'.length)
        const wal = `${file}.wal`
        const spill = `${file}.tmp`
        mkdirSync(spill, { recursive: true })
        const walBefore = existsSync(wal) ? readFileSync(wal) : undefined
        const spilled = readdirSync(spill)
        const attempts = [
          `COPY (select 'not a log' AS g FROM range(100)) TO '${wal}' (FORMAT csv)`,
          `COPY (select 1) TO '${spill}/../${basename(wal)}' (FORMAT csv)`,
          `COPY (select 1) TO '${spill}/copy.csv'`,
          `ATTACH '${spill}/other.duckdb' AS other`,
          `EXPLAIN ANALYZE COPY (select 1) TO '${spill}/explained.csv'`,
        ]
        for (const sql of attempts)
          expectRefused(await query(sql), /^thena-sync: query is read-only: on DuckDB/, sql)
        expect(existsSync(wal) ? readFileSync(wal) : undefined).toEqual(walBefore)
        expect(readdirSync(spill)).toEqual(spilled)
        expect(await snapshot()).toEqual(before)
        // Reading still works, EXPLAIN included.
        expect((await query('EXPLAIN select 1')).code).toBe(0)
      })
    }

    if (kind.name === 'postgres') {
      it('refuses transaction control, settings and writes; the state survives', async () => {
        const attempts = [
          'COMMIT',
          'BEGIN READ WRITE',
          'START TRANSACTION READ WRITE',
          'SET default_transaction_read_only = off',
          'SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE',
          'RESET ALL',
          `select set_config('default_transaction_read_only', 'off', false)`,
          `select "set_config"('role', 'postgres', true)`,
          'DO $$ begin delete from thena._thena_state; end $$',
          'DELETE FROM thena._thena_state',
          'with d as (delete from thena._thena_state returning 1) select count(*) from d',
          'DROP TABLE thena._thena_state',
          'select * into thena.copied from thena._thena_state',
        ]
        for (const sql of attempts) expectRefused(await query(sql), /read-only/, sql)
        expect(await snapshot()).toEqual(before)
      })

      it('refuses what outlives its rolled-back transaction or holds a load: WAL messages, advisory locks', async () => {
        const attempts = [
          `select pg_logical_emit_message(false, 'thena', 'not from a load')`,
          `select pg_advisory_lock(hashtextextended('thena-sync-ddl:thena', 0)), pg_sleep(0)`,
          `select pg_try_advisory_lock(hashtextextended('thena-sync:thena:thena', 0))`,
          `select "pg_advisory_xact_lock"(1)`,
        ]
        for (const sql of attempts) expectRefused(await query(sql), /read-only/, sql)
        expect(await snapshot()).toEqual(before)
      })

      it("reaches none of the server's files or programs, even as a superuser", async () => {
        // A directory the server (another user when tests run as root) could write into.
        const out = tempDir()
        chmodSync(out, 0o777)
        const admin = new pg.Client({ connectionString: url })
        await admin.connect()
        const { rows } = await admin
          .query<{ oid: number }>(`SELECT lo_from_bytea(0, 'x') AS oid`)
          .finally(() => admin.end())
        const refused = [
          `COPY (select 1) TO '${join(out, 'copy.csv')}'`,
          `COPY thena._thena_state TO PROGRAM 'touch ${join(out, 'program')}'`,
          `/* /* */ select */ COPY (select 1) TO '${join(out, 'nested.csv')}'`,
          ` --\rCOPY (select 1) TO '${join(out, 'comment.csv')}'\nselect 1`,
          `select lo_export(${rows[0]!.oid}, '${join(out, 'lo')}')`,
          `select query_to_xml('select 1', true, true, '')`,
          `select * from U&"lo_export"(${rows[0]!.oid}, '${join(out, 'lo2')}')`,
        ]
        for (const sql of refused) expectRefused(await query(sql), /read-only/, sql)
        // Not refused by name: the superuser's rights are given up for the query.
        for (const sql of [
          `select pg_read_file('/etc/hostname')`,
          `select pg_ls_dir('.')`,
          'select pg_reload_conf()',
        ])
          expectRefused(await query(sql), /permission denied/, sql)
        expect(readdirSync(out)).toEqual([])
        expect(await snapshot()).toEqual(before)
      })
    }
  })
}
