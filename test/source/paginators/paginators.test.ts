/**
 * The built-in paginators as pure functions, case by case: what each sends for a position,
 * where it goes next for a response, where it stops, what it refuses, and how it reads back
 * the positions earlier versions stored.
 */
import { describe, expect, it } from 'vitest'
import { createPaginator, registerPaginator } from '../../../src/source/paginators/index.js'
import type { PagePosition } from '../../../src/source/paginators/index.js'
import { z } from 'zod'

const page = (body: unknown, records: number, headers: Record<string, string> = {}) => ({
  body,
  records,
  headers,
})

type NextCase = [
  string,
  PagePosition | undefined,
  ReturnType<typeof page>,
  PagePosition | undefined,
]

describe('cursor', () => {
  const p = createPaginator({ type: 'cursor' }, 'paginator')
  it.each<NextCase>([
    [
      'data.next_cursor first',
      undefined,
      page({ data: { results: [1], next_cursor: 'a' } }, 1),
      { cursor: 'a' },
    ],
    [
      'then top-level next_cursor',
      undefined,
      page({ data: { results: [1] }, next_cursor: 'b' }, 1),
      { cursor: 'b' },
    ],
    ['a number is a cursor', undefined, page({ data: { next_cursor: 7 } }, 1), { cursor: '7' }],
    ['null ends', undefined, page({ data: { next_cursor: null } }, 1), undefined],
    ['empty ends', undefined, page({ data: { next_cursor: '' } }, 1), undefined],
    ['missing ends', undefined, page({ data: {} }, 1), undefined],
    ['an empty page ends even with a cursor', undefined, page({ next_cursor: 'c' }, 0), undefined],
  ])('%s', (_name, at, response, next) => {
    expect(p.next(at, response)).toEqual(next)
  })

  it('sends the cursor and the limit; refuses a repeated or non-string cursor', () => {
    expect(p.request(undefined)).toEqual({ query: { limit: '100' } })
    expect(p.request({ cursor: 'x' })).toEqual({ query: { limit: '100', cursor: 'x' } })
    expect(() => p.next({ cursor: 'a' }, page({ next_cursor: 'a' }, 3))).toThrow(
      /same cursor twice/,
    )
    expect(() => p.next(undefined, page({ next_cursor: { x: 1 } }, 3))).toThrow(/is not a string/)
    const bare = createPaginator({ type: 'cursor', limitParam: null }, 'paginator')
    expect(bare.request(undefined)).toEqual({ query: {} })
  })

  it('reads positions stored by earlier versions', () => {
    expect(p.parsePosition({ cursor: 'x' })).toEqual({ cursor: 'x' })
    expect(p.parsePosition({ cursor: null })).toBeUndefined()
    expect(p.parsePosition({ page: 3 })).toBeUndefined()
    expect(p.parsePosition(null)).toBeUndefined()
  })

  it('takes dotted paths as well as arrays', () => {
    const dotted = createPaginator({ type: 'cursor', cursorPaths: ['meta.next'] }, 'paginator')
    expect(dotted.next(undefined, page({ meta: { next: 'n' } }, 1))).toEqual({ cursor: 'n' })
  })
})

describe('page numbers', () => {
  const p = createPaginator({ type: 'page', limit: 2 }, 'paginator')
  it.each<NextCase>([
    ['a full first page', undefined, page({}, 2), { page: 2 }],
    ['a full page', { page: 2 }, page({}, 2), { page: 3 }],
    ['a short page ends', { page: 3 }, page({}, 1), undefined],
    ['an empty page ends', { page: 3 }, page({}, 0), undefined],
  ])('%s', (_name, at, response, next) => {
    expect(p.next(at, response)).toEqual(next)
  })

  it('sends page and limit; steps back; 0-based works; a total of pages stops', () => {
    expect(p.request({ page: 3 })).toEqual({ query: { limit: '2', page: '3' } })
    expect(p.request(undefined)).toEqual({ query: { limit: '2', page: '1' } })
    expect(p.previous({ page: 3 })).toEqual({ position: { page: 2 } })
    expect(p.previous({ page: 2 })).toEqual({ position: undefined })
    expect(p.previous(undefined)).toBeUndefined()
    expect(p.positionsShift).toBe(true)
    const zero = createPaginator(
      { type: 'page_number', firstPage: 0, limit: 2, totalPagesPath: 'meta.pages' },
      'p',
    )
    expect(zero.request(undefined).query).toMatchObject({ page: '0' })
    expect(zero.next(undefined, page({ meta: { pages: 2 } }, 2))).toEqual({ page: 1 })
    expect(zero.next({ page: 1 }, page({ meta: { pages: 2 } }, 2))).toBeUndefined()
    expect(p.parsePosition({ page: 3 })).toEqual({ page: 3 })
    expect(p.parsePosition({ cursor: 'x' })).toBeUndefined()
  })

  describe('learnPageSize: a server that serves fewer than `limit`', () => {
    const fresh = () =>
      createPaginator({ type: 'page', firstPage: 0, limit: 100, learnPageSize: true }, 'p')
    it.each<NextCase>([
      [
        'a short first page is followed, its size noted',
        undefined,
        page({}, 25),
        { page: 1, size: 25 },
      ],
      ['a page of that size goes on', { page: 2, size: 25 }, page({}, 25), { page: 3, size: 25 }],
      ['a page shorter than it ends', { page: 2, size: 25 }, page({}, 24), undefined],
      ['an empty page ends', { page: 1, size: 25 }, page({}, 0), undefined],
      ['a full page needs no size', undefined, page({}, 100), { page: 1 }],
      [
        'a full page keeps a size learned',
        { page: 3, size: 25 },
        page({}, 100),
        { page: 4, size: 25 },
      ],
      ['an empty first page ends', undefined, page({}, 0), undefined],
    ])('%s', (_name, at, response, next) => {
      expect(fresh().next(at, response)).toEqual(next)
    })

    it('a clamp once seen is the page size of later walks: no probe below it', () => {
      const p = fresh()
      expect(p.next(undefined, page({}, 25))).toEqual({ page: 1, size: 25 })
      expect(p.next({ page: 1, size: 25 }, page({}, 25))).toEqual({ page: 2, size: 25 })
      // A later walk of the same resource (another parent's children).
      expect(p.next(undefined, page({}, 7))).toBeUndefined()
      expect(p.next(undefined, page({}, 25))).toEqual({ page: 1, size: 25 })
    })

    it('the walks of one endpoint share it; another endpoint learns its own', () => {
      const shared = new Map<string, unknown>()
      const decl = { type: 'page', firstPage: 0, limit: 100, learnPageSize: true }
      const comments = createPaginator(decl, 'p', { shared, scope: 'comments' })
      // Another parent's comments: a paginator of the same resource, as a new run builds it.
      const again = createPaginator(decl, 'p', { shared, scope: 'comments' })
      expect(comments.next(undefined, page({}, 100))).toEqual({ page: 1 })
      expect(again.next(undefined, page({}, 5))).toBeUndefined()
      // What tickets showed says nothing of users: 50 of 120 users, the probe finds the rest.
      const tickets = createPaginator(decl, 'p', { shared, scope: 'tickets' })
      const users = createPaginator(decl, 'p', { shared, scope: 'users' })
      expect(tickets.next(undefined, page({}, 100))).toEqual({ page: 1 })
      expect(users.next(undefined, page({}, 50))).toEqual({ page: 1, size: 50 })
    })

    it('a page shorter than the least the server serves (minServerPageSize) ends at once', () => {
      const decl = {
        type: 'page',
        firstPage: 0,
        limit: 100,
        learnPageSize: true,
        minServerPageSize: 10,
      }
      const p = createPaginator(decl, 'p')
      expect(p.next(undefined, page({}, 9))).toBeUndefined()
      expect(p.next(undefined, page({}, 10))).toEqual({ page: 1, size: 10 })
    })

    it('what they share is forgotten when it is cleared (as each run begins)', () => {
      const context = { shared: new Map<string, unknown>() }
      const decl = { type: 'page', firstPage: 0, limit: 100, learnPageSize: true }
      const tickets = createPaginator(decl, 'p', context)
      expect(tickets.next(undefined, page({}, 100))).toEqual({ page: 1 })
      expect(tickets.next(undefined, page({}, 50))).toBeUndefined()
      context.shared.clear()
      expect(tickets.next(undefined, page({}, 50))).toEqual({ page: 1, size: 50 })
    })

    it('a probe that finds the end raises what the server is known to serve', () => {
      const p = fresh()
      expect(p.next(undefined, page({}, 5))).toEqual({ page: 1, size: 5 })
      expect(p.next({ page: 1, size: 5 }, page({}, 0))).toBeUndefined()
      // Shorter lists end at once; one as long, or longer, is probed again.
      expect(p.next(undefined, page({}, 4))).toBeUndefined()
      expect(p.next(undefined, page({}, 5))).toEqual({ page: 1, size: 5 })
      expect(p.next(undefined, page({}, 9))).toEqual({ page: 1, size: 9 })
    })

    it('without it, a short first page is the last (the page size is taken as the truth)', () => {
      const plain = createPaginator({ type: 'page', firstPage: 0, limit: 100 }, 'p')
      expect(plain.next(undefined, page({}, 25))).toBeUndefined()
    })

    it('keeps the size in stored positions and stepping back', () => {
      const learn = fresh()
      expect(learn.parsePosition({ page: 3, size: 25 })).toEqual({ page: 3, size: 25 })
      expect(learn.previous({ page: 3, size: 25 })).toEqual({ position: { page: 2, size: 25 } })
      expect(learn.request({ page: 3, size: 25 })).toEqual({ query: { limit: '100', page: '3' } })
    })
  })
})

describe('offset', () => {
  it.each<
    [
      string,
      Record<string, unknown>,
      PagePosition | undefined,
      ReturnType<typeof page>,
      PagePosition | undefined,
    ]
  >([
    ['a full page goes on', {}, undefined, page({}, 100), { offset: 100 }],
    ['a short page ends', {}, { offset: 100 }, page({}, 40), undefined],
    [
      'a short page at the total ends it',
      { totalPath: 'total' },
      { offset: 100 },
      page({ total: 150 }, 50),
      undefined,
    ],
    [
      'a total too low does not stop a full page',
      { totalPath: 'total' },
      { offset: 100 },
      page({ total: 100 }, 100),
      { offset: 200 },
    ],
    [
      'below the total goes on, even short',
      { totalPath: 'total' },
      undefined,
      page({ total: 150 }, 60),
      { offset: 60 },
    ],
    [
      'has_more false ends',
      { hasMorePath: ['has_more'] },
      undefined,
      page({ has_more: false }, 100),
      undefined,
    ],
    [
      'has_more true goes on, even short',
      { hasMorePath: ['has_more'] },
      undefined,
      page({ has_more: true }, 10),
      { offset: 10 },
    ],
    [
      'an empty page ends',
      { totalPath: 'total' },
      { offset: 100 },
      page({ total: 900 }, 0),
      undefined,
    ],
  ])('%s', (_name, settings, at, response, next) => {
    const p = createPaginator({ type: 'offset', ...settings }, 'paginator')
    expect(p.next(at, response)).toEqual(next)
  })

  it('sends offset and limit; steps back a page at a time', () => {
    const p = createPaginator(
      { type: 'offset', limit: 25, offsetParam: 'skip', limitParam: 'take' },
      'p',
    )
    expect(p.request({ offset: 50 })).toEqual({ query: { skip: '50', take: '25' } })
    expect(p.previous({ offset: 50 })).toEqual({ position: { offset: 25 } })
    expect(p.previous({ offset: 20 })).toEqual({ position: undefined })
    expect(p.previous(undefined)).toBeUndefined()
  })
})

describe('next URL', () => {
  it.each<[string, Record<string, unknown>, ReturnType<typeof page>, PagePosition | undefined]>([
    [
      'in the body',
      {},
      page({ next: 'https://api.x/items?page=2' }, 1),
      { url: 'https://api.x/items?page=2' },
    ],
    [
      'at a body path',
      { nextPath: 'links.next' },
      page({ links: { next: '/items?p=2' } }, 1),
      { url: '/items?p=2' },
    ],
    ['null ends', {}, page({ next: null }, 1), undefined],
    [
      'a Link header',
      { from: 'link_header' },
      page({}, 1, { link: '<https://api.x/i?p=2>; rel="next", <https://api.x/i?p=9>; rel="last"' }),
      { url: 'https://api.x/i?p=2' },
    ],
    [
      'a Link header with several rels, unquoted',
      { from: 'link_header' },
      page({}, 1, {
        link: '<https://api.x/i?p=1>; rel=prev, <https://api.x/i?p=3>; rel="next last"',
      }),
      { url: 'https://api.x/i?p=3' },
    ],
    [
      'a Link header without next ends',
      { from: 'link_header' },
      page({}, 1, { link: '<https://api.x/i?p=1>; rel="prev"' }),
      undefined,
    ],
  ])('%s', (_name, settings, response, next) => {
    expect(
      createPaginator({ type: 'next_url', ...settings }, 'p').next(undefined, response),
    ).toEqual(next)
  })

  it('requests the URL it was given, and refuses the same one twice', () => {
    const p = createPaginator({ type: 'next_url' }, 'p')
    expect(p.request({ url: 'https://api.x/i?p=2' })).toEqual({ url: 'https://api.x/i?p=2' })
    expect(p.request(undefined)).toEqual({})
    expect(() => p.next({ url: '/a' }, page({ next: '/a' }, 1))).toThrow(/same next URL twice/)
  })
})

describe('body cursor (POST)', () => {
  const p = createPaginator({ type: 'body_cursor', continuePath: 'truncated' }, 'p')
  it.each<NextCase>([
    [
      'truncated with a cursor goes on',
      undefined,
      page({ truncated: true, cursor: 'c1' }, 100),
      { cursor: 'c1' },
    ],
    [
      'not truncated ends, even with a cursor',
      undefined,
      page({ truncated: false, cursor: 'c1' }, 100),
      undefined,
    ],
    ['truncated without a cursor ends', undefined, page({ truncated: true }, 100), undefined],
  ])('%s', (_name, at, response, next) => {
    expect(p.next(at, response)).toEqual(next)
  })

  it('sends the cursor in the JSON body, not the query', () => {
    expect(p.request({ cursor: 'c1' })).toEqual({ body: { cursor: 'c1' } })
    expect(p.request(undefined)).toEqual({})
    expect(() => p.next({ cursor: 'c1' }, page({ truncated: true, cursor: 'c1' }, 1))).toThrow(
      /twice/,
    )
  })
})

describe('single page', () => {
  it('makes one request', () => {
    const p = createPaginator({ type: 'single_page', limitParam: 'limit', limit: 100 }, 'p')
    expect(p.request(undefined)).toEqual({ query: { limit: '100' } })
    expect(p.next(undefined, page({ next_cursor: 'x' }, 100))).toBeUndefined()
  })
})

describe('the registry', () => {
  it.each([
    [{ type: 'pages' }, 'resources.x.paginator.type: expected one of', /did you mean `page`/],
    [{ type: 'cursor', limit: 0 }, 'resources.x.paginator.limit: ', /1/],
    [{ type: 'offset', offsetParm: 'o' }, 'resources.x.paginator: ', /offsetParm/],
    ['cursor', 'resources.x.paginator.type: expected one of', /got "cursor"/],
  ])('refuses %j in one line', (declaration, start, detail) => {
    let message = ''
    try {
      createPaginator(declaration, 'resources.x.paginator')
    } catch (error) {
      message = (error as Error).message
    }
    expect(message.startsWith(start)).toBe(true)
    expect(message).toMatch(detail)
    expect(message).not.toContain('\n')
  })

  it('is open: a paginator registered by name is declarable', () => {
    registerPaginator({
      type: 'every_other',
      schema: z.strictObject({ type: z.literal('every_other') }),
      create: () => ({
        type: 'every_other',
        positionsShift: false,
        request: (at) => ({ query: { n: String(at?.n ?? 0) } }),
        next: (at, response) => (response.records ? { n: Number(at?.n ?? 0) + 2 } : undefined),
        previous: () => undefined,
        parsePosition: () => undefined,
      }),
    })
    const p = createPaginator({ type: 'every_other' }, 'p')
    expect(p.next({ n: 2 }, page({}, 1))).toEqual({ n: 4 })
  })
})
