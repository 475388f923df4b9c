import { afterEach, describe, expect, it, vi } from 'vitest'
import { RateGate } from '../../src/http/rate-gate.js'
import { WaitPolicy } from '../../src/http/wait-policy.js'

const HOUR = 3_600_000

/** A clock that only moves when the gate waits: each wait is recorded, then "slept" at once. */
class FakeClockWaits extends WaitPolicy {
  now = 1_000_000
  readonly waited: number[] = []
  override async wait(ms: number, reason: string): Promise<void> {
    this.check(ms, reason)
    this.waited.push(ms)
    this.now += ms
  }
}

afterEach(() => vi.restoreAllMocks())

function gate(requestsPerHour: number, maxWaitMs = 0) {
  const waits = new FakeClockWaits(maxWaitMs)
  vi.spyOn(Date, 'now').mockImplementation(() => waits.now)
  return { gate: new RateGate(50, 0, waits, 0, requestsPerHour), waits }
}

/** Acquires and releases at once, at the clock's current time. */
async function send(g: RateGate) {
  await g.acquire()
  g.release()
}

describe('requestsPerHour: a sliding window', () => {
  it('N requests go at once; the next waits until the oldest leaves the hour', async () => {
    const { gate: g, waits } = gate(3)
    await send(g)
    waits.now += 10 * 60_000
    await send(g)
    await send(g)
    expect(waits.waited).toEqual([])
    await send(g)
    // The first left the window exactly one hour after it started.
    expect(waits.waited).toEqual([HOUR - 10 * 60_000])
    // The window now holds the two at minute 10 and the one at minute 60: the next waits for
    // the pair at minute 10 to leave, at minute 70 (no wait beyond that for the second).
    await send(g)
    expect(waits.waited).toEqual([HOUR - 10 * 60_000, 10 * 60_000])
    await send(g)
    expect(waits.waited).toHaveLength(2)
  })

  it('at most N in any hour, over many requests', async () => {
    const { gate: g, waits } = gate(5)
    const starts: number[] = []
    for (let i = 0; i < 23; i++) {
      await g.acquire()
      starts.push(waits.now)
      g.release()
      waits.now += 7 * 60_000
    }
    for (const start of starts)
      expect(starts.filter((t) => t >= start && t < start + HOUR).length).toBeLessThanOrEqual(5)
  })

  it('a wait beyond maxWaitSeconds ends with wait_too_long, and no slot is taken', async () => {
    const { gate: g } = gate(1, 60_000)
    await send(g)
    const error = await g.acquire().then(
      () => undefined,
      (e: unknown) => e as Error & { code?: string },
    )
    expect(error?.code).toBe('wait_too_long')
    expect(error?.message).toContain('keeping to the budget of 1 requests per hour')
  })

  it('0 = no budget', async () => {
    const { gate: g, waits } = gate(0)
    for (let i = 0; i < 100; i++) await send(g)
    expect(waits.waited).toEqual([])
  })
})
