/** The one counter set of a run: progress events, the run result and the load row agree. */
import { describe, expect, it } from 'vitest'
import { RunStats, withQuarantined } from '../../src/pipeline/run-stats.js'
import type { CommitCounts } from '../../src/pipeline/run-stats.js'

const http = () => ({ requests: 0, retries: 0, rateLimited: 0, rateLimitWaitMs: 0 })

const counts = (
  resource: string,
  records: Record<string, number>,
  rejects: Record<string, number> = {},
  unchanged = 0,
): CommitCounts => ({
  resource,
  records: new Map(Object.entries(records)),
  rejects: new Map(Object.entries(rejects)),
  unchanged,
})

describe('RunStats', () => {
  it('derives the progress event, the load row and the result from the same commits', () => {
    const h = http()
    const stats = new RunStats('L1', 'thena', 'run', h)
    stats.committed(counts('requests', { requests: 100, users: 3 }, { requests: 2 }, 40), 5)
    stats.committed(counts('requests', { requests: 50 }, {}, 10), 8)
    h.requests = 12
    h.retries = 1
    expect(stats.progress('requests', false)).toEqual({
      resource: 'requests',
      pages: 8,
      records: 150,
      unchanged: 50,
      done: false,
    })
    // What the next commit writes is in its own load row, not yet in the counters.
    const pending = counts('requests', { requests: 7 }, { requests: 1 })
    expect(stats.load('running', undefined, pending)).toMatchObject({
      loadId: 'L1',
      pipeline: 'thena',
      command: 'run',
      status: 'running',
      records: 160,
      rejects: 3,
      unchanged: 50,
      requests: 12,
      retries: 1,
    })
    expect(stats.load('running')).not.toHaveProperty('finishedAt')
    expect(stats.load('success').finishedAt).toBeInstanceOf(Date)
    stats.finish('requests')
    const result = stats.result('success')
    expect(result).toMatchObject({
      records: 153,
      rejects: 2,
      unchanged: 50,
      requests: 12,
      deleted: 0,
    })
    expect(result.resources).toEqual([
      { resource: 'requests', pages: 8, records: 150, unchanged: 50, rejects: 2 },
    ])
  })

  it('lists only resources whose walk ended, in order; a failed one still counts in totals', () => {
    const stats = new RunStats('L', 'p', 'run', http())
    stats.committed(counts('a', { a: 1 }), 1)
    stats.committed(counts('b', { b: 2 }), 1)
    stats.finish('b')
    stats.rejected()
    const result = stats.result('failed')
    expect(result.resources.map((r) => r.resource)).toEqual(['b'])
    expect(result).toMatchObject({ records: 3, rejects: 1, status: 'failed' })
  })

  it('carries an ETA only when there is one', () => {
    const stats = new RunStats('L', 'p', 'backfill', http())
    expect(stats.progress('a', true, 12)).toMatchObject({ etaSeconds: 12, done: true })
    expect(stats.progress('a', true)).not.toHaveProperty('etaSeconds')
  })
})

describe('withQuarantined', () => {
  it('moves records the destination refused to the rejects of their own resource', () => {
    const before = counts('requests', { requests: 10, users: 2 }, { requests: 1 })
    const after = withQuarantined(before, [
      { resource: 'requests', recordId: 'r1', reason: 'x', raw: '{}' },
      { resource: 'users', recordId: 'u1', reason: 'x', raw: '{}' },
    ])
    expect(Object.fromEntries(after.records)).toEqual({ requests: 9, users: 1 })
    expect(Object.fromEntries(after.rejects)).toEqual({ requests: 2, users: 1 })
    expect(withQuarantined(before, [])).toBe(before)
  })
})
