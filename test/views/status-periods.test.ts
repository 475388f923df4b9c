/**
 * `request_status_periods`, on every destination: built on `requests_history` once history is
 * on; the periods of each request follow the statuses and sub-statuses its versions were seen
 * in, begin at the request's update time, follow each other without gaps, and their durations
 * add up to the time since the request was first seen (or to its deletion).
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { PipelineConfig } from '../../src/config/define-config.js'
import type { ResolvedPipeline } from '../../src/config/resolve-pipeline.js'
import { startSimulator } from '../../sources/thena/simulator/index.js'
import type { Simulator } from '../../sources/thena/simulator/index.js'
import { DESTINATION_KINDS, epochMs } from '../helpers/destinations.js'
import { simulatorPipeline } from '../helpers/pipeline.js'
import { inSession, runOk } from '../helpers/warehouse-truth.js'
import type { Obj } from '../helpers/warehouse-truth.js'

let sim: Simulator | undefined
afterEach(async () => {
  await sim?.stop()
  sim = undefined
})

const DAY = 86_400_000
const daysAgo = (n: number) => new Date(Date.now() - n * DAY).toISOString()

const withHistory: Partial<PipelineConfig> = {
  resources: { requests_v3: { enabled: false }, requests: { history: true } },
}

/** Every period of the view by request, in order. */
async function periodsOf(p: ResolvedPipeline): Promise<Map<string, Obj[]>> {
  const rows = await inSession(p, (q) =>
    q(`SELECT * FROM thena.request_status_periods ORDER BY request_id, period`),
  )
  const byRequest = new Map<string, Obj[]>()
  for (const row of rows) {
    const id = String(row.request_id)
    byRequest.set(id, [...(byRequest.get(id) ?? []), row])
  }
  return byRequest
}

const updatedAt = (s: Simulator, id: string) =>
  Date.parse(String([...s.truth.requests()].find((r) => r.id === id)!.updated_at))

/**
 * Waits until every given update time is past: the simulator gives a request updated twice in
 * one second an update time a second later, and a version never begins in the future.
 */
async function untilPast(times: Iterable<number>): Promise<void> {
  const latest = Math.max(...times)
  while (Date.now() <= latest) await new Promise((r) => setTimeout(r, 50))
}

for (const kind of DESTINATION_KINDS) {
  describe(`request_status_periods on ${kind.name}`, () => {
    it('one period per status and sub-status seen, from the update that began it; durations add up', async () => {
      const s = (sim = await startSimulator({
        rateLimit: false,
        records: 300,
        spanDays: 40,
        users: 10,
      }))
      const p = simulatorPipeline(s, withHistory, await kind.freshUrl())
      const first = await runOk(p)
      expect(first.views?.find((v) => v.name === 'request_status_periods')?.status).toBe('built')
      const [onHold, engineering] = s.truth.subStatuses().map((x) => String(x.id))

      // Four recent requests go ON_HOLD (waiting on a customer), are edited (a new version,
      // the same period), move to another sub-status, then close; one of them is deleted.
      const ids = s.mutate({
        op: 'updateRequests',
        count: 4,
        createdAfter: daysAgo(7),
        set: { status: 'ON_HOLD', sub_status: onHold },
      }).ids
      const heldAt = new Map(ids.map((id) => [id, updatedAt(s, id)]))
      await untilPast(heldAt.values())
      await runOk(p)
      s.mutate({ op: 'updateRequests', ids: [...ids], set: { original_message_text: 'edited' } })
      await untilPast(ids.map((id) => updatedAt(s, id)))
      await runOk(p)
      s.mutate({ op: 'updateRequests', ids: [...ids], set: { sub_status: engineering } })
      const movedAt = new Map(ids.map((id) => [id, updatedAt(s, id)]))
      await untilPast(movedAt.values())
      await runOk(p)
      s.mutate({ op: 'updateRequests', ids: [...ids], set: { status: 'CLOSED', sub_status: null } })
      const closedAt = new Map(ids.map((id) => [id, updatedAt(s, id)]))
      await untilPast(closedAt.values())
      await runOk(p)
      const [gone] = s.mutate({ op: 'deleteRequests', ids: [ids[0]!] }).ids
      await runOk(p, { mode: 'reconcile' })

      const periods = await periodsOf(p)
      const names = new Map(s.truth.subStatuses().map((x) => [String(x.id), x.name]))
      for (const id of ids) {
        const list = periods.get(id)!
        // The status it was first seen in, then three periods; the edit made no period.
        expect(list.map((x) => [x.status, x.sub_status_id ?? null])).toEqual([
          [list[0]!.status, list[0]!.sub_status_id ?? null],
          ['ON_HOLD', onHold],
          ['ON_HOLD', engineering],
          ['CLOSED', null],
        ])
        expect(list[1]!.sub_status_name).toBe(names.get(onHold!))
        expect(list[2]!.sub_status_name).toBe(names.get(engineering!))
        expect(Number(list[1]!.versions)).toBe(2)
        expect(epochMs(list[1]!.started_at)).toBe(heldAt.get(id))
        expect(epochMs(list[2]!.started_at)).toBe(movedAt.get(id))
        expect(epochMs(list[3]!.started_at)).toBe(closedAt.get(id))
        // Time waiting on the customer: from going on hold to moving to engineering.
        expect(Number(list[1]!.duration_minutes)).toBeCloseTo(
          (movedAt.get(id)! - heldAt.get(id)!) / 60_000,
          6,
        )
        for (let i = 1; i < list.length; i++)
          expect(epochMs(list[i]!.started_at)).toBe(epochMs(list[i - 1]!.ended_at))
        const last = list.at(-1)!
        expect(last.is_current).toBe(id !== gone)
        expect(last.ended_at === null).toBe(id !== gone)
      }

      // Every other request: one period, open, from its update time.
      const truth = [...s.truth.requests()]
      expect(periods.size).toBe(truth.length + 1)
      for (const r of truth.filter((x) => !ids.includes(String(x.id)))) {
        const [only, ...rest] = periods.get(String(r.id))!
        expect(rest).toEqual([])
        expect(only!.status).toBe(r.status)
        expect(only!.is_current).toBe(true)
        expect(epochMs(only!.started_at)).toBe(Date.parse(String(r.updated_at)))
      }

      // Durations add up: per request, to the time from its first period's start to the last
      // one's end, or to now (one statement, one now).
      const sums = await inSession(p, (q) =>
        q(`SELECT request_id,
                  sum(duration_minutes) AS total,
                  (EXTRACT(EPOCH FROM CASE WHEN bool_or(is_current) THEN CURRENT_TIMESTAMP ELSE max(ended_at) END)
                   - EXTRACT(EPOCH FROM min(started_at))) / 60.0 AS span
           FROM thena.request_status_periods GROUP BY request_id`),
      )
      expect(sums).toHaveLength(truth.length + 1)
      for (const row of sums) expect(Number(row.total)).toBeCloseTo(Number(row.span), 4)

      // The README's question: median time on hold, in one short query.
      const [median] = await inSession(p, (q) =>
        q(`SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_minutes) AS minutes
           FROM thena.request_status_periods WHERE status = 'ON_HOLD' AND NOT is_current`),
      )
      expect(Number(median!.minutes)).toBeGreaterThanOrEqual(0)

      // A run with no change leaves the view as it was.
      const again = await runOk(p)
      expect(again.views?.find((v) => v.name === 'request_status_periods')?.status).toBe(
        'unchanged',
      )
    })
  })
}
