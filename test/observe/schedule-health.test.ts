/** The health rule of `schedule`, on a fake clock. */
import { describe, expect, it } from 'vitest'
import type { RunResult } from '../../src/pipeline/run-stats.js'
import { TerminalError } from '../../src/errors.js'
import { ScheduleHealth } from '../../src/observe/schedule-health.js'

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
  // Ticks every 60 s: allowed 120 s plus the last run's duration.
  const gaps = (p: string) => (p === 'a' ? 60_000 : 600_000)

  it('never ran: healthy until twice the gap since the start, then 503 naming the pipeline', () => {
    const h = new ScheduleHealth(['a', 'b'], gaps, 0)
    expect(h.check(119_000).status).toBe('ok')
    const late = h.check(121_000)
    expect(late.status).toBe('unhealthy')
    expect(late.reason).toBe(
      "a: no successful run since the daemon started 121 s ago (allowed 120 s: twice the 60 s between its ticks plus its last run's 0 s)",
    )
    expect(late.pipelines.find((p) => p.pipeline === 'b')!.healthy).toBe(true)
  })

  it("a success resets the clock, with the run's duration added; overdue after that", () => {
    const h = new ScheduleHealth(['a'], gaps, 0)
    h.finished(run('success', 30), 100_000)
    expect(h.check(249_000)).toMatchObject({ status: 'ok', pipelines: [{ allowedSeconds: 150 }] })
    expect(h.check(251_000).reason).toMatch(
      /^a: overdue: its last successful run finished 151 s ago/,
    )
  })

  it('a failed last run is unhealthy at once, with its error on one line; the next success heals', () => {
    const h = new ScheduleHealth(['a'], gaps, 0)
    h.finished(run('success', 1), 1000)
    h.finished(run('failed', 1), 2000)
    expect(h.check(3000)).toMatchObject({
      status: 'unhealthy',
      reason: 'a: its last run failed (load L1): the API went away',
    })
    h.finished(run('success', 1), 4000)
    expect(h.check(5000).status).toBe('ok')
  })
})
