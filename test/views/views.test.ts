/**
 * The views of the bolt and Platform sources (src/views/, sources/*\/views.ts), against their
 * simulators, on every destination: `requests_enriched`, `requests_v3_enriched`,
 * `request_custom_field_values` and `tickets_enriched` hold exactly what the simulators' truth
 * implies (names of assignees, sub-statuses, accounts, teams and statuses, first response in
 * minutes, SLA flags, custom field values per record); a run where nothing changed rebuilds no
 * view; a new custom field definition is a new column after the next run (a reconcile); a view
 * that cannot be built (an object in its way, a broken declaration, a required table missing)
 * leaves the run successful, is said in one line and shown by `status`, and is built by the
 * next run once it can be; a reset that drops tables works with the views in place; and every
 * example query of the README runs as written.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { resolvePipeline } from '../../src/config/resolve-pipeline.js'
import type { ResolvedPipeline } from '../../src/config/resolve-pipeline.js'
import { snakeCase } from '../../src/normalize/naming.js'
import { resetPipeline } from '../../src/pipeline/reset-pipeline.js'
import type { NoticeEvent } from '../../src/pipeline/run-pipeline.js'
import type { ViewDeclaration } from '../../src/views/view-declaration.js'
import { thenaSource } from '../../sources/thena/index.js'
import { startSimulator } from '../../sources/thena/simulator/index.js'
import type { Simulator } from '../../sources/thena/simulator/index.js'
import { platformPipeline } from '../../sources/thena-platform/index.js'
import { startPlatformSimulator } from '../../sources/thena-platform/simulator/index.js'
import type { PlatformSimulator } from '../../sources/thena-platform/simulator/index.js'
import { runCli } from '../helpers/cli.js'
import { DESTINATION_KINDS } from '../helpers/destinations.js'
import { simulatorPipeline, tempDir } from '../helpers/pipeline.js'
import { inSession, runOk } from '../helpers/warehouse-truth.js'
import type { Obj, Query } from '../helpers/warehouse-truth.js'

const REPO_CONFIG = join(import.meta.dirname, '../../pipelines.config.ts')
const README = join(import.meta.dirname, '../../README.md')

let stops: (() => Promise<void>)[] = []
afterEach(async () => {
  await Promise.all(stops.map((stop) => stop()))
  stops = []
})

async function bolt(): Promise<Simulator> {
  const s = await startSimulator({ rateLimit: false, records: 240, spanDays: 60, users: 12 })
  stops.push(() => s.stop())
  return s
}

async function platform(): Promise<PlatformSimulator> {
  const s = await startPlatformSimulator({
    endAt: '2026-06-01T00:00:00.000Z',
    tickets: 60,
    commentsPerTicket: 1,
    rateLimit: false,
  })
  stops.push(() => s.close())
  return s
}

const platformPipelineOn = (s: PlatformSimulator, destination: string): ResolvedPipeline =>
  resolvePipeline(
    { pipelines: { platform: { ...platformPipeline, http: { backoffMs: 5 } } } },
    'platform',
    {
      THENA_PLATFORM_API_KEY: s.apiKey,
      THENA_PLATFORM_BASE_URL: s.url,
      THENA_DESTINATION: destination,
    },
  )

/** The views' statuses of a run, by name. */
const viewsOf = (result: Awaited<ReturnType<typeof runOk>>) =>
  Object.fromEntries((result.views ?? []).map((v) => [v.name, v.status]))

const num = (v: unknown) => (v === null || v === undefined ? null : Number(v))

/** `requests_enriched` (or v3's) equals what the simulator's truth implies, row by row. */
async function expectRequestsEnriched(q: Query, s: Simulator, view = 'requests_enriched') {
  const truth = [...s.truth.requests()]
  const rows = await q(`SELECT * FROM thena.${view} ORDER BY request_id`)
  expect(rows.map((r) => r.request_id)).toEqual(truth.map((r) => r.id).sort())
  const byId = new Map(rows.map((r) => [r.request_id, r]))
  const subStatuses = new Map(s.truth.subStatuses().map((st) => [st.id, st.name]))
  const definitions = s.truth.customFields().map((d) => String(d.category_name))
  for (const request of truth) {
    const row = byId.get(request.id)!
    const assignee = request.assigned_to_user_id as string | null
    const user = assignee === null ? undefined : s.truth.userAt(s.truth.userIndexOf(assignee)!)
    expect(row.assignee_id).toBe(assignee)
    expect(row.assignee_name).toBe(user?.name ?? null)
    expect(row.assignee_email).toBe(user?.slack_profile_email ?? null)
    expect(row.sub_status_id).toBe(request.sub_status)
    expect(row.sub_status_name).toBe(subStatuses.get(request.sub_status) ?? null)
    const frt = request.first_response_time as Obj | null
    expect(num(row.first_response_minutes)).toBeCloseTo(
      frt ? (frt.actual_time as number) / 60 : (null as never),
    )
    if (!frt) expect(row.first_response_minutes).toBeNull()
    const sla = request.sla_metrics as Record<string, Obj>
    expect(row.first_response_sla_breached).toBe(sla.first_response_sla!.is_breached)
    expect(row.resolution_sla_breached).toBe(sla.resolution_sla!.is_breached)
    const fields = request.custom_fields as { category_name: string; values: Obj[] }[]
    for (const name of definitions) {
      const values = fields
        .filter((f) => f.category_name === name)
        .flatMap((f) => f.values.map((v) => String(v.value)))
      expect(row[`cf_${snakeCase(name)}`], `${request.id} ${name}`).toBe(
        values.length > 0 ? values.join(', ') : null,
      )
    }
  }
}

/** `request_custom_field_values`: one row per request, field and value, as the truth lists them. */
async function expectLongForm(q: Query, s: Simulator) {
  const rows = await q(
    `SELECT request_id, field_name, value, field_position, value_position
     FROM thena.request_custom_field_values ORDER BY request_id, field_position, value_position`,
  )
  const expected = [...s.truth.requests()]
    .sort((a, b) => (String(a.id) < String(b.id) ? -1 : 1))
    .flatMap((r) =>
      (r.custom_fields as { category_name: string; values: Obj[] }[]).flatMap((f, i) =>
        f.values.map((v, j) => ({
          request_id: r.id,
          field_name: f.category_name,
          value: v.value,
          field_position: i,
          value_position: j,
        })),
      ),
    )
  expect(
    rows.map((r) => ({
      ...r,
      field_position: Number(r.field_position),
      value_position: Number(r.value_position),
    })),
  ).toEqual(expected)
}

/** `status --json` of the bolt pipeline, by the CLI as a user runs it. */
async function statusViews(s: Simulator, destination: string): Promise<Obj[]> {
  const res = await runCli(['status', '--json', '--config', REPO_CONFIG, '--pipeline', 'thena'], {
    cwd: tempDir(),
    env: { THENA_API_TOKEN: s.token, THENA_BASE_URL: s.url, THENA_DESTINATION: destination },
  })
  expect(res.stderr).toBe('')
  expect(res.code).toBe(0)
  return (JSON.parse(res.stdout) as { views: Obj[] }).views
}

/** The SQL blocks of the README's views section: every example query. */
function readmeQueries(): string[] {
  const text = readFileSync(README, 'utf8')
  const section = text.slice(
    text.indexOf('## Views'),
    text.indexOf('\n## ', text.indexOf('## Views') + 1),
  )
  return [...section.matchAll(/```sql\n([\s\S]*?)```/g)].map((m) => m[1]!.trim())
}

for (const kind of DESTINATION_KINDS) {
  describe(`views on ${kind.name}`, () => {
    it('bolt: the views equal the truth; a no-change run rebuilds none; a new custom field is a new column', async () => {
      const s = await bolt()
      const url = await kind.freshUrl()
      const p = simulatorPipeline(s, {}, url)
      const first = await runOk(p)
      expect(viewsOf(first)).toEqual({
        requests_enriched: 'built',
        requests_v3_enriched: 'built',
        request_custom_field_values: 'built',
        // History is off for requests here.
        request_status_periods: 'skipped',
      })
      await inSession(p, async (q) => {
        await expectRequestsEnriched(q, s)
        await expectRequestsEnriched(q, s, 'requests_v3_enriched')
        await expectLongForm(q, s)
      })
      const built = await inSession(p, (q) => q('SELECT * FROM thena._thena_views ORDER BY name'))

      // Nothing changed: the SQL is the same, no view is dropped or created again.
      const second = await runOk(p)
      expect(viewsOf(second)).toEqual({
        requests_enriched: 'unchanged',
        requests_v3_enriched: 'unchanged',
        request_custom_field_values: 'unchanged',
        request_status_periods: 'skipped',
      })
      expect(
        await inSession(p, (q) => q('SELECT * FROM thena._thena_views ORDER BY name')),
      ).toEqual(built)

      // A new definition, and a request that has a value of it: a new column, after a reconcile.
      s.mutate({ op: 'addCustomField', name: 'Escalation Level', options: ['L1', 'L2'] })
      const [target] = [...s.truth.requests()]
      s.mutate({
        op: 'updateRequests',
        ids: [target!.id as string],
        set: {
          custom_fields: [
            ...(target!.custom_fields as Obj[]),
            {
              category_name: 'Escalation Level',
              values: [
                { name: 'L2', value: 'L2' },
                { name: 'L1', value: 'L1' },
              ],
              manual: true,
            },
          ],
        },
      })
      const third = await runOk(p, { mode: 'reconcile' })
      expect(viewsOf(third)).toMatchObject({
        requests_enriched: 'built',
        requests_v3_enriched: 'built',
        // Its SQL does not depend on the definitions.
        request_custom_field_values: 'unchanged',
      })
      await inSession(p, async (q) => {
        await expectRequestsEnriched(q, s)
        await expectLongForm(q, s)
        const [row] = await q(
          `SELECT cf_escalation_level FROM thena.requests_enriched WHERE request_id = '${String(target!.id)}'`,
        )
        expect(row!.cf_escalation_level).toBe('L2, L1')
      })
    })

    it('a view that cannot be built leaves the run successful, is said once, shown by status, and retried', async () => {
      const s = await bolt()
      const url = await kind.freshUrl()
      const broken: ViewDeclaration = {
        name: 'broken_view',
        description: 'reads a table no source has',
        sql: (ctx) => `SELECT id FROM ${ctx.table('no_such_table')}`,
      }
      const waiting: ViewDeclaration = {
        name: 'comment_periods',
        description: 'built on the history of comments',
        requires: [{ table: 'comments_history', hint: 'needs `resources.comments.history: true`' }],
        sql: (ctx) => `SELECT * FROM ${ctx.table('comments_history')}`,
      }
      const source = { ...thenaSource, views: [...(thenaSource.views ?? []), broken, waiting] }
      const p = simulatorPipeline(s, { source }, url)
      await runOk(p)
      // An object of someone else's where a view goes.
      await inSession(p, async (q) => {
        await q('DROP VIEW thena.requests_v3_enriched')
        await q('CREATE TABLE thena.requests_v3_enriched (note TEXT)')
      })
      const notices: NoticeEvent[] = []
      const result = await runOk(p, { onNotice: (e) => notices.push(e) })
      expect(viewsOf(result)).toEqual({
        requests_enriched: 'unchanged',
        requests_v3_enriched: 'failed',
        request_custom_field_values: 'unchanged',
        broken_view: 'failed',
        request_status_periods: 'skipped',
        comment_periods: 'skipped',
      })
      const lines = notices.filter((n) => n.message.startsWith('view not built'))
      expect(lines.map((n) => n.resource).sort()).toEqual(['broken_view', 'requests_v3_enriched'])
      const [load] = await inSession(p, (q) =>
        q(`SELECT details FROM thena._thena_loads WHERE load_id = '${result.loadId}'`),
      )
      const details = (
        typeof load!.details === 'string' ? JSON.parse(load!.details) : load!.details
      ) as { viewsNotBuilt: Record<string, string> }
      expect(Object.keys(details.viewsNotBuilt).sort()).toEqual([
        'broken_view',
        'comment_periods',
        'request_status_periods',
        'requests_v3_enriched',
      ])

      // `status` is the repo config's thena pipeline: the views this warehouse recorded.
      const shown = new Map((await statusViews(s, url)).map((v) => [v.view, v]))
      expect(shown.get('requests_v3_enriched')).toMatchObject({ status: 'failed', exists: false })
      expect(String(shown.get('requests_v3_enriched')!.error)).toMatch(/requests_v3_enriched/)
      expect(shown.get('broken_view')).toMatchObject({ status: 'failed' })
      expect(String(shown.get('broken_view')!.error)).toMatch(/no_such_table/)
      expect(shown.get('request_status_periods')).toMatchObject({
        status: 'skipped',
        error: 'needs table requests_history (needs `resources.requests.history: true`)',
      })
      expect(shown.get('requests_enriched')).toMatchObject({ status: 'built', exists: true })

      // Out of the way: the next run builds it; a skipped view is not said again.
      await inSession(p, (q) => q('DROP TABLE thena.requests_v3_enriched'))
      notices.length = 0
      const retried = await runOk(p, { onNotice: (e) => notices.push(e) })
      expect(viewsOf(retried)).toMatchObject({
        requests_v3_enriched: 'built',
        broken_view: 'failed',
        comment_periods: 'skipped',
      })
      expect(notices.map((n) => n.resource)).toEqual(['broken_view'])
      await inSession(p, (q) => expectRequestsEnriched(q, s, 'requests_v3_enriched'))

      // The declaration fixed (the view gone from the source): dropped, and forgotten.
      const fixed = simulatorPipeline(s, {}, url)
      const last = await runOk(fixed)
      expect(viewsOf(last)).toMatchObject({
        broken_view: 'dropped',
        comment_periods: 'dropped',
      })
      expect((await statusViews(s, url)).map((v) => v.view).sort()).toEqual([
        'request_custom_field_values',
        'request_status_periods',
        'requests_enriched',
        'requests_v3_enriched',
      ])
    })

    it('a reset that drops tables works with the views in place; the next run builds them again', async () => {
      const s = await bolt()
      const p = simulatorPipeline(s, {}, await kind.freshUrl())
      await runOk(p)
      await resetPipeline(p, { resources: ['requests', 'custom_fields'], dropTables: true })
      const result = await runOk(p)
      expect(viewsOf(result)).toEqual({
        requests_enriched: 'built',
        requests_v3_enriched: 'built',
        request_custom_field_values: 'built',
        request_status_periods: 'skipped',
      })
      await inSession(p, (q) => expectRequestsEnriched(q, s))
    })

    it('Platform: tickets_enriched equals the truth; every README example query runs', async () => {
      const s = await platform()
      const b = await bolt()
      const url = await kind.freshUrl()
      const p = platformPipelineOn(s, url)
      const result = await runOk(p)
      expect(viewsOf(result)).toEqual({ tickets_enriched: 'built' })
      const truth = s.truth()
      const live = [...truth.tickets.values()].filter((t) => t.deletedAt == null)
      const fields = [...truth.customFields.values()].filter((f) => f.source === 'ticket')
      const rows = await inSession(p, (q) =>
        q('SELECT * FROM thena_platform.tickets_enriched ORDER BY ticket_id'),
      )
      expect(rows.map((r) => r.ticket_id)).toEqual(live.map((t) => t.id).sort())
      const byId = new Map(rows.map((r) => [r.ticket_id, r]))
      for (const ticket of live) {
        const row = byId.get(ticket.id)!
        const account = truth.accounts.get(ticket.accountId as string)
        expect(row.account_name).toBe(account?.name ?? ticket.account)
        expect(row.team_name).toBe(truth.teams.get(ticket.teamId as string)!.name)
        const status = truth.ticketStatuses.get(ticket.statusId as string)!
        expect(row.status_display_name).toBe(status.displayName)
        const user = truth.users.get(ticket.assignedAgentId as string)
        expect(row.assignee_email).toBe(user?.email ?? ticket.assignedAgentEmail)
        const values = ticket.customFieldValues as { customFieldId: string; data: Obj[] }[]
        for (const field of fields) {
          const joined = values
            .filter((v) => v.customFieldId === field.uid)
            .flatMap((v) => v.data.map((d) => String(d.value)))
          expect(row[`cf_${snakeCase(String(field.name))}`], `${ticket.id} ${field.name}`).toBe(
            joined.length > 0 ? joined.join(', ') : null,
          )
        }
      }

      // The README's queries read both datasets: bolt's too, into the same warehouse, with
      // history and a few requests that went ON_HOLD and out of it.
      const boltPipeline = simulatorPipeline(b, { resources: { requests: { history: true } } }, url)
      await runOk(boltPipeline)
      const held = b.mutate({
        op: 'updateRequests',
        count: 5,
        // Inside the lookback, so that a `run` sees the change.
        createdAfter: new Date(Date.now() - 7 * 86_400_000).toISOString(),
        set: { status: 'ON_HOLD' },
      }).ids
      expect(held).toHaveLength(5)
      await runOk(boltPipeline)
      b.mutate({ op: 'updateRequests', ids: [...held], set: { status: 'CLOSED' } })
      await runOk(boltPipeline)
      const queries = readmeQueries()
      expect(queries.length).toBeGreaterThanOrEqual(4)
      await inSession(p, async (q) => {
        for (const sql of queries) {
          const out = await q(sql).catch((error: Error) => error)
          expect(out instanceof Error ? `${out.message}\n${sql}` : 'ran').toBe('ran')
        }
        // Not vacuous: on this data they answer rows.
        for (const sql of queries.filter((text) => !/this week/i.test(text)))
          expect((await q(sql)).length, sql).toBeGreaterThan(0)
      })
    })
  })
}
