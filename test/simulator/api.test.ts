import { afterEach, describe, expect, it } from 'vitest'
import { request } from 'undici'
import { startSimulator } from '../../sources/thena/simulator/index.js'
import type { Simulator, SimulatorOptions } from '../../sources/thena/simulator/index.js'
import { get, getJson } from '../helpers/http.js'

let sim: Simulator | undefined
afterEach(async () => {
  await sim?.stop()
  sim = undefined
})
async function start(options: SimulatorOptions = {}): Promise<Simulator> {
  sim = await startSimulator({ rateLimit: false, ...options })
  return sim
}

type Obj = Record<string, unknown>

describe('simulator endpoints and envelopes', () => {
  it('serves each bolt endpoint in the envelope the reference documents', async () => {
    const s = await start({ records: 20, users: 10 })
    const users = await getJson<{ data: Obj[]; message: null }>(s.url, '/rest/v2/users', s.token)
    expect(Array.isArray(users.data)).toBe(true)
    const fields = await getJson<{ data: Obj[] }>(s.url, '/rest/v2/requests/custom-fields', s.token)
    expect(Array.isArray(fields.data)).toBe(true)
    expect(fields.data[0]).toHaveProperty('category_name')
    const subStatuses = await getJson<Obj[]>(s.url, '/rest/v2/requests/sub-status', s.token)
    expect(Array.isArray(subStatuses)).toBe(true)
    expect(subStatuses[0]).toMatchObject({ id: expect.any(String), name: expect.any(String) })
    const one = await getJson<{ data: Obj }>(s.url, `/rest/v2/users/${users.data[0]!.id}`, s.token)
    expect(one.data).toEqual(users.data[0])
    const v3users = await getJson<{ data: { results: Obj[] }; next_cursor: null }>(
      s.url,
      '/v3/users',
      s.token,
    )
    expect(v3users.data.results).toEqual(users.data)
    expect(v3users.next_cursor).toBeNull()
    const first = [...s.truth.requests()][0]!
    const byId = await getJson<{ data: Obj }>(s.url, `/v3/requests/${first.id}`, s.token)
    expect(byId.data).toEqual(first)
  })

  it('an unknown user id is a 404, or 200 with data null when so configured', async () => {
    const s = await start()
    expect((await get(s.url, '/rest/v2/users/000000000000000000000000', s.token)).status).toBe(404)
    await s.stop()
    const t = await start({ notFound: 'null-data' })
    const res = await getJson<{ data: null }>(
      t.url,
      '/rest/v2/users/000000000000000000000000',
      t.token,
    )
    expect(res.data).toBeNull()
  })

  it('assigned users missing from /users are served by /users/{id}', async () => {
    const s = await start({ records: 2000, users: 20, hiddenUsers: 3 })
    const listed = new Set(
      (await getJson<{ data: Obj[] }>(s.url, '/rest/v2/users', s.token)).data.map((u) => u.id),
    )
    expect(listed.size).toBe(17)
    const hidden = s.truth.hiddenUserIds
    expect(hidden).toHaveLength(3)
    const assigned = new Set([...s.truth.requests()].map((r) => r.assigned_to_user_id))
    for (const id of hidden) {
      expect(listed.has(id)).toBe(false)
      expect(assigned.has(id)).toBe(true)
      const user = await getJson<{ data: Obj }>(s.url, `/rest/v2/users/${id}`, s.token)
      expect(user.data.id).toBe(id)
    }
  })

  it('requests carry every field the reference lists, with realistic awkward values', async () => {
    const s = await start({ records: 3000 })
    const records = [...s.truth.requests()]
    const keys = [
      'id',
      'created_at',
      'updated_at',
      'status',
      'sub_status',
      'source',
      'original_message_ts',
      'original_message_text',
      'original_message_source',
      'original_message_user_id',
      'original_message_permalink',
      'original_message_user_name',
      'original_message_user_slack_name',
      'original_message_user_slack_profile_real_name',
      'original_message_user_slack_profile_image_48',
      'original_message_user_slack_profile_image_72',
      'original_message_user_slack_profile_image_512',
      'sla_metrics',
      'first_response_time',
      'ai_metadata',
      'custom_fields',
      'assigned_to_user_id',
    ]
    for (const r of records) expect(Object.keys(r)).toEqual(keys)
    const r0 = records.find((r) => r.first_response_time !== null)!
    expect(r0.first_response_time).toMatchObject({
      ts: expect.any(String),
      actual_time: expect.any(Number),
    })
    expect(records.some((r) => r.first_response_time === null)).toBe(true)
    expect((r0.sla_metrics as Obj).first_response_sla).toHaveProperty('evaluated_state')
    expect(Object.keys(r0.ai_metadata as Obj)).toEqual(
      expect.arrayContaining([
        'userDefinedTags',
        'urgencySource',
        'sentimentSource',
        'updatedOn',
        'internal_summary',
      ]),
    )
    const subStatusIds = new Set(s.truth.subStatuses().map((x) => x.id))
    for (const r of records)
      if (r.sub_status !== null) expect(subStatusIds.has(r.sub_status)).toBe(true)
    const slackTs = records.filter((r) => /^\d{10}\.\d{6}$/.test(r.original_message_ts as string))
    expect(slackTs.length).toBeGreaterThan(records.length / 2)
    expect(records.some((r) => /^\d{4}-\d\d-\d\dT/.test(r.original_message_ts as string))).toBe(
      true,
    )
    const withFields = records.find((r) => (r.custom_fields as Obj[]).length > 0)!
    expect((withFields.custom_fields as Obj[])[0]).toMatchObject({
      category_name: expect.any(String),
      values: expect.any(Array),
      manual: expect.any(Boolean),
    })
    const texts = records.map((r) => r.original_message_text as string).join('\n')
    for (const awkward of ['🚀', '"', '\\', '\t', '\n', 'ありがとう', '\u200b'])
      expect(texts).toContain(awkward)
    expect(
      Math.max(...records.map((r) => (r.original_message_text as string).length)),
    ).toBeGreaterThan(5000)
    const email = records.find((r) => r.original_message_source === 'EMAIL')!
    expect(email.original_message_user_slack_name).toBeNull()
  })

  it('email-sourced users have null Slack fields', async () => {
    const s = await start({ users: 40 })
    const users = [...s.truth.users()]
    const emailOnly = users.filter((u) => u.slack_id === null)
    expect(emailOnly.length).toBeGreaterThan(0)
    for (const u of emailOnly)
      for (const [k, v] of Object.entries(u)) if (k.startsWith('slack_')) expect(v).toBeNull()
    expect(users.some((u) => typeof u.slack_tz_offset === 'number')).toBe(true)
  })
})

describe('simulator auth and rate limits', () => {
  it('a missing or wrong bearer token gets a 401 JSON body and is counted', async () => {
    const s = await start()
    const none = await get(s.url, '/rest/v2/requests')
    const wrong = await get(s.url, '/rest/v2/requests', 'nope')
    for (const res of [none, wrong]) {
      expect(res.status).toBe(401)
      expect(JSON.parse(res.text)).toEqual({ message: 'Unauthorized' })
    }
    expect(s.counters.unauthorized).toBe(2)
  })

  it('a fixed window per token: headers on every response, 429 when exhausted', async () => {
    const s = await start({ rateLimit: { limit: 5, windowMs: 60_000 } })
    const statuses: number[] = []
    let last
    for (let i = 0; i < 7; i++) {
      last = await get(s.url, '/rest/v2/requests/sub-status', s.token)
      statuses.push(last.status)
      expect(last.headers['x-ratelimit-limit']).toBe('5')
      expect(Number(last.headers['x-ratelimit-reset'])).toBeGreaterThan(Date.now() / 1000)
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429])
    expect(last!.headers['x-ratelimit-remaining']).toBe('0')
    expect(last!.headers['retry-after']).toBeUndefined()
    expect(JSON.parse(last!.text)).toEqual({ statusCode: 429, message: 'Too Many Requests' })
    expect(s.counters.rateLimited).toBe(2)
    // Accepted requests are counted per window (keyed by its reset second), refused ones not.
    expect(s.counters.acceptedPerWindow).toEqual({
      [last!.headers['x-ratelimit-reset'] as string]: 5,
    })
    expect(s.counters.lastRequestAt! - s.counters.firstRequestAt!).toBeGreaterThanOrEqual(0)
  })

  it('the window resets at X-RateLimit-Reset', async () => {
    const s = await start({ rateLimit: { limit: 2, windowMs: 1000 } })
    // Keep asking until refused: a window may end between two requests.
    let res = await get(s.url, '/rest/v2/requests/sub-status', s.token)
    for (let i = 0; i < 10 && res.status !== 429; i++)
      res = await get(s.url, '/rest/v2/requests/sub-status', s.token)
    expect(res.status).toBe(429)
    const reset = Number(res.headers['x-ratelimit-reset']) * 1000
    await new Promise((r) => setTimeout(r, reset - Date.now() + 20))
    expect((await get(s.url, '/rest/v2/requests/sub-status', s.token)).status).toBe(200)
  })

  it('switches: no rate-limit headers; Retry-After on 429', async () => {
    const s = await start({ rateLimit: { limit: 1, headers: false, retryAfter: true } })
    await get(s.url, '/rest/v2/requests/sub-status', s.token)
    const res = await get(s.url, '/rest/v2/requests/sub-status', s.token)
    expect(res.status).toBe(429)
    expect(res.headers['x-ratelimit-limit']).toBeUndefined()
    expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1)
  })
})

describe('simulator mutations', () => {
  it('insert, update, delete show up in the served pages and in the truth', async () => {
    const s = await start({ records: 100 })
    const before = [...s.truth.requests()]
    const inserted = s.mutate({ op: 'insertRequests', count: 3 }).ids
    const target = before[10]!
    const updated = s.mutate({ op: 'updateRequests', ids: [target.id as string] }).ids
    const deleted = s.mutate({ op: 'deleteRequests', ids: [before[20]!.id as string] }).ids
    expect([inserted.length, updated, deleted.length]).toEqual([3, [target.id], 1])
    const page = await getJson<{ data: { results: Obj[] } }>(
      s.url,
      '/rest/v2/requests?limit=1000',
      s.token,
    )
    const ids = page.data.results.map((r) => r.id)
    expect(ids).toHaveLength(102)
    expect(ids.slice(-3)).toEqual(inserted)
    expect(ids).not.toContain(before[20]!.id)
    const after = page.data.results[10]!
    expect(after.id).toBe(target.id)
    expect(after.status).not.toBe(target.status)
    expect(Date.parse(after.updated_at as string)).toBeGreaterThan(
      Date.parse(target.updated_at as string),
    )
    expect(after.created_at).toBe(target.created_at)
    expect(page.data.results).toEqual([...s.truth.requests()])
  })

  it('fields can be added, retyped and removed, from a position on (a change mid-run)', async () => {
    const s = await start({ records: 10 })
    s.mutate({ op: 'addField', path: 'sla_metrics.new_nested', type: 'boolean', fromIndex: 5 })
    s.mutate({ op: 'addField', path: ['weird key.with dot'], type: 'string' })
    s.mutate({ op: 'changeFieldType', path: 'first_response_time.actual_time', type: 'string' })
    s.mutate({ op: 'removeField', path: 'source' })
    const records = (
      await getJson<{ data: { results: Obj[] } }>(s.url, '/rest/v2/requests', s.token)
    ).data.results
    expect(records.slice(0, 5).every((r) => !('new_nested' in (r.sla_metrics as Obj)))).toBe(true)
    expect(
      records.slice(5).every((r) => typeof (r.sla_metrics as Obj).new_nested === 'boolean'),
    ).toBe(true)
    expect(records.every((r) => typeof r['weird key.with dot'] === 'string')).toBe(true)
    expect(records.every((r) => !('source' in r))).toBe(true)
    const timed = records.filter((r) => r.first_response_time !== null)
    expect(timed.every((r) => typeof (r.first_response_time as Obj).actual_time === 'string')).toBe(
      true,
    )
  })

  it('users can be added and sub-statuses renamed', async () => {
    const s = await start({ users: 5, hiddenUsers: 1 })
    const [added] = s.mutate({ op: 'addUsers', count: 1 }).ids
    const users = (await getJson<{ data: Obj[] }>(s.url, '/rest/v2/users', s.token)).data
    expect(users.map((u) => u.id)).toContain(added)
    const target = s.truth.subStatuses()[0]!
    s.mutate({ op: 'renameSubStatus', id: target.id as string, name: 'Renamed ✨' })
    const subs = await getJson<Obj[]>(s.url, '/rest/v2/requests/sub-status', s.token)
    expect(subs[0]).toMatchObject({ id: target.id, name: 'Renamed ✨' })
  })

  it('the admin HTTP routes mutate, count and dump the truth, guarded by the admin token', async () => {
    const s = await start({ records: 30 })
    const admin = { authorization: `Bearer ${s.adminToken}`, 'content-type': 'application/json' }
    const refused = await request(`${s.url}/__admin/mutations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${s.token}` },
      body: JSON.stringify({ op: 'insertRequests', count: 1 }),
    })
    expect(refused.statusCode).toBe(401)
    await refused.body.text()
    const res = await request(`${s.url}/__admin/mutations`, {
      method: 'POST',
      headers: admin,
      body: JSON.stringify({ op: 'insertRequests', count: 2 }),
    })
    const result = (await res.body.json()) as { ids: string[] }
    expect(result.ids).toHaveLength(2)
    const bad = await request(`${s.url}/__admin/mutations`, {
      method: 'POST',
      headers: admin,
      body: '{"op":"explode"}',
    })
    expect(bad.statusCode).toBe(400)
    await bad.body.text()
    await get(s.url, '/rest/v2/requests', s.token)
    const counters = (await (
      await request(`${s.url}/__admin/counters`, { headers: admin })
    ).body.json()) as Obj
    expect(counters).toMatchObject({ requests: 1, pages: 1, records: 32 })
    const truth = await (
      await request(`${s.url}/__admin/truth?resource=requests`, { headers: admin })
    ).body.text()
    const lines = truth
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Obj)
    expect(lines).toEqual([...s.truth.requests()])
  })
})
