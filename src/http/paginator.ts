import { z } from 'zod'
import { TerminalError } from '../errors.js'
import type { PagePosition as OpenPosition, Paginator } from '../source/paginators/paginator.js'

const path = z.array(z.string())

/** Keyset cursor paging: the next cursor is read from the body and sent back as a parameter. */
export const cursorPaginatorSchema = z.strictObject({
  type: z.literal('cursor'),
  /** Where the next cursor may sit, tried in order. Default `data.next_cursor`, then `next_cursor`. */
  cursorPaths: z
    .array(path)
    .min(1)
    .default([['data', 'next_cursor'], ['next_cursor']]),
  /** Query parameter the cursor is sent back in. Default `cursor`. */
  cursorParam: z.string().min(1).default('cursor'),
  /** Query parameter for the page size, or null to send none. Default `limit`. */
  limitParam: z.string().min(1).nullable().default('limit'),
  /** Page size asked for. Default 100 (the legacy API's documented default; its maximum is 1000). */
  limit: z.number().int().min(1).max(10_000).default(100),
})

/** Page-number paging: stops at the first page shorter than `limit`. */
export const pagePaginatorSchema = z.strictObject({
  type: z.literal('page'),
  /** Query parameter for the page number. Default `page`. */
  pageParam: z.string().min(1).default('page'),
  /** Number of the first page. Default 1. */
  firstPage: z.number().int().min(0).default(1),
  /** Query parameter for the page size. Default `limit`. */
  limitParam: z.string().min(1).default('limit'),
  /** Page size asked for. Default 100. */
  limit: z.number().int().min(1).max(10_000).default(100),
})

/** How a resource pages. */
export const paginatorSchema = z.discriminatedUnion('type', [
  cursorPaginatorSchema,
  pagePaginatorSchema,
])
export type PaginatorConfig = z.input<typeof paginatorSchema>
export type ResolvedPaginator = z.output<typeof paginatorSchema>

/** Where a walk stands: what to send for the next page. Persisted in state between runs. */
export type PagePosition = { readonly cursor?: string | null; readonly page?: number }

/** A position as a map key (undefined and null are both the first page). */
export const positionKey = (position: PagePosition | null | undefined): string =>
  JSON.stringify(position ?? null)

/** What the engine needs to know about each kind of paginator, as data. */
interface PaginatorTraits {
  /**
   * Whether a stored position can move when the source deletes records before it (page
   * numbers and offsets do; a keyset cursor does not). A walk resuming at such a position
   * verifies it first, and steps back with `previous` until it is sure nothing is skipped.
   */
  readonly positionsShift: boolean
  /**
   * The page before `position` (`{ position: undefined }` is the first page); undefined when
   * `position` is the first page or positions cannot go back.
   */
  previous(
    p: ResolvedPaginator,
    position: PagePosition | undefined,
  ): { readonly position: PagePosition | undefined } | undefined
}

const PAGINATOR_TRAITS: Readonly<Record<ResolvedPaginator['type'], PaginatorTraits>> = {
  cursor: { positionsShift: false, previous: () => undefined },
  page: {
    positionsShift: true,
    previous: (p, position) => {
      if (p.type !== 'page' || position?.page === undefined || position.page <= p.firstPage)
        return undefined
      // The first page is the position a walk from the start has: none.
      const page = position.page - 1
      return { position: page === p.firstPage ? undefined : { page } }
    },
  },
}

/** The traits of a paginator (see `PaginatorTraits`). */
export const paginatorTraits = (p: ResolvedPaginator): PaginatorTraits => PAGINATOR_TRAITS[p.type]

/** The query parameters of the page at `position`. */
export function pageQuery(
  p: ResolvedPaginator,
  position: PagePosition | undefined,
): Record<string, string> {
  const query: Record<string, string> = {}
  if (p.type === 'cursor') {
    if (p.limitParam) query[p.limitParam] = String(p.limit)
    if (position?.cursor) query[p.cursorParam] = position.cursor
  } else {
    query[p.limitParam] = String(p.limit)
    query[p.pageParam] = String(position?.page ?? p.firstPage)
  }
  return query
}

export function valueAt(body: unknown, path: readonly string[]): unknown {
  let node = body
  for (const key of path) {
    if (typeof node !== 'object' || node === null || Array.isArray(node)) return undefined
    node = (node as Record<string, unknown>)[key]
  }
  return node
}

/**
 * The position of the page after this one, or undefined when this was the last page: no
 * cursor (missing, null, empty), an empty page, or a page shorter than asked for in page mode.
 * A cursor equal to the one just sent would loop forever, so it is an error.
 */
export function nextPosition(
  p: ResolvedPaginator,
  current: PagePosition | undefined,
  body: unknown,
  recordCount: number,
): PagePosition | undefined {
  if (recordCount === 0) return undefined
  if (p.type === 'page') {
    if (recordCount < p.limit) return undefined
    return { page: (current?.page ?? p.firstPage) + 1 }
  }
  for (const path of p.cursorPaths) {
    const cursor = valueAt(body, path)
    if (cursor === undefined) continue
    if (cursor === null || cursor === '') return undefined
    if (typeof cursor !== 'string' && typeof cursor !== 'number') {
      throw new TerminalError(
        'pagination_bad_cursor',
        `the next cursor at \`${path.join('.')}\` is not a string`,
      )
    }
    const next = String(cursor)
    if (next === current?.cursor) {
      throw new TerminalError(
        'pagination_loop',
        `the API returned the same cursor twice (\`${next.slice(0, 40)}\`): stopping instead of looping`,
      )
    }
    return { cursor: next }
  }
  return undefined
}

/**
 * Today's two paginators behind the open `Paginator` interface (until the registry of
 * src/source/paginators replaces them).
 */
export function legacyPaginator(p: ResolvedPaginator): Paginator {
  const traits = paginatorTraits(p)
  return {
    type: p.type,
    positionsShift: traits.positionsShift,
    request: (at) => ({ query: pageQuery(p, at as PagePosition | undefined) }),
    next: (at, page) =>
      nextPosition(p, at as PagePosition | undefined, page.body, page.records) as
        OpenPosition | undefined,
    previous: (at) =>
      traits.previous(p, at as PagePosition | undefined) as
        { position: OpenPosition | undefined } | undefined,
    parsePosition: (stored) => stored as OpenPosition | undefined,
  }
}
