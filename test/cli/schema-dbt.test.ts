/**
 * `thena-sync schema --dbt` against loaded warehouses (bolt and Platform, every destination):
 * its output is YAML (a real parser reads it; PyYAML, dbt's own, too when present) and is one
 * dbt source naming every table and view of the dataset with every column and its SQL type as
 * `information_schema` gives them; keys carry `unique` + `not_null` (a root's resource key, a
 * child's `_thena_id`; a `_history` table's key `not_null` only); documented fields carry their
 * schema's description, thena-sync's columns theirs; hostile table and column names (quotes,
 * colon, `#`, newline, Unicode) come back exactly; `--dbt` with `--zod` is one line naming both.
 */
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { SYSTEM_COLUMN_DESCRIPTIONS } from '../../src/cli/dbt-sources.js'
import { resolvePipeline } from '../../src/config/resolve-pipeline.js'
import type { ResolvedPipeline } from '../../src/config/resolve-pipeline.js'
import { escapeSqlIdentifier } from '../../src/load/destination.js'
import { RequestSchema, UserSchema } from '../../schemas/thena/index.js'
import { CustomFieldValueSchema, TicketSchema } from '../../schemas/thena-platform/ticket.js'
import { platformPipeline } from '../../sources/thena-platform/index.js'
import { startPlatformSimulator } from '../../sources/thena-platform/simulator/index.js'
import type { PlatformSimulator } from '../../sources/thena-platform/simulator/index.js'
import { startSimulator } from '../../sources/thena/simulator/index.js'
import { THENA_VIEWS } from '../../sources/thena/views.js'
import type { Simulator } from '../../sources/thena/simulator/index.js'
import { runCli } from '../helpers/cli.js'
import { DESTINATION_KINDS } from '../helpers/destinations.js'
import { tempDir } from '../helpers/pipeline.js'
import { parsePyYaml, parseYaml } from '../helpers/parse-yaml.js'
import { rowsOf } from '../helpers/truth.js'

const REPO_CONFIG = join(import.meta.dirname, '../../pipelines.config.ts')

interface DbtColumn {
  name: string
  data_type: string
  description?: string
  quote?: boolean
  data_tests?: string[]
}
interface DbtTable {
  name: string
  description: string
  columns: DbtColumn[]
}
interface DbtSource {
  name: string
  description: string
  database?: string
  schema: string
  tables: DbtTable[]
}

/** `schema --dbt`'s output, parsed by a real YAML parser (and PyYAML, when here, alike). */
async function dbtSource(stdout: string): Promise<DbtSource> {
  const doc = parseYaml(stdout) as { version: number; sources: DbtSource[] }
  expect(parsePyYaml(stdout)).toEqual(doc)
  expect(doc.version).toBe(2)
  expect(doc.sources).toHaveLength(1)
  return doc.sources[0]!
}

/** Every table and view of the dataset, with its columns and types in order, and none else. */
async function expectEveryRelation(pipeline: ResolvedPipeline, source: DbtSource): Promise<void> {
  const rows = await rowsOf(
    pipeline,
    `SELECT table_name, column_name, data_type, ordinal_position FROM information_schema.columns
      WHERE table_schema = '${pipeline.dataset}' AND table_catalog = current_database()`,
  )
  const expected = new Map<string, [number, string][]>()
  for (const r of rows) {
    const columns = expected.get(String(r.table_name)) ?? []
    columns.push([Number(r.ordinal_position), `${String(r.column_name)} ${String(r.data_type)}`])
    expected.set(String(r.table_name), columns)
  }
  expect(source.tables.map((t) => t.name).sort()).toEqual([...expected.keys()].sort())
  for (const table of source.tables) {
    expect(table.description, table.name).toMatch(/\S/)
    expect(table.columns.map((c) => `${c.name} ${c.data_type}`)).toEqual(
      expected
        .get(table.name)!
        .sort(([a], [b]) => a - b)
        .map(([, c]) => c),
    )
  }
}

const tableOf = (source: DbtSource, name: string): DbtTable => {
  const table = source.tables.find((t) => t.name === name)
  expect(table, name).toBeDefined()
  return table!
}
const columnOf = (source: DbtSource, table: string, column: string): DbtColumn => {
  const found = tableOf(source, table).columns.find((c) => c.name === column)
  expect(found, `${table}.${column}`).toBeDefined()
  return found!
}
const describedAs = (schema: { description?: string }): string => {
  expect(schema.description).toBeTruthy()
  return schema.description!
}

let sim: Simulator | undefined
let platform: PlatformSimulator | undefined
afterEach(async () => {
  await sim?.stop()
  await platform?.close()
  sim = platform = undefined
})

for (const kind of DESTINATION_KINDS) {
  describe(`thena-sync schema --dbt on ${kind.name}`, () => {
    it('bolt: every table, view and column; keys tested; schema descriptions; hostile names', async () => {
      const s = (sim = await startSimulator({ rateLimit: false, records: 40 }))
      const dir = tempDir()
      const env = {
        THENA_API_TOKEN: s.token,
        THENA_BASE_URL: s.url,
        THENA_DESTINATION: await kind.freshUrl(),
      }
      expect((await runCli(['run'], { cwd: dir, env })).code).toBe(0)
      const pipeline = resolvePipeline(
        { pipelines: { thena: { token: s.token, destination: env.THENA_DESTINATION } } },
        'thena',
        {},
      )
      // The views the run built: `request_status_periods` waits for a real requests_history.
      const builtViews = THENA_VIEWS.filter(
        (v) => !v.requires?.some((r) => r.table.endsWith('_history')),
      )
      expect(
        (await rowsOf(pipeline, `SELECT name FROM thena._thena_views WHERE status = 'built'`))
          .map((r) => String(r.name))
          .sort(),
      ).toEqual(builtViews.map((v) => v.name).sort())
      // A stand-in for a history table, a view of the user's own, and a table no API would
      // name so (the run itself built the source's views, `requests_enriched` among them).
      const hostileTable = 'odd "table": #1\nnext line'
      const hostileColumn = 'a "b": #c\nd é😀'
      const q = escapeSqlIdentifier
      for (const sql of [
        `CREATE TABLE thena.requests_history AS SELECT * FROM thena.requests`,
        `CREATE VIEW thena.my_view AS SELECT id, status, _thena_synced_at FROM thena.requests`,
        `CREATE TABLE thena.${q(hostileTable)} (id TEXT, ${q(hostileColumn)} TEXT)`,
      ])
        await rowsOf(pipeline, sql)

      const out = await runCli(['schema', '--dbt'], { cwd: dir, env })
      expect(out.stderr).toBe('')
      expect(out.code).toBe(0)
      const source = await dbtSource(out.stdout)
      expect(source.name).toBe('thena')
      expect(source.schema).toBe('thena')
      expect(source.database).toBe(kind.name === 'duckdb' ? 'thena' : undefined)
      expect(out.stdout).toContain('# The dbt profile')
      expect(out.stdout).toMatch(new RegExp(`^#   type: ${kind.name}$`, 'm'))
      await expectEveryRelation(pipeline, source)

      // Keys.
      expect(columnOf(source, 'requests', 'id').data_tests).toEqual(['unique', 'not_null'])
      expect(columnOf(source, 'users', 'id').data_tests).toEqual(['unique', 'not_null'])
      expect(columnOf(source, 'requests__custom_fields', '_thena_id').data_tests).toEqual([
        'unique',
        'not_null',
      ])
      expect(columnOf(source, 'requests_history', 'id').data_tests).toEqual(['not_null'])
      // `unique` on the key of every root (bolt's resources are keyed by `id`) and child, only.
      const standIns = [
        'requests_history',
        'my_view',
        hostileTable,
        ...builtViews.map((v) => v.name),
      ]
      for (const table of source.tables.filter(
        (t) => !t.name.startsWith('_thena_') && !standIns.includes(t.name),
      ))
        expect(
          table.columns.filter((c) => c.data_tests?.includes('unique')).map((c) => c.name),
          table.name,
        ).toEqual([table.name.includes('__') ? '_thena_id' : 'id'])
      for (const name of standIns)
        expect(
          tableOf(source, name).columns.filter((c) => c.data_tests?.includes('unique')),
        ).toEqual([])

      // Descriptions from the schemas, for the record, its fields and nested fields.
      expect(tableOf(source, 'requests').description).toBe(describedAs(RequestSchema))
      expect(columnOf(source, 'requests', 'sub_status').description).toBe(
        describedAs(RequestSchema.shape.sub_status),
      )
      const ts = RequestSchema.shape.first_response_time.unwrap().unwrap().shape.ts
      expect(columnOf(source, 'requests', 'first_response_time__ts').description).toBe(
        describedAs(ts),
      )
      expect(columnOf(source, 'users', 'slack_tz_offset').description).toBe(
        describedAs(UserSchema.shape.slack_tz_offset),
      )
      expect(columnOf(source, 'requests_history', 'sub_status').description).toBe(
        describedAs(RequestSchema.shape.sub_status),
      )
      expect(columnOf(source, 'requests', 'status').description).toBeUndefined()
      for (const name of ['_thena_synced_at', '_thena_load_id', '_thena_deleted_at'])
        expect(columnOf(source, 'requests', name).description).toBe(
          SYSTEM_COLUMN_DESCRIPTIONS[name],
        )
      expect(columnOf(source, 'requests__custom_fields', '_thena_parent_id').description).toBe(
        SYSTEM_COLUMN_DESCRIPTIONS._thena_parent_id,
      )
      expect(tableOf(source, 'requests__custom_fields').description).toContain(
        '`custom_fields` in `requests`',
      )
      expect(tableOf(source, 'my_view').description).toMatch(/view/i)
      // The source's views carry their declaration's description.
      for (const view of builtViews)
        expect(tableOf(source, view.name).description).toBe(view.description)
      expect(tableOf(source, 'requests_history').description).toContain('`requests`')

      // Hostile names come back exactly, quoted for dbt's tests.
      const odd = tableOf(source, hostileTable)
      expect(odd.columns.map((c) => c.name)).toEqual(['id', hostileColumn])
      expect(odd.columns[1]!.quote).toBe(true)

      const both = await runCli(['schema', '--dbt', '--zod'], { cwd: dir, env })
      expect(both.code).toBe(2)
      expect(both.stderr.trim().split('\n')).toHaveLength(1)
      expect(both.stderr).toContain('--dbt')
      expect(both.stderr).toContain('drop --zod')
    })

    it('Platform: children, parent fields and composite keys; descriptions of nested schemas', async () => {
      const s = (platform = await startPlatformSimulator({
        endAt: '2026-06-01T00:00:00.000Z',
        tickets: 20,
        commentsPerTicket: 2,
        rateLimit: false,
      }))
      const dir = tempDir()
      const env = {
        THENA_PLATFORM_API_KEY: s.apiKey,
        THENA_PLATFORM_BASE_URL: s.url,
        THENA_DESTINATION: await kind.freshUrl(),
      }
      const cli = (...args: string[]) =>
        runCli([...args, '--config', REPO_CONFIG, '--pipeline', 'platform'], { cwd: dir, env })
      expect((await cli('run')).code).toBe(0)
      const pipeline = resolvePipeline(
        { pipelines: { platform: platformPipeline } },
        'platform',
        env,
      )
      const out = await cli('schema', '--dbt')
      expect(out.stderr).toBe('')
      expect(out.code).toBe(0)
      const source = await dbtSource(out.stdout)
      expect(source.name).toBe('thena_platform')
      expect(source.schema).toBe('thena_platform')
      await expectEveryRelation(pipeline, source)

      expect(columnOf(source, 'tickets', 'id').data_tests).toEqual(['unique', 'not_null'])
      expect(columnOf(source, 'comments', 'id').data_tests).toEqual(['unique', 'not_null'])
      expect(columnOf(source, 'team_members', 'team_member_key').data_tests).toEqual([
        'unique',
        'not_null',
      ])
      expect(columnOf(source, 'team_members', 'id').data_tests).toBeUndefined()
      expect(columnOf(source, 'custom_fields', 'uid').data_tests).toEqual(['unique', 'not_null'])

      expect(tableOf(source, 'tickets').description).toBe(describedAs(TicketSchema))
      expect(columnOf(source, 'tickets', 'ticket_identifier').description).toBe(
        describedAs(TicketSchema.shape.ticketIdentifier),
      )
      expect(tableOf(source, 'tickets__custom_field_values').description).toContain(
        describedAs(CustomFieldValueSchema),
      )
      expect(columnOf(source, 'comments', 'ticket_id').description).toContain(
        'the `tickets` record',
      )
      expect(columnOf(source, 'team_members', 'team_member_key').description).toMatch(/key/)
    })
  })
}
