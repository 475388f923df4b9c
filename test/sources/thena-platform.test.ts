/**
 * Thena's Platform API, declared only (sources/thena-platform/): loaded end to end from its
 * simulator into every destination, every table equal to the simulator's truth (children with
 * their parents' keys, soft deletes exactly the truth's); a second run duplicates nothing and a
 * run where nothing changed reads no comment; inserts, updates, `deletedAt` deletes, new
 * comments, new fields and a type change end exact after `run`, hard deletes and membership
 * changes after `reconcile`; faults and a small rate limit (with and without headers) change
 * nothing; kill -9 at several moments then `run` ends exact; a wrong key exits 3 having written
 * nothing, a tier 403 skips tickets and their comments only, every resource refused exits 3;
 * and the key is found in no output, file, warehouse or URL.
 */
import { randomBytes } from 'node:crypto'
import { dirname, join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { resolvePipeline } from '../../src/config/resolve-pipeline.js'
import type { ResolvedPipeline } from '../../src/config/resolve-pipeline.js'
import { platformPipeline } from '../../sources/thena-platform/index.js'
import {
  PLATFORM_ROUTES,
  startPlatformSimulator,
} from '../../sources/thena-platform/simulator/index.js'
import type {
  PlatformMutation,
  PlatformSimulator,
  PlatformSimulatorOptions,
} from '../../sources/thena-platform/simulator/index.js'
import { killAfterFirstCommit, runCli } from '../helpers/cli.js'
import { DESTINATION_KINDS, dumpWarehouse } from '../helpers/destinations.js'
import { tempDir } from '../helpers/pipeline.js'
import {
  col,
  DatasetTruth,
  errorLines,
  expectNothingWritten,
  filesUnder,
  inSession,
  runOk,
} from '../helpers/warehouse-truth.js'
import type { Obj, Query } from '../helpers/warehouse-truth.js'

const REPO_CONFIG = join(import.meta.dirname, '../../pipelines.config.ts')
const DATASET = 'thena_platform'
const platform = new DatasetTruth(DATASET, {
  ticket_statuses: 'id',
  tickets: 'id',
  comments: 'id',
  accounts: 'id',
  contacts: 'id',
  account_attributes: 'id',
  teams: 'id',
  team_members: 'team_member_key',
  users: 'id',
  tags: 'id',
  custom_fields: 'uid',
})

let sims: PlatformSimulator[] = []
afterEach(async () => {
  await Promise.all(sims.map((s) => s.close()))
  sims = []
})

const start = async (options: PlatformSimulatorOptions = {}) => {
  const s = await startPlatformSimulator({
    // A clock of its own, in the past: what it stamps is never within the minutes before a run,
    // which a run reads again (decisions #57), whatever time of day the test runs at.
    endAt: '2026-06-01T00:00:00.000Z',
    tickets: 120,
    commentsPerTicket: 3,
    rateLimit: false,
    ...options,
  })
  sims.push(s)
  return s
}

/** What a user exports to load the Platform. */
const envOf = (s: PlatformSimulator, destination: string, key = s.apiKey): NodeJS.ProcessEnv => ({
  THENA_PLATFORM_API_KEY: key,
  THENA_PLATFORM_BASE_URL: s.url,
  THENA_DESTINATION: destination,
})

const pipelineOf = (env: NodeJS.ProcessEnv, secrets = true): ResolvedPipeline =>
  resolvePipeline(
    { pipelines: { platform: { ...platformPipeline, http: { backoffMs: 5 } } } },
    'platform',
    env,
    { secrets },
  )

const cli = (command: string, dir: string, env: NodeJS.ProcessEnv) =>
  runCli([command, '--config', REPO_CONFIG, '--pipeline', 'platform'], { cwd: dir, env })

/**
 * The warehouse holds exactly the simulator's truth: every table by key with its meaningful
 * columns, children with their parents' keys, the tickets' custom-field values and the
 * contacts' accounts, soft deletes exactly the truth's `deletedAt` (rows gone from the source
 * marked), and no duplicates anywhere. `skipped` tables (a tier without them) are not compared.
 */
async function expectPlatformTruth(
  p: ResolvedPipeline,
  s: PlatformSimulator,
  skipped: readonly ('tickets' | 'comments')[] = [],
) {
  await inSession(p, (q) => platformTruthIn(q, s, skipped))
}

async function platformTruthIn(q: Query, s: PlatformSimulator, skipped: readonly string[]) {
  const truth = s.truth()
  const read = (table: string) => !skipped.includes(table)
  await platform.table(q, 'ticket_statuses', truth.ticketStatuses, {
    name: col('name'),
    parent_status_id: col('parentStatusId'),
  })
  if (read('tickets')) {
    await platform.table(q, 'tickets', truth.tickets, {
      ticket_identifier: col('ticketIdentifier'),
      title: col('title'),
      status: col('status'),
      priority: col('priority'),
      team_id: col('teamId'),
      account_id: col('accountId'),
      ticket_id: col('ticketId', 'num'),
      // Story points that changed type are in a variant column (the type-change test reads it).
      story_points: [(r) => (typeof r.storyPoints === 'number' ? r.storyPoints : null), 'num'],
      created_at: col('createdAt', 'ms'),
      updated_at: col('updatedAt', 'ms'),
    })
    const values = (t: Obj) => t.customFieldValues as Obj[]
    await platform.children(
      q,
      'tickets__custom_field_values',
      truth.tickets,
      ['custom_field_id'],
      (t) => values(t).map((v) => [v.customFieldId]),
    )
    // `value` is declared `unknown`: a JSON column.
    await platform.children(
      q,
      'tickets__custom_field_values__data',
      truth.tickets,
      ['value'],
      (t) => values(t).flatMap((v) => (v.data as Obj[]).map((d) => [JSON.stringify(d.value)])),
    )
  }
  if (read('comments')) {
    const comments = truth.comments.map(({ ticketId, comment }) => [
      comment.id as string,
      { ...comment, ticketId },
    ])
    await platform.table(q, 'comments', new Map(comments as [string, Obj][]), {
      ticket_id: col('ticketId'),
      content: col('content'),
      is_edited: col('isEdited'),
      author_id: col('authorId'),
      updated_at: col('updatedAt', 'ms'),
    })
  }
  await platform.table(q, 'accounts', truth.accounts, {
    name: col('name'),
    status: col('status'),
    classification: col('classification'),
    primary_domain: col('primaryDomain'),
    updated_at: col('updatedAt', 'ms'),
  })
  await platform.table(q, 'contacts', truth.contacts, {
    email: col('email'),
    contact_type: col('contactType'),
    updated_at: col('updatedAt', 'ms'),
  })
  await platform.children(q, 'contacts__accounts', truth.contacts, ['id', 'name'], (c) =>
    (c.accounts as Obj[]).map((a) => [a.id, a.name]),
  )
  await platform.table(q, 'account_attributes', truth.accountAttributes, {
    attribute: col('attribute'),
    value: col('value'),
    is_default: col('isDefault'),
  })
  await platform.table(q, 'teams', truth.teams, {
    name: col('name'),
    parent_team_id: col('parentTeamId'),
    team_owner_id: col('teamOwnerId'),
  })
  // A member's key is its team's and user's ids, as JSON text.
  const members = truth.teamMembers.map(({ teamId, member }) => [
    JSON.stringify([teamId, member.id]),
    { ...member, teamId },
  ])
  await platform.table(q, 'team_members', new Map(members as [string, Obj][]), {
    id: col('id'),
    team_id: col('teamId'),
    role: col('role'),
    email: col('email'),
  })
  await platform.table(q, 'users', truth.users, {
    name: col('name'),
    email: col('email'),
    status: col('status'),
  })
  await platform.table(q, 'tags', truth.tags, { name: col('name'), tag_type: col('tagType') })
  await platform.table(q, 'custom_fields', truth.customFields, {
    name: col('name'),
    field_type: col('fieldType'),
    source: col('source'),
  })
  await platform.noDuplicates(q, skipped)
}

/** Tickets whose `updatedAt` differs from (or is missing in) an earlier truth's. */
const ticketsChangedSince = (before: ReadonlyMap<string, Obj>, s: PlatformSimulator) =>
  [...s.truth().tickets.values()].filter(
    (t) => before.get(t.id as string)?.updatedAt !== t.updatedAt,
  )

for (const kind of DESTINATION_KINDS) {
  describe(`Thena Platform, declared only, into ${kind.name}`, () => {
    it('loads every table equal to the truth; a second run duplicates nothing and reads no comment', async () => {
      const s = await start()
      const p = pipelineOf(envOf(s, await kind.freshUrl()))
      await runOk(p)
      const truth = s.truth()
      // The data has soft-deleted tickets and comments, so the flag is exercised.
      expect([...truth.tickets.values()].some((t) => t.deletedAt !== null)).toBe(true)
      expect(truth.comments.some(({ comment }) => comment.deletedAt !== null)).toBe(true)
      await expectPlatformTruth(p, s)
      // Comments: one request per ticket (3 fit one page); members: one per team.
      expect(s.stats.byRoute).toMatchObject({
        comments: truth.tickets.size,
        'team-members': truth.teams.size,
        'account-attributes': 11,
      })
      s.resetStats()
      const second = await runOk(p)
      await expectPlatformTruth(p, s)
      // Nothing changed: the lists are read again (unchanged pages not merged), no child.
      expect(s.stats.byRoute.comments).toBeUndefined()
      expect(s.stats.byRoute['team-members']).toBeUndefined()
      expect(s.stats.byRoute.tickets).toBe(2)
      expect(second.unchanged).toBeGreaterThan(truth.tickets.size)
    })

    it('after run: new, updated and deleted tickets and comments, new fields, a type change', async () => {
      const s = await start({ seed: 5, tickets: 60 })
      const p = pipelineOf(envOf(s, await kind.freshUrl()))
      await runOk(p)
      const before = s.truth().tickets
      const deleted = s.mutate({ op: 'deleteTickets', count: 3 }).ids
      const mutations: PlatformMutation[] = [
        { op: 'newTickets', count: 7 },
        { op: 'updateTickets', count: 9 },
        { op: 'newComments', count: 12 },
        { op: 'updateComments', count: 5 },
        { op: 'deleteComments', count: 4 },
        { op: 'newAccounts', count: 2 },
        { op: 'updateAccounts', count: 3 },
        { op: 'newContacts', count: 4 },
        { op: 'newTags', count: 2 },
        { op: 'addField', resource: 'tickets', field: 'severityScore', value: 'number' },
        { op: 'addField', resource: 'accounts', field: 'region', value: 'string' },
        { op: 'changeFieldType', resource: 'tickets', field: 'storyPoints' },
      ]
      for (const m of mutations) s.mutate(m)
      s.resetStats()
      await runOk(p)
      await expectPlatformTruth(p, s)
      // Comments were read for exactly the tickets whose `updatedAt` moved.
      expect(s.stats.byRoute.comments).toBe(ticketsChangedSince(before, s).length)
      const truth = s.truth()
      await inSession(p, async (q) => {
        const marked = await q(
          `SELECT id FROM ${DATASET}.tickets WHERE _thena_deleted_at IS NOT NULL AND deleted_at IS NOT NULL`,
        )
        for (const id of deleted) expect(marked.map((r) => r.id)).toContain(id)
        // New fields are new columns, filled on every row (every page of both lists changed).
        const scores = await q(`SELECT id, severity_score FROM ${DATASET}.tickets`)
        expect(new Map(scores.map((r) => [r.id, Number(r.severity_score)]))).toEqual(
          new Map([...truth.tickets.values()].map((t) => [t.id, t.severityScore])),
        )
        const regions = await q(`SELECT id, region FROM ${DATASET}.accounts`)
        expect(new Map(regions.map((r) => [r.id, r.region]))).toEqual(
          new Map([...truth.accounts.values()].map((a) => [a.id, a.region])),
        )
        // The type change: story points that became text are kept, in a variant column.
        const points = await q(
          `SELECT id, story_points__v_text AS text FROM ${DATASET}.tickets WHERE story_points__v_text IS NOT NULL`,
        )
        const texts = [...truth.tickets.values()].filter((t) => typeof t.storyPoints === 'string')
        expect(texts.length).toBeGreaterThan(10)
        expect(new Map(points.map((r) => [r.id, r.text]))).toEqual(
          new Map(texts.map((t) => [t.id, t.storyPoints])),
        )
        const history = await q(
          `SELECT column_name, column_type, variant_of FROM ${DATASET}._thena_schema_history
           WHERE table_name = 'tickets' AND event = 'add_column'`,
        )
        expect(history).toContainEqual({
          column_name: 'story_points__v_text',
          column_type: 'text',
          variant_of: 'story_points',
        })
      })
    })

    it('after reconcile: hard-deleted accounts, members who joined and left, a comment field their tickets did not announce', async () => {
      const s = await start({ seed: 9, tickets: 60 })
      const p = pipelineOf(envOf(s, await kind.freshUrl()))
      await runOk(p)
      const removed = s.mutate({ op: 'removeAccounts', count: 3 }).ids
      const joined = s.mutate({ op: 'addTeamMembers', count: 3 }).ids
      const left = s.mutate({ op: 'removeTeamMembers', count: 2 }).ids
      expect([removed.length, joined.length, left.length]).toEqual([3, 3, 2])
      // Comments gain a field and their tickets' `updatedAt` stays: only reconcile reads them.
      s.mutate({ op: 'addField', resource: 'comments', field: 'sentimentLabel', value: 'string' })
      await runOk(p)
      const result = await runOk(p, { mode: 'reconcile' })
      await expectPlatformTruth(p, s)
      // 3 accounts and 2 memberships, nothing else.
      expect(result.deleted).toBe(5)
      await inSession(p, async (q) => {
        expect(await platform.marked(q)).toMatchObject({ accounts: 3, team_members: 2 })
        const accounts = await q(
          `SELECT id FROM ${DATASET}.accounts WHERE _thena_deleted_at IS NOT NULL`,
        )
        expect(accounts.map((r) => r.id).sort()).toEqual([...removed].sort())
        const members = await q(
          `SELECT team_id, id, _thena_deleted_at AS gone FROM ${DATASET}.team_members`,
        )
        const live = new Map(members.map((r) => [`${r.team_id}/${r.id}`, r.gone === null]))
        for (const m of joined) expect(live.get(m), m).toBe(true)
        for (const m of left) expect(live.get(m), m).toBe(false)
        const labels = await q(`SELECT id, sentiment_label FROM ${DATASET}.comments`)
        expect(new Map(labels.map((r) => [r.id, r.sentiment_label]))).toEqual(
          new Map(s.truth().comments.map(({ comment }) => [comment.id, comment.sentimentLabel])),
        )
      })
    })

    for (const headers of [true, false])
      it(`through faults and a rate limit of 10/s ${headers ? 'with' : 'without'} headers: still exactly the truth`, async () => {
        // Small: about 30 requests, 3 windows.
        const s = await start({
          seed: headers ? 11 : 12,
          tickets: 8,
          commentsPerTicket: 2,
          teams: 2,
          accounts: 10,
          faults: { serverError: 0.05, truncated: 0.05, drop: 0.03, htmlOk: 0.03 },
          rateLimit: { limit: 10, windowMs: 1000, headers },
        })
        const p = pipelineOf(envOf(s, await kind.freshUrl()))
        const result = await runOk(p)
        expect(Object.values(s.stats.faults).reduce((a, b) => a + b, 0)).toBeGreaterThan(0)
        expect(result.retries).toBeGreaterThan(0)
        // With the headers the run spaces its requests and is never refused; without, it is
        // refused and waits for the window.
        if (headers) expect(s.stats.rateLimited).toBe(0)
        else expect(s.stats.rateLimited).toBeGreaterThan(0)
        expect(result.rateLimited).toBe(s.stats.rateLimited)
        await expectPlatformTruth(p, s)
      })

    it('refused: a wrong key exits 3 with one line and writes nothing; so does a tier refusing every list', async () => {
      const s = await start()
      const all = await start({ forbidden: [...PLATFORM_ROUTES] })
      const url = await kind.freshUrl()
      const wrong = `pk-wrong-${randomBytes(8).toString('hex')}`
      const [refused, forbidden] = await Promise.all([
        cli('run', tempDir(), envOf(s, url, wrong)),
        cli('run', tempDir(), envOf(all, await kind.freshUrl())),
      ])
      expect(refused.code).toBe(3)
      expect(errorLines(refused)).toEqual([
        expect.stringMatching(/HTTP 401.*THENA_PLATFORM_API_KEY/),
      ])
      expect(refused.stdout + refused.stderr).not.toContain(wrong)
      // Refused at the first request, before the warehouse was created.
      expect(s.stats.requests).toBe(1)
      await expectNothingWritten(kind, url)
      // Every list refused (comments and members skipped with their parents): exit 3.
      expect(forbidden.code).toBe(3)
      expect(errorLines(forbidden)).toEqual([
        expect.stringMatching(
          /the API accepted the key but refused every resource of platform \(first: the API does not let this account read it \(HTTP 403: .*tier/,
        ),
      ])
      expect(Object.keys(all.stats.byStatus)).toEqual(['403'])
      // Each list was asked once: the first one's refusal at the preflight is not asked again.
      expect(Object.values(all.stats.byRoute).every((n) => n === 1)).toBe(true)
      expect(Object.keys(all.stats.byRoute).sort()).toEqual(
        PLATFORM_ROUTES.filter((r) => r !== 'comments' && r !== 'team-members').sort(),
      )
    })

    it('tickets refused by the tier: tickets and comments skipped with a line each, the rest loads, a reconcile marks nothing', async () => {
      const s = await start({ forbidden: ['tickets'] })
      const dir = tempDir()
      const env = envOf(s, await kind.freshUrl())
      const first = await cli('run', dir, env)
      expect(first.code).toBe(0)
      expect(first.stdout).toMatch(/^\s*tickets\s+skipped: .*HTTP 403/m)
      expect(first.stdout).toMatch(/^\s*comments\s+skipped: its parent tickets was skipped/m)
      expect(s.stats.byRoute.comments).toBeUndefined()
      const p = pipelineOf(env)
      const again = await runOk(p, { mode: 'reconcile' })
      expect(again.deleted).toBe(0)
      expect(again.resources.filter((r) => r.skipped).map((r) => r.resource)).toEqual([
        'tickets',
        'comments',
      ])
      // Every other table is the truth, nothing in it marked deleted by the reconcile.
      await expectPlatformTruth(p, s, ['tickets', 'comments'])
      await inSession(p, async (q) => {
        expect(await platform.marked(q)).toEqual({})
        // Nothing was read from tickets or comments: no table was made for them.
        const tables = await platform.tables(q)
        expect(tables.filter((t) => /^(tickets|comments)(__|$)/.test(t))).toEqual([])
        const loads = await q(`SELECT command, status FROM ${DATASET}._thena_loads`)
        expect(loads.map((r) => [r.command, r.status]).sort()).toEqual([
          ['reconcile', 'success'],
          ['run', 'success'],
        ])
      })
    })

    it('kill -9 at several moments, then run: exactly the truth; the key is never printed or stored', async () => {
      const key = `pk-live-${randomBytes(12).toString('hex')}`
      const s = await start({
        apiKey: key,
        seed: 3,
        tickets: 60,
        commentsPerTicket: 2,
        faults: { latencyMs: 20 },
      })
      const dir = tempDir()
      const url = await kind.freshUrl()
      const env = envOf(s, url)
      const killed = await killAfterFirstCommit(
        ['run', '--config', REPO_CONFIG, '--pipeline', 'platform'],
        { cwd: dir, env },
        [0, 250, 700],
      )
      // About 90 requests of 20 ms each: every one of these runs died mid-way.
      expect(killed.map((r) => r.signal)).toEqual(['SIGKILL', 'SIGKILL', 'SIGKILL'])
      let output = killed.map((r) => r.stdout + r.stderr).join('')
      s.mutate({ op: 'newComments', count: 6 })
      const last = await cli('run', dir, env)
      output += last.stdout + last.stderr
      expect(last.code).toBe(0)
      const p = pipelineOf(envOf(s, url), false)
      await expectPlatformTruth(p, s)
      const dirs = kind.name === 'duckdb' ? [dir, dirname(url.slice('duckdb:'.length))] : [dir]
      const warehouse = dumpWarehouse(p)
      // The search is over real content: the warehouse holds the tickets.
      expect(warehouse).toContain([...s.truth().tickets.keys()][0]!)
      for (const text of [output, filesUnder(...dirs), warehouse, s.stats.urls.join('\n')])
        expect(text).not.toContain(key)
    })
  })
}
