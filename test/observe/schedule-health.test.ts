/** The health rule of `schedule`, on a fake clock. */
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { ResolvedPipeline } from '../../src/config/resolve-pipeline.js'
import type { RunResult } from '../../src/pipeline/run-stats.js'
import { TerminalError } from '../../src/errors.js'
import { ScheduleHealth } from '../../src/observe/schedule-health.js'
import { Scheduler } from '../../src/schedule/scheduler.js'
import type { ScheduledJob } from '../../src/schedule/scheduler.js'

const run = (status: RunResult['status'], seconds: number, pipeline = 'a'): RunResult => ({
  loadId: 'L1',
  pipeline,
  status,
  resources: [],
  records: 0,
  unchanged: 0,
  rejects: 0,
  requests: 0,
  retries: 0,
  rateLimited: 0,
  seconds,
  ...(status === 'failed' && { error: new TerminalError('x', 'the API\nwent away') }),
})

describe('ScheduleHealth', () => {
  // Ticks every 60 s (at 60, 120, ... on the fake clock): a pipeline is due by its second tick
  // after its last success (or the start), plus twice its last run's duration.
  let clock = 0
  const everyMinute = (p: string) =>
    p === 'a'
      ? (Math.floor(clock / 60_000) + 2) * 60_000
      : (Math.floor(clock / 600_000) + 2) * 600_000
  const health = (pipelines: string[]) => new ScheduleHealth(pipelines, everyMinute, clock)
  const finished = (h: ScheduleHealth, result: RunResult, at: number) => {
    clock = at
    h.finished(result, at)
  }

  it('never ran: healthy until the second tick after the start, then 503 naming the pipeline', () => {
    clock = 0
    const h = health(['a', 'b'])
    expect(h.check(119_000).status).toBe('ok')
    const late = h.check(121_000)
    expect(late.status).toBe('unhealthy')
    expect(late.reason).toBe(
      "a: no successful run since the daemon started 121 s ago (allowed 120 s: until its second tick after then, 1970-01-01T00:02:00.000Z, plus twice its last run's 0 s)",
    )
    expect(late.pipelines.find((p) => p.pipeline === 'b')!.healthy).toBe(true)
  })

  it("a success resets the clock, with twice the run's duration added; overdue after that", () => {
    clock = 0
    const h = health(['a'])
    // The run of the tick at 60 s took 30 s: due by the tick at 180 s, plus 60 s.
    finished(h, run('success', 30), 90_000)
    expect(h.check(239_000)).toMatchObject({ status: 'ok', pipelines: [{ allowedSeconds: 150 }] })
    expect(h.check(241_000).reason).toMatch(
      /^a: overdue: its last successful run finished 151 s ago/,
    )
  })

  it('a failed last run is unhealthy at once, with its error on one line; the next success heals', () => {
    clock = 0
    const h = health(['a'])
    finished(h, run('success', 1), 1000)
    finished(h, run('failed', 1), 2000)
    expect(h.check(3000)).toMatchObject({
      status: 'unhealthy',
      reason: 'a: its last run failed (load L1): the API went away',
    })
    finished(h, run('success', 1), 4000)
    expect(h.check(5000).status).toBe('ok')
  })
})

describe('ScheduleHealth: what /healthz says of a failure', () => {
  it('one line, without the query string of a URL or the body the API answered', () => {
    const h = new ScheduleHealth(['a'], () => 120_000, 0)
    h.finished(
      {
        ...run('failed', 1),
        error: new TerminalError(
          'api_error',
          'GET https://api.example.com/rest/v2/requests?cursor=c-4411&updated_since=2026: HTTP 400: {"error":"bad",\n"customer":"jane.doe@example.com"}',
        ),
      },
      1000,
    )
    expect(h.check(2000).reason).toBe(
      'a: its last run failed (load L1): GET https://api.example.com/rest/v2/requests HTTP 400',
    )
  })
})

describe("ScheduleHealth with the scheduler's own ticks", () => {
  afterEach(() => vi.useRealTimers())

  const job = (cron: string): ScheduledJob => ({
    pipeline: { name: 'a' } as ResolvedPipeline,
    mode: 'run',
    cron,
    timezone: 'UTC',
  })
  const at = (iso: string) => {
    vi.setSystemTime(new Date(iso))
    return Date.now()
  }

  it('a weekday cron stays healthy over the weekend, and is overdue once two weekday ticks pass', () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    const scheduler = new Scheduler([job('0 9 * * 1-5')], () => undefined)
    // Started on Friday 2026-12-04 08:00; Friday's run finished at 09:00:05.
    const h = new ScheduleHealth(
      ['a'],
      (p) => scheduler.secondTickMs(p),
      at('2026-12-04T08:00:00Z'),
    )
    h.finished(run('success', 5), at('2026-12-04T09:00:05Z'))
    // From Saturday on, the next two ticks are Monday and Tuesday: their gap (24 h) is not how
    // long Friday's run may be ago.
    expect(h.check(at('2026-12-05T12:00:00Z')).status).toBe('ok')
    expect(h.check(at('2026-12-06T12:00:00Z')).status).toBe('ok')
    expect(h.check(at('2026-12-07T12:00:00Z')).status).toBe('ok')
    // Monday's tick skipped, Tuesday's run not done 10 s after its tick: overdue.
    expect(h.check(at('2026-12-08T09:00:09Z')).status).toBe('ok')
    expect(h.check(at('2026-12-08T09:00:11Z')).reason).toMatch(
      /^a: overdue: its last successful run finished 345606 s ago \(allowed 345605 s: until its second tick after then, 2026-12-08T09:00:00.000Z/,
    )
  })

  it('a yearly cron is due by its second tick, two years on', () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    const scheduler = new Scheduler([job('0 0 1 1 *')], () => undefined)
    const h = new ScheduleHealth(
      ['a'],
      (p) => scheduler.secondTickMs(p),
      at('2026-12-06T00:00:00Z'),
    )
    expect(h.check(at('2028-01-01T00:00:00Z')).status).toBe('ok')
    expect(h.check(at('2028-01-01T00:00:01Z')).status).toBe('unhealthy')
  })
})
