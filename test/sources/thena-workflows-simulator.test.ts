/**
 * The Workflows API simulator keeps the contract the declared source loads from: shapes the
 * schemas accept, `x-api-key` auth and NestJS errors, the three envelopes, 0-based paging, 404s
 * for unknown parents, every mutation visible at once in truth() and in answers, the rate limit
 * with and without headers, faults, determinism per seed, and no key in any answer.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { request } from 'undici'
import type { z } from 'zod'
import {
  ActivitySchema,
  EventSchema,
  WorkflowExecutionSchema,
  WorkflowSchema,
  WorkflowTaskSchema,
} from '../../schemas/thena-workflows/index.js'
import { startWorkflowsSimulator } from '../../sources/thena-workflows/simulator/index.js'
import type {
  WorkflowsSimulator,
  WorkflowsSimulatorOptions,
} from '../../sources/thena-workflows/simulator/index.js'

type Obj = Record<string, unknown>

const END = '2026-06-01T00:00:00.000Z'
/** The mutation that adds a record of each resource. */
const GROW = {
  workflows: 'newWorkflows',
  executions: 'newExecutions',
  tasks: 'newExecutions',
  activities: 'newActivities',
  events: 'newEvents',
} as const
const ID = /^[A-Z]{2}[0-9A-HJKMNP-TV-Z]{10}$/

let sims: WorkflowsSimulator[] = []
afterEach(async () => {
  await Promise.all(sims.map((s) => s.close()))
  sims = []
})

async function start(options: WorkflowsSimulatorOptions = {}): Promise<WorkflowsSimulator> {
  const sim = await startWorkflowsSimulator({ endAt: END, rateLimit: false, ...options })
  sims.push(sim)
  return sim
}

interface Answer {
  readonly status: number
  readonly headers: Record<string, string | string[] | undefined>
  readonly text: string
}

/** Every API answer read in this file (admin routes aside), to check that none carries the key. */
const bodies: string[] = []

async function call(
  base: string,
  path: string,
  options: { key?: string | null; method?: 'GET' | 'POST'; headers?: Obj; body?: unknown } = {},
): Promise<Answer> {
  const res = await request(`${base}${path}`, {
    method: options.method ?? 'GET',
    headers: {
      ...(options.key && { 'x-api-key': options.key }),
      ...(options.headers as Record<string, string>),
    },
    ...(options.body !== undefined && { body: JSON.stringify(options.body) }),
  })
  const answer = { status: res.statusCode, headers: res.headers, text: await res.body.text() }
  if (!path.startsWith('/__admin')) bodies.push(answer.text)
  return answer
}

const get = (sim: WorkflowsSimulator, path: string, key: string | null = sim.apiKey) =>
  call(sim.url, path, { key })

/** The records of a 200 list answer, whatever the envelope. */
async function list(sim: WorkflowsSimulator, path: string): Promise<Obj[]> {
  const res = await get(sim, path)
  expect(res.status, `${path}: ${res.text.slice(0, 200)}`).toBe(200)
  const body = JSON.parse(res.text) as unknown
  if (Array.isArray(body)) return body as Obj[]
  const data = (body as { data: unknown }).data
  return Array.isArray(data) ? (data as Obj[]) : (data as { results: Obj[] }).results
}

const admin = (sim: WorkflowsSimulator, path: string, body?: unknown, token = sim.adminToken) =>
  call(sim.origin, path, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${token}` },
    body,
  })

const parseAll = (schema: z.ZodType, records: Obj[]) => {
  for (const r of records) schema.parse(r)
}
const ms = (iso: unknown) => Date.parse(String(iso))
const nest = (statusCode: number, message: string, error: string) => ({
  statusCode,
  message,
  error,
})

describe('the Workflows API simulator', () => {
  it('serves every resource in shapes the schemas accept, ordered as specified, equal to truth()', async () => {
    const sim = await start()
    expect(sim.url).toBe(`${sim.origin}/api/v1`)
    const truth = sim.truth()
    const workflows = await list(sim, '/workflows?limit=100')
    parseAll(WorkflowSchema, workflows)
    expect(workflows).toEqual([...truth.workflows.values()])
    expect(workflows).toHaveLength(8)
    expect(workflows.map((w) => ms(w.createdAt))).toEqual(
      workflows.map((w) => ms(w.createdAt)).sort((a, b) => a - b),
    )
    const activities = await list(sim, '/activities?limit=100')
    const events = await list(sim, '/events?limit=100')
    parseAll(ActivitySchema, activities)
    parseAll(EventSchema, events)
    expect([activities.length, events.length]).toEqual([15, 10])
    expect(activities).toEqual([...truth.activities.values()])
    expect(events).toEqual([...truth.events.values()])
    const eventUids = new Set(events.map((e) => e.uid))

    const executions: Obj[] = []
    let tasks = 0
    for (const w of workflows) {
      expect(w.uid).toMatch(ID)
      expect(eventUids.has((w.triggerEvent as Obj).uid)).toBe(true)
      const steps = w.workflowDefinition as Obj[]
      expect(steps.length).toBeGreaterThanOrEqual(2)
      expect(steps.length).toBeLessThanOrEqual(5)
      const runs = await list(sim, `/workflows/${w.uid}/executions?limit=100`)
      parseAll(WorkflowExecutionSchema, runs)
      expect(runs.map((e) => ms(e.startedAt))).toEqual(
        runs.map((e) => ms(e.startedAt)).sort((a, b) => b - a),
      )
      for (const e of runs) {
        expect([e.id, e.workflowUid]).toEqual([expect.stringMatching(ID), w.uid])
        const own = await list(sim, `/workflows/${w.uid}/executions/${e.id}/tasks?limit=100`)
        parseAll(WorkflowTaskSchema, own)
        for (const t of own) {
          expect(t).not.toHaveProperty('workflowUid')
          expect(t.executionId).toBe(e.id)
        }
        expect(own.map((t) => t.stepIdentifier)).toEqual(own.map((_, i) => i + 1))
        const statuses = own.map((t) => t.status)
        if (e.status === 'COMPLETED') {
          expect(statuses).toEqual(steps.map(() => 'COMPLETED'))
          expect(e.completedAt).not.toBeNull()
        }
        if (e.status === 'RUNNING') {
          expect(e.completedAt).toBeNull()
          expect(statuses.slice(0, -1).every((s) => s === 'COMPLETED')).toBe(true)
          expect(['RUNNING', 'PENDING']).toContain(statuses.at(-1))
          expect(own.length).toBeLessThanOrEqual(steps.length)
        }
        tasks += own.length
      }
      executions.push(...runs)
    }
    expect(executions).toHaveLength(8 * 6)
    expect(executions).toEqual(truth.executions.map((e) => e.execution))
    expect(tasks).toBe(truth.tasks.length)
    expect(new Set(executions.map((e) => e.status))).toEqual(
      new Set(['RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED']),
    )
    expect(sim.stats.byRoute).toMatchObject({ workflows: 1, executions: 8, tasks: 48 })
  })

  it('refuses a missing or wrong key with 401 and a NestJS body', async () => {
    const sim = await start()
    for (const key of [null, 'wrong-key']) {
      const res = await get(sim, '/workflows', key)
      expect(res.status).toBe(401)
      expect(JSON.parse(res.text)).toEqual(nest(401, 'Invalid or missing API key', 'Unauthorized'))
    }
    expect(sim.stats).toMatchObject({ requests: 2, unauthorized: 2, byStatus: { 401: 2 } })
  })

  it('answers 403 on forbidden routes only', async () => {
    const sim = await start({ forbidden: ['executions'] })
    const uid = [...sim.truth().workflows.keys()][0]!
    const res = await get(sim, `/workflows/${uid}/executions`)
    expect(res.status).toBe(403)
    expect(JSON.parse(res.text)).toEqual(
      nest(
        403,
        'This endpoint is only available for standard and enterprise tier organizations.',
        'Forbidden',
      ),
    )
    expect((await get(sim, '/workflows')).status).toBe(200)
  })

  it.each([
    [
      'platform',
      (b: Obj, data: Obj[]) => {
        expect(Object.keys(b)).toEqual(['status', 'message', 'timestamp', 'data'])
        expect(b).toMatchObject({ status: true, message: 'Success', data })
        expect(new Date(String(b.timestamp)).toISOString()).toBe(b.timestamp)
      },
    ],
    ['bare', (b: unknown, data: Obj[]) => expect(b).toEqual(data)],
    [
      'results',
      (b: unknown, data: Obj[]) => expect(b).toEqual({ data: { results: data, total: 10 } }),
    ],
  ] as const)('wraps lists in the %s envelope', async (envelope, check) => {
    const sim = await start({ envelope })
    const res = await get(sim, '/events?limit=4&page=1')
    check(JSON.parse(res.text) as Obj, [...sim.truth().events.values()].slice(4, 8))
  })

  it('pages from 0: full pages, a short or empty last page, the default and clamped limit, 400s', async () => {
    const sim = await start({ workflows: 8, maxLimit: 5 })
    const all = [...sim.truth().workflows.values()]
    const pages = []
    for (let page = 0; page < 4; page++)
      pages.push(await list(sim, `/workflows?page=${page}&limit=3`))
    expect(pages.map((p) => p.length)).toEqual([3, 3, 2, 0])
    expect(pages.flat()).toEqual(all)
    expect((await list(sim, '/workflows?page=1&limit=4')).length).toBe(4)
    expect(await list(sim, '/workflows?page=2&limit=4')).toEqual([])
    expect(await list(sim, '/workflows?limit=50')).toEqual(all.slice(0, 5))
    expect((await list(sim, '/activities')).length).toBe(5)
    for (const query of ['page=-1', 'page=x', 'page=1.5', 'limit=0', 'limit=', 'limit=2e1']) {
      const res = await get(sim, `/workflows?${query}`)
      expect(res.status, query).toBe(400)
      expect(JSON.parse(res.text)).toMatchObject({ statusCode: 400, error: 'Bad Request' })
    }
    const defaults = await start({ activities: 25 })
    expect((await list(defaults, '/activities')).length).toBe(10)
    expect((await list(defaults, '/activities?page=2')).length).toBe(5)
    const none = await start({ paging: 'none', activities: 25 })
    expect(await list(none, '/activities?page=1&limit=2')).toEqual([
      ...none.truth().activities.values(),
    ])
  })

  it('answers 404 for an unknown workflow, execution or route, NestJS style', async () => {
    const sim = await start()
    const { executions } = sim.truth()
    const [a, b] = [...new Set(executions.map((e) => e.workflowUid))]
    const ofA = executions.find((e) => e.workflowUid === a)!.execution.id
    const cases: [string, string][] = [
      ['/workflows/WF0000000000/executions', 'Workflow not found'],
      [`/workflows/WF0000000000/executions/${String(ofA)}/tasks`, 'Workflow not found'],
      [`/workflows/${a}/executions/EX0000000000/tasks`, 'Execution not found'],
      [`/workflows/${b}/executions/${String(ofA)}/tasks`, 'Execution not found'],
      ['/nope', 'Cannot GET /api/v1/nope'],
      ['/workflows/x', 'Cannot GET /api/v1/workflows/x'],
    ]
    for (const [path, message] of cases) {
      const res = await get(sim, path)
      expect([res.status, JSON.parse(res.text)]).toEqual([404, nest(404, message, 'Not Found')])
    }
    const post = await call(sim.url, '/workflows', { key: sim.apiKey, method: 'POST', body: {} })
    expect(JSON.parse(post.text)).toEqual(nest(404, 'Cannot POST /api/v1/workflows', 'Not Found'))
    expect((await call(sim.origin, '/workflows', { key: sim.apiKey })).status).toBe(404)
    const root = await start({ basePath: '' })
    expect(root.url).toBe(root.origin)
    expect((await list(root, '/workflows/')).length).toBe(8)
  })

  it('newExecutions adds runs and their tasks under workflows whose bytes do not change', async () => {
    const sim = await start({ envelope: 'bare' })
    const before = (await get(sim, '/workflows')).text
    const count = sim.truth().executions.length
    const { ids } = sim.mutate({ op: 'newExecutions', count: 5 })
    expect(ids).toHaveLength(5)
    expect((await get(sim, '/workflows')).text).toBe(before)
    const truth = sim.truth()
    expect(truth.executions).toHaveLength(count + 5)
    for (const id of ids) {
      const { workflowUid, execution } = truth.executions.find((e) => e.execution.id === id)!
      expect(truth.workflows.get(workflowUid)!.isActive).toBe(true)
      const served = await list(sim, `/workflows/${workflowUid}/executions?limit=100`)
      expect(served).toContainEqual(execution)
      expect(ms(execution.startedAt)).toBeGreaterThan(ms(END))
      const tasks = await list(sim, `/workflows/${workflowUid}/executions/${id}/tasks`)
      expect(tasks.length).toBeGreaterThan(0)
      expect(tasks).toEqual(truth.tasks.filter((t) => t.executionId === id).map((t) => t.task))
    }
    const first = truth.executions.find((e) => e.execution.id === ids.at(-1))!
    expect((await list(sim, `/workflows/${first.workflowUid}/executions?limit=1`))[0]!.id).toBe(
      ids.at(-1),
    )
  })

  it('completeExecutions finishes the oldest running executions: tasks done, times bumped', async () => {
    const sim = await start()
    const running = sim
      .truth()
      .executions.filter((e) => e.execution.status === 'RUNNING')
      .sort((x, y) => ms(x.execution.startedAt) - ms(y.execution.startedAt))
    expect(running.length).toBeGreaterThanOrEqual(2)
    const { ids } = sim.mutate({ op: 'completeExecutions', count: 2 })
    expect(ids).toEqual(running.slice(0, 2).map((e) => e.execution.id))
    const truth = sim.truth()
    for (const { workflowUid, execution: old } of running.slice(0, 2)) {
      const now = truth.executions.find((e) => e.execution.id === old.id)!.execution
      expect(now).toMatchObject({ status: 'COMPLETED', error: null, startedAt: old.startedAt })
      expect(ms(now.completedAt)).toBeGreaterThan(ms(END))
      expect(ms(now.updatedAt)).toBeGreaterThan(ms(old.updatedAt))
      const steps = truth.workflows.get(workflowUid)!.workflowDefinition as Obj[]
      const tasks = await list(sim, `/workflows/${workflowUid}/executions/${String(old.id)}/tasks`)
      expect(tasks.map((t) => t.status)).toEqual(steps.map(() => 'COMPLETED'))
      expect(tasks.every((t) => ms(t.completedAt) <= ms(now.completedAt))).toBe(true)
      expect(await list(sim, `/workflows/${workflowUid}/executions?limit=100`)).toContainEqual(now)
    }
    for (const { execution } of running.slice(2))
      expect(truth.executions.find((e) => e.execution.id === execution.id)!.execution).toEqual(
        execution,
      )
  })

  it('newWorkflows, updateWorkflows, toggleWorkflows and deleteWorkflows change the list', async () => {
    const sim = await start()
    const before = [...sim.truth().workflows.values()]
    const added = sim.mutate({ op: 'newWorkflows', count: 2 }).ids
    let served = await list(sim, '/workflows?limit=100')
    expect(served.slice(0, 8)).toEqual(before)
    expect(served.slice(8).map((w) => w.uid)).toEqual(added)
    for (const w of served.slice(8)) {
      WorkflowSchema.parse(w)
      expect(ms(w.createdAt)).toBeGreaterThan(ms(before.at(-1)!.createdAt))
      expect(await list(sim, `/workflows/${String(w.uid)}/executions`)).toEqual([])
    }

    const [updated] = sim.mutate({ op: 'updateWorkflows', count: 1 }).ids
    const old = before.find((w) => w.uid === updated)!
    served = await list(sim, '/workflows?limit=100')
    const now = served.find((w) => w.uid === updated)!
    expect(now.version).toBe(Number(old.version) + 1)
    expect(now.name).not.toBe(old.name)
    expect(ms(now.updatedAt)).toBeGreaterThan(ms(old.updatedAt))
    expect(served.indexOf(now)).toBe(before.indexOf(old))

    const [toggled] = sim.mutate({ op: 'toggleWorkflows', count: 1 }).ids
    expect(toggled).not.toBe(updated)
    const was = before.find((w) => w.uid === toggled)!
    const is = sim.truth().workflows.get(toggled!)!
    expect([is.isActive, ms(is.updatedAt) > ms(was.updatedAt)]).toEqual([!was.isActive, true])

    const deleted = sim.mutate({ op: 'deleteWorkflows', count: 2 }).ids
    expect(deleted).toHaveLength(2)
    const truth = sim.truth()
    expect(truth.workflows.size).toBe(8)
    const uids = (await list(sim, '/workflows?limit=100')).map((w) => w.uid)
    for (const uid of deleted) {
      expect(uids).not.toContain(uid)
      expect((await get(sim, `/workflows/${uid}/executions`)).status).toBe(404)
      expect(truth.executions.some((e) => e.workflowUid === uid)).toBe(false)
      expect(truth.tasks.some((t) => t.workflowUid === uid)).toBe(false)
    }
  })

  it('newActivities and newEvents grow the registries at their end', async () => {
    const sim = await start()
    const activity = sim.mutate({ op: 'newActivities', count: 3 }).ids
    const event = sim.mutate({ op: 'newEvents', count: 2 }).ids
    const activities = await list(sim, '/activities?limit=100')
    const events = await list(sim, '/events?limit=100')
    expect(activities.slice(15).map((a) => a.uid)).toEqual(activity)
    expect(events.slice(10).map((e) => e.uid)).toEqual(event)
    parseAll(ActivitySchema, activities)
    parseAll(EventSchema, events)
  })

  it.each([
    ['workflows', 'string'],
    ['executions', 'number'],
    ['tasks', 'boolean'],
    ['activities', 'object'],
    ['events', 'string'],
  ] as const)(
    'addField gives every %s record a new %s field, new records too',
    async (resource, value) => {
      const sim = await start()
      sim.mutate({ op: 'addField', resource, field: 'addedLater', value })
      sim.mutate({ op: GROW[resource], count: 1 })
      const truth = sim.truth()
      const records: Obj[] =
        resource === 'executions'
          ? truth.executions.map((e) => e.execution)
          : resource === 'tasks'
            ? truth.tasks.map((t) => t.task)
            : [...truth[resource].values()]
      for (const r of records) expect(typeof r.addedLater).toBe(value)
      const served =
        resource === 'executions'
          ? await list(sim, `/workflows/${truth.executions[0]!.workflowUid}/executions`)
          : resource === 'tasks'
            ? await list(
                sim,
                `/workflows/${truth.tasks[0]!.workflowUid}/executions/${truth.tasks[0]!.executionId}/tasks`,
              )
            : await list(sim, `/${resource}`)
      expect(served[0]!.addedLater).toEqual(records[0]!.addedLater)
      expect(() => sim.mutate({ op: 'addField', resource, field: 'addedLater', value })).toThrow(
        /already/,
      )
    },
  )

  it('changeFieldType turns a number field into a string (workflowVersion 3 → "v3")', async () => {
    const sim = await start()
    const before = sim.truth().executions
    sim.mutate({ op: 'changeFieldType', resource: 'executions', field: 'workflowVersion' })
    const after = sim.truth().executions
    expect(after.map((e) => e.execution.workflowVersion)).toEqual(
      before.map((e) => `v${String(e.execution.workflowVersion)}`),
    )
    const { workflowUid } = after[0]!
    expect((await list(sim, `/workflows/${workflowUid}/executions?limit=1`))[0]).toEqual(
      after[0]!.execution,
    )
    sim.mutate({ op: 'newExecutions', count: 1 })
    for (const e of sim.truth().executions) expect(e.execution.workflowVersion).toMatch(/^v\d+$/)
    expect(() =>
      sim.mutate({ op: 'changeFieldType', resource: 'executions', field: 'id' }),
    ).toThrow(/keeps its type/)
    expect(() => sim.mutate({ op: 'changeFieldType', resource: 'tasks', field: 'nope' })).toThrow(
      /no field/,
    )
    expect(() =>
      sim.mutate({ op: 'changeFieldType', resource: 'workflows', field: 'name' }),
    ).toThrow(/already a string/)
  })

  it('takes mutations, serves truth and stats on the admin routes, uncounted and unlimited', async () => {
    const sim = await start({ rateLimit: { limit: 1, windowMs: 3_600_000 } })
    expect(sim.adminToken).toBe('sim-platform-key-admin')
    expect((await admin(sim, '/__admin/stats', undefined, sim.apiKey)).status).toBe(401)
    const result = await admin(sim, '/__admin/mutations', { op: 'newWorkflows', count: 1 })
    expect(result.status).toBe(200)
    const { ids } = JSON.parse(result.text) as { op: string; ids: string[] }
    expect(sim.truth().workflows.has(ids[0]!)).toBe(true)
    expect((await admin(sim, '/__admin/mutations', { op: 'explode' })).status).toBe(400)
    expect((await admin(sim, '/__admin/mutations', { op: 'newEvents', count: -1 })).status).toBe(
      400,
    )
    const truth = JSON.parse((await admin(sim, '/__admin/truth')).text) as Record<string, Obj[]>
    expect(truth.workflows).toEqual([...sim.truth().workflows.values()])
    expect(truth.tasks).toEqual(sim.truth().tasks)
    expect((await admin(sim, '/__admin/nope')).status).toBe(404)
    await get(sim, '/events')
    const stats = JSON.parse((await admin(sim, '/__admin/stats')).text) as Obj
    expect(stats).toMatchObject({ requests: 1, byRoute: { events: 1 }, urls: ['/api/v1/events'] })
    sim.resetStats()
    expect(sim.stats).toMatchObject({ requests: 0, urls: [], byRoute: {} })
  })

  it('limits requests per key with X-RateLimit-* headers and a ThrottlerException 429', async () => {
    const sim = await start({ rateLimit: { limit: 3, windowMs: 3_600_000 } })
    const answers = []
    for (let i = 0; i < 5; i++) answers.push(await get(sim, '/events'))
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 429, 429])
    expect(answers.map((a) => a.headers['x-ratelimit-remaining'])).toEqual([
      '2',
      '1',
      '0',
      '0',
      '0',
    ])
    expect(answers[4]!.headers['x-ratelimit-limit']).toBe('3')
    const reset = Number(answers[4]!.headers['x-ratelimit-reset'])
    expect(reset).toBeGreaterThan(Date.now() / 1000)
    expect(reset % 3600).toBe(0)
    expect(answers[4]!.headers['retry-after']).toBeUndefined()
    expect(JSON.parse(answers[4]!.text)).toEqual(
      nest(429, 'ThrottlerException: Too Many Requests', 'Too Many Requests'),
    )
    expect(sim.stats.rateLimited).toBe(2)

    const bare = await start({
      rateLimit: { limit: 1, windowMs: 3_600_000, headers: false, retryAfter: true },
    })
    const [ok, limited] = [await get(bare, '/events'), await get(bare, '/events')]
    expect([ok.status, limited.status]).toEqual([200, 429])
    for (const a of [ok, limited])
      expect(Object.keys(a.headers).filter((h) => h.startsWith('x-ratelimit'))).toEqual([])
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1)

    const defaults = await startWorkflowsSimulator({ endAt: END })
    sims.push(defaults)
    expect((await get(defaults, '/events')).headers['x-ratelimit-limit']).toBe('60')
  })

  it('fires each fault kind, counted, and the same ones for the same seed', async () => {
    const error = await start({ faults: { serverError: 1 } })
    const res = await get(error, '/workflows')
    expect([500, 503]).toContain(res.status)
    expect(JSON.parse(res.text)).toMatchObject({ statusCode: res.status })

    const html = await get(await start({ faults: { htmlOk: 1 } }), '/workflows')
    expect([html.status, html.headers['content-type']]).toEqual([200, 'text/html'])

    const cut = await get(await start({ faults: { truncated: 1 } }), '/workflows')
    expect(cut.status).toBe(200)
    expect(() => JSON.parse(cut.text)).toThrow()

    const drop = await start({ faults: { drop: 1 } })
    await expect(get(drop, '/workflows')).rejects.toThrow()
    expect(drop.stats.faultsByKind.drop).toBe(1)

    const slow = await start({ faults: { latencyMs: 80 } })
    const t0 = performance.now()
    expect((await get(slow, '/events')).status).toBe(200)
    expect(performance.now() - t0).toBeGreaterThanOrEqual(75)
    expect(slow.stats.faults).toBe(0)

    const sequence = async (seed: number) => {
      const sim = await start({ seed, faults: { serverError: 0.3 } })
      const statuses = []
      for (let i = 0; i < 40; i++) statuses.push((await get(sim, '/events')).status)
      const failed = statuses.filter((s) => s >= 500).length
      expect(sim.stats.faultsByKind.serverError).toBe(failed)
      expect(sim.stats.faults).toBe(failed)
      return statuses
    }
    const a = await sequence(4)
    expect(await sequence(4)).toEqual(a)
    const failed = a.filter((s) => s >= 500).length
    expect(failed).toBeGreaterThan(3)
    expect(failed).toBeLessThan(25)
  })

  it('serves the same records for the same seed (timestamp aside), others for another seed', async () => {
    const snapshot = async (seed: number) => {
      const sim = await start({ seed })
      sim.mutate({ op: 'newExecutions', count: 3 })
      sim.mutate({ op: 'completeExecutions', count: 2 })
      sim.mutate({ op: 'updateWorkflows', count: 1 })
      const out: unknown[] = []
      for (const path of ['/workflows?limit=100', '/activities?limit=100', '/events?limit=100']) {
        const body = JSON.parse((await get(sim, path)).text) as Obj
        expect(body.timestamp).toEqual(expect.any(String))
        out.push({ ...body, timestamp: undefined })
      }
      const t = sim.truth()
      return [out, [...t.workflows], t.executions, t.tasks, [...t.activities], [...t.events]]
    }
    const a = await snapshot(7)
    expect(await snapshot(7)).toEqual(a)
    const other = await snapshot(8)
    expect((other[1] as [string][]).map(([uid]) => uid)).not.toEqual(
      (a[1] as [string][]).map(([uid]) => uid),
    )
  })

  it('generates data up to endAt, by default the start of the current UTC day', async () => {
    const sim = await startWorkflowsSimulator({ rateLimit: false })
    sims.push(sim)
    const today = new Date()
    today.setUTCHours(0, 0, 0, 0)
    expect(sim.options.endAt).toBe(today.toISOString())
    const t = sim.truth()
    const all = [t.workflows, t.activities, t.events].flatMap((m) => [...m.values()])
    const text = JSON.stringify([all, t.executions, t.tasks])
    const stamps = [...text.matchAll(/"(\d{4}-[^"]*)"/g)].map((m) => m[1]!)
    expect(stamps.length).toBeGreaterThan(300)
    for (const s of stamps) {
      expect(s).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
      expect(ms(s)).toBeLessThanOrEqual(today.getTime())
    }
  })

  it('never sends the API key back, not even when a client puts it in a path', async () => {
    const sim = await start({
      forbidden: ['activities'],
      rateLimit: { limit: 8, windowMs: 3_600_000 },
    })
    const paths = [
      '/workflows',
      '/events?page=x',
      '/activities',
      `/${sim.apiKey}`,
      `/workflows/${sim.apiKey}/executions`,
      `/workflows?key=${sim.apiKey}`,
    ]
    for (const path of paths) await get(sim, path)
    await get(sim, '/workflows', 'wrong')
    await get(sim, '/workflows', null)
    for (let i = 0; i < 3; i++) await get(sim, '/events')
    expect(sim.stats.byStatus).toMatchObject({ 200: 4, 400: 1, 401: 2, 403: 1, 404: 2, 429: 1 })
    for (const body of bodies) expect(body).not.toContain(sim.apiKey)
  })
})
