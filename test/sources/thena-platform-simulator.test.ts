/**
 * The Platform simulator says what shared/reference/thena-api.md §5 and §7 say, over real HTTP:
 * records the schemas accept, the envelope, NestJS errors, 0-based paging with a short last
 * page, the dateRange windows, orders, deleted records, every mutation, the rate limit, faults,
 * determinism per seed, and an API key that never leaves a header.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { request } from 'undici'
import type { z } from 'zod'
import {
  AccountAttributeSchema,
  AccountSchema,
  CommentSchema,
  ContactSchema,
  PlatformCustomFieldSchema,
  PlatformUserSchema,
  TagSchema,
  TeamMemberSchema,
  TeamSchema,
  TicketSchema,
  TicketStatusSchema,
} from '../../schemas/thena-platform/index.js'
import {
  ATTRIBUTE_KINDS,
  dateRangeStart,
  startPlatformSimulator,
} from '../../sources/thena-platform/simulator/index.js'
import type {
  DateRange,
  PlatformSimulator,
  PlatformSimulatorOptions,
} from '../../sources/thena-platform/simulator/index.js'

type Obj = Record<string, unknown>

const KEY = 'pk-test-S3CRET-0001'
const END_AT = '2026-03-15T12:00:00.000Z'
const running: PlatformSimulator[] = []
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()))
})

async function start(options: PlatformSimulatorOptions = {}): Promise<PlatformSimulator> {
  const sim = await startPlatformSimulator({
    apiKey: KEY,
    endAt: END_AT,
    rateLimit: false,
    tickets: 40,
    ...options,
  })
  running.push(sim)
  return sim
}

interface Answer {
  status: number
  headers: Record<string, string | string[] | undefined>
  text: string
  body: unknown
}

/** A GET with the key in its header; every answer is checked not to carry the key. */
async function get(
  sim: PlatformSimulator,
  path: string,
  headers: Record<string, string> = { 'x-api-key': sim.apiKey },
): Promise<Answer> {
  const res = await request(`${sim.url}${path}`, { headers })
  const text = await res.body.text()
  expect(text).not.toContain(sim.apiKey)
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    body = undefined
  }
  return { status: res.statusCode, headers: res.headers, text, body }
}

async function data(sim: PlatformSimulator, path: string): Promise<Obj[]> {
  const answer = await get(sim, path)
  expect(answer.status, answer.text).toBe(200)
  return (answer.body as { data: Obj[] }).data
}

async function admin(sim: PlatformSimulator, method: 'GET' | 'POST', path: string, body?: unknown) {
  const res = await request(`${sim.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${sim.adminToken}`, 'content-type': 'application/json' },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  })
  return { status: res.statusCode, body: (await res.body.json()) as Obj }
}

/** Every field of every record is one the schema declares: a misspelt field would not be. */
function expectRecords(records: Obj[], schema: z.ZodObject, min = 1): void {
  expect(records.length).toBeGreaterThanOrEqual(min)
  const declared = Object.keys(schema.shape)
  for (const r of records) {
    schema.parse(r)
    expect(Object.keys(r).filter((k) => !declared.includes(k))).toEqual([])
  }
}

const ms = (v: unknown) => Date.parse(v as string)

describe('the Platform simulator: shapes', () => {
  it('serves every route in the envelope, with records the schemas accept', async () => {
    const sim = await start({ tickets: 30 })
    const envelope = await get(sim, '/v1/tickets?limit=100')
    expect(Object.keys(envelope.body as Obj)).toEqual(['status', 'message', 'timestamp', 'data'])
    expect(envelope.body).toMatchObject({ status: true, message: 'Success' })
    expect(ms((envelope.body as Obj).timestamp)).toBeGreaterThanOrEqual(ms(END_AT))
    expect(envelope.headers['content-type']).toBe('application/json')

    const tickets = await data(sim, '/v1/tickets?limit=100')
    expectRecords(tickets, TicketSchema, 30)
    expectRecords(await data(sim, '/v1/tickets/status'), TicketStatusSchema, 10)
    expectRecords(await data(sim, '/v1/accounts?limit=100'), AccountSchema, 30)
    expectRecords(await data(sim, '/v1/accounts/contacts?limit=100'), ContactSchema, 90)
    for (const kind of ATTRIBUTE_KINDS) {
      const values = await data(sim, `/v1/accounts/attributes?attribute=${kind}`)
      expectRecords(values, AccountAttributeSchema, 2)
      expect(values.length).toBeLessThanOrEqual(5)
      expect(values.every((v) => v.attribute === kind)).toBe(true)
    }
    const teams = await data(sim, '/v1/teams')
    expectRecords(teams, TeamSchema, 4)
    for (const team of teams)
      expectRecords(await data(sim, `/v1/teams/${String(team.id)}/members`), TeamMemberSchema, 6)
    expectRecords(await data(sim, '/v1/users/list?limit=100'), PlatformUserSchema, 24)
    expectRecords(await data(sim, '/v1/tags?limit=100'), TagSchema, 12)
    expectRecords(await data(sim, '/v1/custom-field?limit=100'), PlatformCustomFieldSchema, 10)
    const comments = await data(
      sim,
      `/v1/comments?entityType=ticket&entityId=${String(tickets[0]!.id)}&limit=100`,
    )
    expectRecords(comments, CommentSchema, 5)
    expect(comments).toHaveLength(5)
  })

  it('links tickets to records of the data set, and ids look like Platform ids', async () => {
    const sim = await start({ tickets: 200 })
    const t = sim.truth()
    const ticketFields = new Set(
      [...t.customFields.values()].filter((f) => f.source === 'ticket').map((f) => f.uid),
    )
    const parents = [...t.ticketStatuses.values()].filter((s) => s.parentStatusId === null)
    expect(parents.map((s) => s.name)).toEqual(['Open', 'In progress', 'On hold', 'Closed'])
    let assigned = 0
    let withValues = 0
    for (const ticket of t.tickets.values()) {
      expect(ticket.id).toMatch(/^TK[0-9A-Z]{8}$/)
      expect(ticket.ticketIdentifier).toBe(
        `${String(ticket.teamIdentifier)}-${String(ticket.ticketId)}`,
      )
      expect(t.accounts.get(ticket.accountId as string)?.name).toBe(ticket.account)
      expect(t.ticketStatuses.get(ticket.statusId as string)?.name).toBe(ticket.status)
      expect(t.teams.get(ticket.teamId as string)?.name).toBe(ticket.teamName)
      expect(t.contacts.get(ticket.customerContactId as string)?.email).toBe(
        ticket.customerContactEmail,
      )
      if (ticket.assignedAgentId !== null) {
        assigned++
        expect(t.users.get(ticket.assignedAgentId as string)?.email).toBe(ticket.assignedAgentEmail)
      }
      const values = ticket.customFieldValues as { customFieldId: string; data: unknown[] }[]
      if (values.length > 0) withValues++
      for (const v of values) {
        expect(ticketFields.has(v.customFieldId)).toBe(true)
        expect(v.data.length).toBeGreaterThan(0)
      }
    }
    expect(assigned).toBeGreaterThan(100)
    expect(withValues).toBeGreaterThan(100)
    const allIds = [
      ...t.tickets.keys(),
      ...t.comments.map((c) => c.comment.id as string),
      ...t.accountAttributes.keys(),
    ]
    expect(new Set(allIds).size).toBe(allIds.length)
    expect(t.comments).toHaveLength(200 * 5)
    // Members are users, and a user can be in several teams.
    const teamsOfUser = new Map<string, number>()
    for (const { member } of t.teamMembers) {
      expect(t.users.has(member.id as string)).toBe(true)
      teamsOfUser.set(member.id as string, (teamsOfUser.get(member.id as string) ?? 0) + 1)
    }
    expect(Math.max(...teamsOfUser.values())).toBeGreaterThan(1)
  })

  it('scales to 20,000 tickets with 100,000 comments', async () => {
    const sim = await start({ tickets: 20_000, maxLimit: 500 })
    const t = sim.truth()
    expect(t.tickets.size).toBe(20_000)
    expect(t.comments).toHaveLength(100_000)
    expect(await data(sim, '/v1/tickets?page=39&limit=500')).toHaveLength(500)
    expect(await data(sim, '/v1/tickets?page=40&limit=500')).toEqual([])
    const created = [...t.tickets.values()].map((x) => ms(x.createdAt))
    expect(Math.min(...created)).toBeGreaterThanOrEqual(ms(END_AT) - 180 * 86_400_000)
    expect(Math.max(...created)).toBeLessThanOrEqual(ms(END_AT))
  })
})

describe('the Platform simulator: errors', () => {
  it('answers a missing or wrong key with 401 before anything else, never echoing it', async () => {
    const sim = await start({ forbidden: ['tickets'] })
    const attempts: Record<string, string>[] = [
      {},
      { 'x-api-key': 'wrong' },
      { authorization: `Bearer ${KEY}` },
    ]
    for (const headers of attempts) {
      const res = await get(sim, '/v1/tickets', headers)
      expect(res.status).toBe(401)
      expect(res.body).toEqual({
        statusCode: 401,
        message: 'Invalid or missing API key',
        error: 'Unauthorized',
      })
    }
    expect((await get(sim, '/v1/nope', {})).status).toBe(401)
    expect(sim.stats.unauthorized).toBe(4)
  })

  it('answers 403 on the routes a tier lacks, and only there', async () => {
    const sim = await start({ forbidden: ['tickets', 'accounts'] })
    for (const path of ['/v1/tickets', '/v1/accounts?page=0']) {
      const res = await get(sim, path)
      expect(res.status).toBe(403)
      expect(res.body).toEqual({
        statusCode: 403,
        message: 'This endpoint is only available for standard and enterprise tier organizations.',
        error: 'Forbidden',
      })
    }
    expect((await get(sim, '/v1/teams')).status).toBe(200)
  })

  it.each<[string, number, string]>([
    ['/v1/xyz', 404, 'Cannot GET /v1/xyz'],
    ['/v1/teams/TMNOSUCH00/members', 404, 'Team not found!'],
    ['/v1/teams/%E0%A4%A/members', 404, 'Team not found!'],
    ['/v1/tickets?page=-1', 400, 'page must not be less than 0'],
    ['/v1/tickets?page=1.5', 400, 'page must be an integer number'],
    ['/v1/tags?limit=0', 400, 'limit must not be less than 1'],
    ['/v1/users/list?limit=ten', 400, 'limit must be an integer number'],
    [
      '/v1/tickets?dateRange=5d',
      400,
      'dateRange must be one of the following values: 1d, 2d, 1w, 2w, 3w, 4w, 1m, 3m',
    ],
    ['/v1/accounts/attributes', 400, 'attribute must be one of the following values'],
    ['/v1/accounts/attributes?attribute=colour', 400, 'attribute must be one of'],
    ['/v1/comments?entityId=TK1', 400, 'entityType must be one of'],
    ['/v1/comments?entityType=ticket', 400, 'entityId should not be empty'],
  ])('GET %s → %i "%s"', async (path, status, message) => {
    const sim = await start()
    const res = await get(sim, path)
    expect(res.status).toBe(status)
    expect(res.body).toMatchObject({ statusCode: status })
    expect(Object.keys(res.body as Obj)).toEqual(['statusCode', 'message', 'error'])
    expect((res.body as Obj).message).toContain(message)
    expect((res.body as Obj).error).toBe(status === 404 ? 'Not Found' : 'Bad Request')
  })

  it('answers other methods with 404, an unknown ticket with no comments, and can require accountId', async () => {
    const sim = await start({ contactsRequireAccountId: true })
    const res = await request(`${sim.url}/v1/tickets`, {
      method: 'POST',
      headers: { 'x-api-key': KEY },
    })
    expect(res.statusCode).toBe(404)
    expect(await res.body.json()).toMatchObject({ message: 'Cannot POST /v1/tickets' })
    expect(await data(sim, '/v1/comments?entityType=ticket&entityId=TKNOSUCH00')).toEqual([])
    expect((await get(sim, '/v1/accounts/contacts')).body).toEqual({
      statusCode: 400,
      message: 'accountId is required',
      error: 'Bad Request',
    })
    const account = [...sim.truth().accounts.keys()][0]!
    const contacts = await data(sim, `/v1/accounts/contacts?accountId=${account}&limit=100`)
    expect(contacts.length).toBeGreaterThanOrEqual(3)
    for (const c of contacts) expect((c.accounts as Obj[]).map((a) => a.id)).toContain(account)
  })
})

describe('the Platform simulator: paging and filters', () => {
  it('pages from 0 with a short last page, an empty page after an exact multiple, and a clamp', async () => {
    const sim = await start({ tickets: 25 })
    const all = await data(sim, '/v1/tickets?limit=100')
    expect(all).toHaveLength(25)
    expect(await data(sim, '/v1/tickets')).toEqual(all.slice(0, 10))
    expect(await data(sim, '/v1/tickets?page=1&limit=10')).toEqual(all.slice(10, 20))
    expect(await data(sim, '/v1/tickets?page=2&limit=10')).toEqual(all.slice(20))
    expect(await data(sim, '/v1/tickets?page=4&limit=5')).toEqual(all.slice(20))
    expect(await data(sim, '/v1/tickets?page=5&limit=5')).toEqual([])
    const users = await data(sim, '/v1/users/list?limit=12')
    expect(await data(sim, '/v1/users/list?page=1&limit=12')).toHaveLength(12)
    expect(await data(sim, '/v1/users/list?page=2&limit=12')).toEqual([])
    expect(users[0]!.id).toBe([...sim.truth().users.keys()][0])

    const clamped = await start({ tickets: 25, maxLimit: 7 })
    const first = await data(clamped, '/v1/tickets?limit=1000')
    expect(first).toHaveLength(7)
    expect(await data(clamped, '/v1/tickets?page=1&limit=1000')).toEqual(all.slice(7, 14))
  })

  it('returns everything when paging is ignored, and the unpaged routes never page', async () => {
    const sim = await start({ tickets: 25, paging: 'ignored' })
    expect(await data(sim, '/v1/tickets?page=1&limit=5')).toHaveLength(25)
    expect(await data(sim, '/v1/tickets?page=-3')).toHaveLength(25)
    const paged = await start({ tickets: 25 })
    expect(await data(paged, '/v1/tickets/status?page=3&limit=1')).toHaveLength(12)
    expect(await data(paged, '/v1/teams?page=1&limit=1')).toHaveLength(4)
  })

  it('filters by team and keeps tickets since 00:00 UTC of the window on either field', async () => {
    for (const field of ['createdAt', 'updatedAt'] as const) {
      const sim = await start({ tickets: 400, dateRangeField: field, maxLimit: 1000 })
      const all = [...sim.truth().tickets.values()]
      for (const range of ['1d', '2w', '1m', '3m'] as DateRange[]) {
        const since = dateRangeStart(range, sim.now())
        const got = await data(sim, `/v1/tickets?dateRange=${range}&limit=1000`)
        const expected = all.filter((t) => ms(t[field]) >= since).map((t) => t.id)
        expect(got.map((t) => t.id).sort()).toEqual(expected.sort())
        expect(got.length).toBeGreaterThan(0)
      }
      const team = all[0]!.teamId as string
      const ofTeam = await data(sim, `/v1/tickets?teamId=${team}&limit=1000`)
      expect(ofTeam.length).toBe(all.filter((t) => t.teamId === team).length)
    }
  })

  it('computes dateRange windows as calendar days, weeks and months in UTC', () => {
    const at = Date.parse('2026-03-31T18:30:00.000Z')
    const day = (s: string) => Date.parse(`${s}T00:00:00.000Z`)
    expect(dateRangeStart('1d', at)).toBe(day('2026-03-30'))
    expect(dateRangeStart('2d', at)).toBe(day('2026-03-29'))
    expect(dateRangeStart('1w', at)).toBe(day('2026-03-24'))
    expect(dateRangeStart('4w', at)).toBe(day('2026-03-03'))
    expect(dateRangeStart('1m', at)).toBe(day('2026-02-28'))
    expect(dateRangeStart('3m', at)).toBe(day('2025-12-31'))
  })

  it.each([
    ['created_desc', 'createdAt', -1],
    ['created_asc', 'createdAt', 1],
    ['updated_desc', 'updatedAt', -1],
  ] as const)('orders tickets %s', async (ticketOrder, field, sign) => {
    const sim = await start({ tickets: 60, ticketOrder, maxLimit: 1000 })
    if (ticketOrder === 'updated_desc') sim.mutate({ op: 'updateTickets', count: 3 })
    const list = await data(sim, '/v1/tickets?limit=1000')
    expect(list).toHaveLength(60)
    for (let i = 1; i < list.length; i++)
      expect(Math.sign(ms(list[i]![field]) - ms(list[i - 1]![field]))).not.toBe(-sign)
  })

  it('returns bare arrays on the routes told to', async () => {
    const sim = await start({ bareLists: ['accounts', 'contacts'] })
    const accounts = await get(sim, '/v1/accounts?limit=5')
    expect(Array.isArray(accounts.body)).toBe(true)
    expectRecords(accounts.body as Obj[], AccountSchema, 5)
    expect(Array.isArray((await get(sim, '/v1/accounts/contacts')).body)).toBe(true)
    expect(Array.isArray((await get(sim, '/v1/tickets')).body)).toBe(false)
  })
})

describe('the Platform simulator: deleted records', () => {
  it('lists deleted tickets and comments flagged by default', async () => {
    const sim = await start()
    const del = sim.mutate({ op: 'deleteTickets', count: 2 })
    const gone = sim.mutate({ op: 'deleteComments', count: 2 })
    const listed = await data(sim, '/v1/tickets?limit=100')
    for (const id of del.ids) {
      const t = listed.find((x) => x.id === id)!
      expect(t.deletedAt).not.toBeNull()
      expect(t.deletedAt).toBe(t.updatedAt)
    }
    const { ticketId } = sim.truth().comments.find((c) => c.comment.id === gone.ids[0])!
    const comments = await data(sim, `/v1/comments?entityType=ticket&entityId=${ticketId}`)
    expect(comments.find((c) => c.id === gone.ids[0])!.deletedAt).not.toBeNull()
    expect(sim.truth().hiddenDeleted).toEqual({ tickets: [], comments: [] })
  })

  it('leaves hidden deleted records out of lists and the truth, naming them', async () => {
    const sim = await start({ deletedTickets: 'hidden', deletedComments: 'hidden' })
    const before = sim.truth()
    const del = sim.mutate({ op: 'deleteTickets', count: 2 })
    const gone = sim.mutate({ op: 'deleteComments', count: 3 })
    const truth = sim.truth()
    const listed = (await data(sim, '/v1/tickets?limit=100')).map((t) => t.id)
    for (const id of del.ids) {
      expect(listed).not.toContain(id)
      expect(truth.tickets.has(id)).toBe(false)
      expect(truth.hiddenDeleted.tickets).toContain(id)
      expect(await data(sim, `/v1/comments?entityType=ticket&entityId=${id}`)).toEqual([])
    }
    expect(listed).toHaveLength(truth.tickets.size)
    for (const id of gone.ids) expect(truth.hiddenDeleted.comments).toContain(id)
    expect(truth.comments.length).toBeLessThan(before.comments.length - 3)
    expect(truth.comments.every((c) => c.comment.deletedAt === null)).toBe(true)
  })
})

describe('the Platform simulator: mutations', () => {
  it('changes tickets and comments in the truth and in the answers', async () => {
    const sim = await start({ ticketOrder: 'created_desc' })
    const before = sim.truth()

    const created = sim.mutate({ op: 'newTickets', count: 3 })
    expect(created).toMatchObject({ op: 'newTickets', count: 3 })
    const page = await data(sim, '/v1/tickets?limit=3')
    expect(page.map((t) => t.id)).toEqual([...created.ids].reverse())
    expect(page).toEqual(created.ids.map((id) => sim.truth().tickets.get(id)).reverse())

    const updated = sim.mutate({ op: 'updateTickets', count: 4 })
    expect(updated.ids).toHaveLength(4)
    const after = sim.truth()
    for (const id of updated.ids) {
      const [old, now] = [before.tickets.get(id)!, after.tickets.get(id)!]
      expect(now.statusId).not.toBe(old.statusId)
      expect(now.priorityId).not.toBe(old.priorityId)
      expect(now.title).not.toBe(old.title)
      expect(ms(now.updatedAt)).toBeGreaterThan(ms(old.updatedAt))
      expect(after.ticketStatuses.get(now.statusId as string)?.name).toBe(now.status)
    }
    // A truth taken earlier is not changed by a later mutation.
    expect(before.tickets.get(updated.ids[0]!)).not.toEqual(after.tickets.get(updated.ids[0]!))

    const added = sim.mutate({ op: 'newComments', count: 5 })
    const t1 = sim.truth()
    expect(t1.comments).toHaveLength(before.comments.length + 5)
    expect(added.touchedTickets.length).toBeGreaterThan(0)
    for (const id of added.ids) {
      const { ticketId, comment } = t1.comments.find((c) => c.comment.id === id)!
      expect(ms(t1.tickets.get(ticketId)!.updatedAt)).toBeGreaterThanOrEqual(ms(comment.createdAt))
      expect(added.touchedTickets).toContain(ticketId)
      const served = await data(
        sim,
        `/v1/comments?entityType=ticket&entityId=${ticketId}&limit=100`,
      )
      expect(served.at(-1)).toEqual(
        t1.comments.filter((c) => c.ticketId === ticketId).at(-1)!.comment,
      )
      CommentSchema.parse(comment)
    }

    const edited = sim.mutate({ op: 'updateComments', count: 3 })
    const t2 = sim.truth()
    for (const id of edited.ids) {
      const old = t1.comments.find((c) => c.comment.id === id)!.comment
      const { ticketId, comment } = t2.comments.find((c) => c.comment.id === id)!
      expect(comment.isEdited).toBe(true)
      expect(comment.content).not.toBe(old.content)
      expect(ms(t2.tickets.get(ticketId)!.updatedAt)).toBeGreaterThanOrEqual(ms(comment.updatedAt))
    }
  })

  it('leaves tickets alone on comment changes when comments do not touch them', async () => {
    const sim = await start({ commentsTouchTicket: false })
    const before = sim.truth()
    const r1 = sim.mutate({ op: 'newComments', count: 4 })
    const r2 = sim.mutate({ op: 'updateComments', count: 4 })
    const r3 = sim.mutate({ op: 'deleteComments', count: 4 })
    expect([r1, r2, r3].flatMap((r) => r.touchedTickets)).toEqual([])
    expect(sim.truth().tickets).toEqual(before.tickets)
  })

  it('changes accounts, contacts, team members and tags', async () => {
    const sim = await start()
    const before = sim.truth()
    const newAccounts = sim.mutate({ op: 'newAccounts', count: 2 })
    const updatedAccounts = sim.mutate({ op: 'updateAccounts', count: 2 })
    const removed = sim.mutate({ op: 'removeAccounts', count: 1 })
    const contacts = sim.mutate({ op: 'newContacts', count: 2 })
    const tags = sim.mutate({ op: 'newTags', count: 1 })
    const t = sim.truth()
    expect(t.accounts.size).toBe(before.accounts.size + 1)
    for (const id of newAccounts.ids) expect(t.accounts.has(id)).toBe(true)
    for (const id of updatedAccounts.ids.filter((x) => !removed.ids.includes(x)))
      expect(t.accounts.get(id)!.statusId).not.toBe(before.accounts.get(id)!.statusId)
    const listed = (await data(sim, '/v1/accounts?limit=100')).map((a) => a.id)
    expect(listed).toEqual([...t.accounts.keys()])
    expect(listed).not.toContain(removed.ids[0])
    for (const id of contacts.ids) {
      const contact = t.contacts.get(id)!
      const accountId = (contact.accounts as Obj[])[0]!.id as string
      const served = await data(sim, `/v1/accounts/contacts?accountId=${accountId}&limit=100`)
      expect(served.map((c) => c.id)).toContain(id)
    }
    expect((await data(sim, '/v1/tags?limit=100')).map((x) => x.id)).toContain(tags.ids[0])

    const joined = sim.mutate({ op: 'addTeamMembers', count: 3 })
    expect(joined.ids).toHaveLength(3)
    for (const pair of joined.ids) {
      const [teamId, userId] = pair.split('/')
      const members = await data(sim, `/v1/teams/${teamId}/members`)
      expect(members.map((m) => m.id)).toContain(userId)
      expectRecords(members, TeamMemberSchema)
    }
    const mid = sim.truth()
    const left = sim.mutate({ op: 'removeTeamMembers', count: 2 })
    const end = sim.truth()
    expect(end.teamMembers).toHaveLength(mid.teamMembers.length - 2)
    for (const pair of left.ids) {
      const [teamId, userId] = pair.split('/')
      expect(end.teamMembers.some((m) => m.teamId === teamId && m.member.id === userId)).toBe(false)
    }
    expect(end.users).toEqual(mid.users)
    expect(end.teams).toEqual(mid.teams)
    expect(end.tickets).toEqual(mid.tickets)
  })

  it('adds a field without bumping updatedAt, and a type change bumps the records it changes', async () => {
    const sim = await start()
    const before = sim.truth()
    const added = sim.mutate({
      op: 'addField',
      resource: 'tickets',
      field: 'slaTier',
      value: 'object',
    })
    expect(added.count).toBe(40)
    const t1 = sim.truth()
    for (const [id, t] of t1.tickets) {
      expect(t.slaTier).toMatchObject({ kind: 'sim' })
      expect(t.updatedAt).toBe(before.tickets.get(id)!.updatedAt)
    }
    sim.mutate({ op: 'addField', resource: 'comments', field: 'language', value: 'string' })
    expect(sim.truth().comments.every((c) => typeof c.comment.language === 'string')).toBe(true)

    const changed = sim.mutate({ op: 'changeFieldType', resource: 'tickets', field: 'storyPoints' })
    const t2 = sim.truth()
    const withPoints = [...t1.tickets.values()].filter((t) => t.storyPoints !== null)
    expect(changed.ids.sort()).toEqual(withPoints.map((t) => t.id).sort())
    for (const old of t1.tickets.values()) {
      const now = t2.tickets.get(old.id as string)!
      if (old.storyPoints === null) expect(now).toEqual(old)
      else {
        expect(now.storyPoints).toBe(`${String(old.storyPoints)} pts`)
        expect(ms(now.updatedAt)).toBeGreaterThan(ms(old.updatedAt))
      }
    }
    // Records created later follow both changes, and the API serves them.
    const [id] = sim.mutate({ op: 'newTickets', count: 1 }).ids
    const fresh = (await data(sim, '/v1/tickets?limit=1'))[0]!
    expect(fresh.id).toBe(id)
    expect(fresh.slaTier).toMatchObject({ kind: 'sim' })
    expect(fresh.storyPoints === null || typeof fresh.storyPoints === 'string').toBe(true)
  })

  it('picks the same records for the same seed and mutations', async () => {
    const ops = [
      { op: 'updateTickets', count: 5 },
      { op: 'newComments', count: 4 },
      { op: 'deleteComments', count: 2 },
      { op: 'addTeamMembers', count: 2 },
    ] as const
    const [a, b] = [await start({ seed: 9 }), await start({ seed: 9 })]
    for (const op of ops) {
      const ids = a.mutate(op).ids
      expect(ids.length).toBeGreaterThan(0)
      expect(b.mutate(op).ids).toEqual(ids)
    }
  })

  it('serves mutations, truth and stats on the admin routes, behind the admin token', async () => {
    const sim = await start({ rateLimit: { limit: 1, windowMs: 3_600_000 } })
    expect(sim.adminToken).toBe(`${KEY}-admin`)
    await get(sim, '/v1/tags')
    const res = await request(`${sim.url}/__admin/stats`, { headers: { 'x-api-key': KEY } })
    expect(res.statusCode).toBe(401)
    await res.body.dump()
    const mutated = await admin(sim, 'POST', '/__admin/mutations', { op: 'newTickets', count: 2 })
    expect(mutated.status).toBe(200)
    expect(mutated.body).toMatchObject({ op: 'newTickets', count: 2 })
    const bad = await admin(sim, 'POST', '/__admin/mutations', { op: 'explode', count: 1 })
    expect(bad.status).toBe(400)
    expect(bad.body.message).toMatch(/Invalid mutation/)
    expect(() => sim.mutate({ op: 'newTags', count: -1 })).toThrow(/Invalid mutation `count`/)
    const truth = await admin(sim, 'GET', '/__admin/truth')
    expect(truth.status).toBe(200)
    expect(truth.body.tickets).toHaveLength(42)
    expect(truth.body.comments).toHaveLength(200)
    expect((truth.body.customFields as Obj[])[0]).toHaveProperty('uid')
    const some = await admin(sim, 'GET', '/__admin/truth?resource=tags,teamMembers')
    expect(Object.keys(some.body)).toEqual(['tags', 'teamMembers'])
    const stats = await admin(sim, 'GET', '/__admin/stats')
    expect(stats.body).toMatchObject({ requests: 1, byRoute: { tags: 1 }, byStatus: { 200: 1 } })
    expect(sim.stats.requests).toBe(1)
    sim.resetStats()
    expect(sim.stats).toMatchObject({ requests: 0, urls: [], byRoute: {} })
  })
})

describe('the Platform simulator: rate limit and faults', () => {
  it('limits each key per window with the documented headers and a NestJS 429', async () => {
    const sim = await start({ rateLimit: { limit: 3, windowMs: 3_600_000 } })
    const answers = []
    for (let i = 0; i < 5; i++) answers.push(await get(sim, '/v1/teams'))
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 429, 429])
    expect(answers.map((a) => a.headers['x-ratelimit-remaining'])).toEqual([
      '2',
      '1',
      '0',
      '0',
      '0',
    ])
    expect(answers[0]!.headers['x-ratelimit-limit']).toBe('3')
    const reset = Number(answers[0]!.headers['x-ratelimit-reset'])
    expect(reset * 1000).toBeGreaterThan(Date.now())
    expect(answers[4]!.body).toEqual({
      statusCode: 429,
      message: 'ThrottlerException: Too Many Requests',
      error: 'Too Many Requests',
    })
    expect(answers[4]!.headers['retry-after']).toBeUndefined()
    expect(sim.stats.rateLimited).toBe(2)
    expect((await admin(sim, 'GET', '/__admin/stats')).status).toBe(200)
  })

  it('can send Retry-After and no rate-limit headers', async () => {
    const sim = await start({
      rateLimit: { limit: 1, windowMs: 3_600_000, headers: false, retryAfter: true },
    })
    const ok = await get(sim, '/v1/teams')
    const limited = await get(sim, '/v1/teams')
    expect(limited.status).toBe(429)
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0)
    for (const a of [ok, limited])
      expect(Object.keys(a.headers).filter((h) => h.startsWith('x-ratelimit'))).toEqual([])
  })

  it('fires each fault and counts it', async () => {
    const err = await start({ faults: { serverError: 1 } })
    expect((await get(err, '/v1/tags', {})).status).toBe(401)
    const five = [await get(err, '/v1/tags'), await get(err, '/v1/tags')]
    expect(five.map((a) => a.status).sort()).toEqual([500, 503])
    for (const a of five)
      expect(Object.keys(a.body as Obj)).toEqual(['statusCode', 'message', 'error'])
    expect(err.stats.faults.serverError).toBe(2)

    const html = await start({ faults: { htmlOk: 1 } })
    const page = await get(html, '/v1/tags')
    expect(page.status).toBe(200)
    expect(page.text).toMatch(/^<!DOCTYPE html>/)

    const cut = await start({ faults: { truncated: 1 } })
    const half = await get(cut, '/v1/tags')
    expect(half.status).toBe(200)
    expect(half.body).toBeUndefined()
    expect(half.text.startsWith('{"status":true')).toBe(true)
    expect((await get(cut, '/v1/nope')).status).toBe(404)
    expect(cut.stats.faults.truncated).toBe(1)

    const drop = await start({ faults: { drop: 1 } })
    await expect(request(`${drop.url}/v1/tags`)).rejects.toThrow()
    expect(drop.stats.faults.drop).toBe(1)

    const slow = await start({ faults: { latencyMs: 150 } })
    const t0 = Date.now()
    await get(slow, '/v1/tags')
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140)
  })

  it('decides faults by seed and request number', async () => {
    const statuses = async (seed: number) => {
      const sim = await start({ seed, faults: { serverError: 0.4 } })
      const out = []
      for (let i = 0; i < 20; i++) out.push((await get(sim, '/v1/tags')).status)
      return out
    }
    const a = await statuses(5)
    expect(await statuses(5)).toEqual(a)
    expect(a).toContain(200)
    expect(a.some((s) => s >= 500)).toBe(true)
  })
})

describe('the Platform simulator: determinism and secrets', () => {
  it('serves the same bytes for the same seed, apart from the timestamp', async () => {
    const paths = [
      '/v1/tickets?limit=50',
      '/v1/accounts/contacts?page=2',
      '/v1/custom-field',
      '/v1/users/list?limit=30',
      '/v1/accounts/attributes?attribute=contact_type',
    ]
    const bodies = async (options: PlatformSimulatorOptions) => {
      const sim = await start(options)
      const ticket = [...sim.truth().tickets.keys()][7]!
      const out: string[] = []
      for (const p of [...paths, `/v1/comments?entityType=ticket&entityId=${ticket}`])
        out.push((await get(sim, p)).text.replace(/"timestamp":"[^"]+"/, ''))
      return out
    }
    const a = await bodies({ seed: 4 })
    expect(await bodies({ seed: 4 })).toEqual(a)
    expect(await bodies({ seed: 5 })).not.toEqual(a)
  })

  it('never puts the key in a body, and records every URL as received', async () => {
    const sim = await start({ forbidden: ['tags'], rateLimit: { limit: 9, windowMs: 3_600_000 } })
    const paths = [
      '/v1/tickets?page=0&limit=2',
      '/v1/tags',
      '/v1/nope?x=1',
      '/v1/tickets?page=-1',
      '/v1/teams/NOPE/members',
      '/v1/comments?entityType=ticket',
      '/v1/users/list',
      '/v1/accounts',
      '/v1/teams',
      '/v1/teams',
    ]
    for (const p of paths) await get(sim, p)
    await get(sim, '/v1/tickets', { 'x-api-key': 'wrong' })
    expect(sim.stats.urls).toEqual([...paths, '/v1/tickets'])
    expect(sim.stats.urls.some((u) => u.includes(KEY))).toBe(false)
    expect(sim.stats.byStatus).toEqual({ 200: 4, 400: 2, 401: 1, 403: 1, 404: 2, 429: 1 })
    expect(sim.stats.byRoute).toMatchObject({ unknown: 1, tickets: 3, 'team-members': 1 })
  })
})
