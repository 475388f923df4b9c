import { describe, expect, it } from 'vitest'
import { nextPosition, pageQuery, paginatorSchema } from '../../src/http/paginator.js'
import { RateGate } from '../../src/http/rate-gate.js'

const cursor = paginatorSchema.parse({ type: 'cursor' })
const page = paginatorSchema.parse({ type: 'page', limit: 2 })

describe('paginators', () => {
  it('cursor: found at data.next_cursor or next_cursor; missing, null or empty ends the walk', () => {
    expect(
      nextPosition(cursor, undefined, { data: { results: [1], next_cursor: 'a' } }, 1),
    ).toEqual({ cursor: 'a' })
    expect(
      nextPosition(cursor, undefined, { data: { results: [1] }, next_cursor: 'b' }, 1),
    ).toEqual({ cursor: 'b' })
    expect(nextPosition(cursor, undefined, { data: { results: [1], next_cursor: 7 } }, 1)).toEqual({
      cursor: '7',
    })
    for (const end of [null, '', undefined]) {
      expect(
        nextPosition(cursor, undefined, { data: { results: [1], next_cursor: end } }, 1),
      ).toBeUndefined()
    }
    expect(
      nextPosition(cursor, undefined, { data: { results: [], next_cursor: 'c' } }, 0),
    ).toBeUndefined()
  })

  it('cursor: the same cursor twice is an error, not a loop', () => {
    expect(() => nextPosition(cursor, { cursor: 'a' }, { next_cursor: 'a' }, 3)).toThrow(
      /same cursor twice/,
    )
  })

  it('page: next page until a short page', () => {
    expect(nextPosition(page, undefined, {}, 2)).toEqual({ page: 2 })
    expect(nextPosition(page, { page: 2 }, {}, 2)).toEqual({ page: 3 })
    expect(nextPosition(page, { page: 3 }, {}, 1)).toBeUndefined()
    expect(pageQuery(page, { page: 3 })).toEqual({ limit: '2', page: '3' })
    expect(pageQuery(cursor, { cursor: 'x' })).toEqual({ limit: '100', cursor: 'x' })
    expect(
      pageQuery(paginatorSchema.parse({ type: 'cursor', limitParam: null }), undefined),
    ).toEqual({})
  })
})

describe('rate gate', () => {
  it('holds back a request the window has no room for, until the announced reset', async () => {
    const gate = new RateGate(0)
    await gate.acquire()
    const resetSeconds = Math.ceil(Date.now() / 1000) + 1
    gate.release({ 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(resetSeconds) })
    const started = Date.now()
    await gate.acquire()
    expect(Date.now()).toBeGreaterThanOrEqual(resetSeconds * 1000)
    expect(gate.waitedMs).toBeGreaterThan(0)
    expect(Date.now() - started).toBeLessThan(2100)
    gate.release()
  })

  it('lets requests through while the window has room, counting the ones in flight', async () => {
    const gate = new RateGate(0)
    await gate.acquire()
    gate.release({
      'x-ratelimit-remaining': '2',
      'x-ratelimit-reset': String(Math.ceil(Date.now() / 1000) + 60),
    })
    const started = Date.now()
    await gate.acquire()
    await gate.acquire()
    expect(Date.now() - started).toBeLessThan(100)
    let third = false
    const stop = new AbortController()
    const pending = gate.acquire(stop.signal).then(
      () => (third = true),
      () => undefined,
    )
    await new Promise((r) => setTimeout(r, 100))
    expect(third).toBe(false)
    stop.abort()
    await pending
  })
})
