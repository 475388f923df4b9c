import { valueAt } from '../../core/json-path.js'
import type { JsonPath } from '../../core/json-path.js'
import { nextLink } from './next-url-paginator.js'
import type { PageResponse } from './paginator.js'

/** A paginator declaration a detection chose, and why (one line for the log). */
export interface DetectedPaginator {
  readonly declaration: { readonly type: string } & Readonly<Record<string, unknown>>
  readonly reason: string
}

const CURSOR_KEYS = ['next_cursor', 'nextCursor', 'cursor', 'next_page_token', 'nextPageToken']
const NEXT_URL_KEYS = ['next', 'next_url', 'nextUrl', 'next_page_url']
// Not `count`: APIs use it for the records on this page as often as for all of them.
const TOTAL_KEYS = ['total', 'total_count', 'totalCount']
const HAS_MORE_KEYS = ['has_more', 'hasMore']

const isUrl = (v: unknown): v is string => typeof v === 'string' && /^(https?:\/)?\//.test(v)

/**
 * Chooses a paginator from the first response of a resource that declares none, as dlt's
 * `rest_api` does: a `Link: rel="next"` header, a next URL in the body (`next`, `links.next`),
 * a next cursor (top level or beside the records), a `has_more` flag or a total beside the
 * records (offset), else a single page. `recordsPath` is where the records sit.
 */
export function detectPaginator(
  first: Pick<PageResponse, 'body' | 'headers'>,
  recordsPath: JsonPath,
): DetectedPaginator {
  if (nextLink(first.headers.link))
    return {
      declaration: { type: 'next_url', from: 'link_header' },
      reason: 'found a `Link: rel="next"` header in the first response: following next links',
    }
  // Paging fields sit at the top, or beside the records (`data.next_cursor` beside `data.results`).
  const parents: JsonPath[] = [[]]
  if (recordsPath.length > 1) parents.push(recordsPath.slice(0, -1))
  for (const parent of parents) {
    const at = (key: string) => [...parent, key]
    for (const key of NEXT_URL_KEYS)
      if (isUrl(valueAt(first.body, at(key))))
        return found('next_url', { nextPath: at(key) }, at(key), 'following next URLs')
    if (isUrl(valueAt(first.body, [...parent, 'links', 'next'])))
      return found(
        'next_url',
        { nextPath: [...parent, 'links', 'next'] },
        [...parent, 'links', 'next'],
        'following next URLs',
      )
    for (const key of CURSOR_KEYS) {
      const value = valueAt(first.body, at(key))
      if (typeof value === 'string' || value === null)
        return found(
          'cursor',
          { cursorPaths: [at(key)], cursorParam: cursorParamOf(key) },
          at(key),
          'paging by cursor',
        )
    }
    for (const key of HAS_MORE_KEYS)
      if (typeof valueAt(first.body, at(key)) === 'boolean')
        return found(
          'offset',
          { hasMorePath: at(key) },
          at(key),
          'paging by offset while it is true',
        )
  }
  for (const parent of parents)
    for (const key of TOTAL_KEYS)
      if (typeof valueAt(first.body, [...parent, key]) === 'number')
        return found(
          'offset',
          { totalPath: [...parent, key] },
          [...parent, key],
          'paging by offset up to the total',
        )
  return {
    declaration: { type: 'single_page' },
    reason: 'found no paging fields in the first response: reading it as a single page',
  }
}

const cursorParamOf = (key: string) =>
  key === 'next_page_token' ? 'page_token' : key === 'nextPageToken' ? 'pageToken' : 'cursor'

function found(
  type: string,
  settings: Record<string, unknown>,
  path: JsonPath,
  what: string,
): DetectedPaginator {
  return {
    declaration: { type, ...settings },
    reason: `found \`${path.join('.')}\` in the first response: ${what} (declare a paginator to choose another)`,
  }
}
