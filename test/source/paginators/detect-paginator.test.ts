/** Detecting a paginator from the first response, and the auto paginator built on it. */
import { describe, expect, it } from 'vitest'
import { AutoPaginator } from '../../../src/source/paginators/auto-paginator.js'
import { detectPaginator } from '../../../src/source/paginators/detect-paginator.js'

describe('detectPaginator', () => {
  it.each<[string, unknown, Record<string, string>, string[], Record<string, unknown>]>([
    [
      'a Link header',
      [1, 2],
      { link: '<https://x/i?p=2>; rel="next"' },
      [],
      { type: 'next_url', from: 'link_header' },
    ],
    [
      'a next URL in the body',
      { items: [1], next: 'https://x/i?p=2' },
      {},
      ['items'],
      { type: 'next_url', nextPath: ['next'] },
    ],
    [
      'links.next',
      { data: [1], links: { next: '/i?p=2' } },
      {},
      ['data'],
      { type: 'next_url', nextPath: ['links', 'next'] },
    ],
    [
      'a cursor beside the records',
      { data: { results: [1], next_cursor: 'c' } },
      {},
      ['data', 'results'],
      { type: 'cursor', cursorPaths: [['data', 'next_cursor']], cursorParam: 'cursor' },
    ],
    [
      'a page token',
      { items: [1], nextPageToken: 't' },
      {},
      ['items'],
      { type: 'cursor', cursorPaths: [['nextPageToken']], cursorParam: 'pageToken' },
    ],
    [
      'has_more',
      { data: [1], has_more: true },
      {},
      ['data'],
      { type: 'offset', hasMorePath: ['has_more'] },
    ],
    [
      'a total',
      { findings: [1], total: 250, returned: 25 },
      {},
      ['findings'],
      { type: 'offset', totalPath: ['total'] },
    ],
    ['a bare array', [1, 2, 3], {}, [], { type: 'single_page' }],
    // `count` is as often the records on this page: taken for a total it cut lists short.
    ['a count is not a total', { items: [1], count: 1 }, {}, ['items'], { type: 'single_page' }],
    [
      'nothing to page by',
      { integrations: [1], connected_count: 1 },
      {},
      ['integrations'],
      { type: 'single_page' },
    ],
  ])('%s', (_name, body, headers, recordsPath, declaration) => {
    const detected = detectPaginator({ body, headers }, recordsPath)
    expect(detected.declaration).toEqual(declaration)
    expect(detected.reason).not.toContain('\n')
  })
})

describe('AutoPaginator', () => {
  it('chooses on the first page, and carries its choice in every position', () => {
    const auto = new AutoPaginator(['data', 'results'], 'paginator')
    expect(auto.request(undefined)).toEqual({})
    const next = auto.next(undefined, {
      body: { data: { results: [1], next_cursor: 'c2' } },
      headers: {},
      records: 1,
    })
    expect(auto.detected).toMatch(/`data\.next_cursor`.*cursor/)
    expect(next).toMatchObject({ position: { cursor: 'c2' }, auto: { type: 'cursor' } })
    // A later run, resuming from the stored position, pages the same way without detecting.
    const later = new AutoPaginator(['data', 'results'], 'paginator')
    const stored = JSON.parse(JSON.stringify(next)) as typeof next
    expect(later.parsePosition(stored)).toEqual(stored)
    expect(later.request(stored)).toEqual({ query: { limit: '100', cursor: 'c2' } })
    expect(later.detected).toBeUndefined()
    expect(later.parsePosition({ cursor: 'x' })).toBeUndefined()
  })
})
