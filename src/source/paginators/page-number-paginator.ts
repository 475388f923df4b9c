import { z } from 'zod'
import { valueAt } from '../../core/json-path.js'
import { jsonPathSchema, limitSchema, paramSchema, wholeAt } from './json-path-schema.js'
import type { PagePosition, PaginatorType } from './paginator.js'

const schema = z.strictObject({
  type: z.literal('page'),
  /** Query parameter for the page number. Default `page`. */
  pageParam: paramSchema.default('page'),
  /** Number of the first page (0 or 1 for most APIs). Default 1. */
  firstPage: z.number().int().min(0).default(1),
  /** Query parameter for the page size. Default `limit`. */
  limitParam: paramSchema.default('limit'),
  /** Page size asked for. Default 100. */
  limit: limitSchema.default(100),
  /** Where the body says how many pages there are; the walk stops at the last. Default none. */
  totalPagesPath: jsonPathSchema.optional(),
  /**
   * The server may serve fewer than `limit` records a page (its own maximum, undocumented): a
   * first page shorter than `limit` is followed by one more request, and the page size it
   * shows decides the end (a page shorter than it, or empty). Costs one request more for a
   * list that fits one page. Default false: a page shorter than `limit` is the last.
   */
  learnPageSize: z.boolean().default(false),
})

/**
 * Page number + page size: stops at an empty page, a page shorter than `limit` (or than the
 * page size the server showed, with `learnPageSize`), or the last of `totalPagesPath`. Positions shift when the source deletes, so a resumed walk verifies
 * them (`previous`). Position `{page}` (absent = the first page), as earlier versions stored.
 */
export const pageNumberPaginator: PaginatorType<typeof schema> = {
  type: 'page',
  schema,
  create: (p) => {
    const pageOf = (at: unknown) => wholeAt(at, 'page') ?? p.firstPage
    const lastPage = (body: unknown, current: number) => {
      const total = Number(valueAt(body, p.totalPagesPath!))
      return Number.isFinite(total) && current >= (p.firstPage === 0 ? total - 1 : total)
    }
    return {
      type: 'page',
      positionsShift: true,
      request: (at) => ({
        query: { [p.limitParam]: String(p.limit), [p.pageParam]: String(pageOf(at)) },
      }),
      next: (at, page): PagePosition | undefined => {
        const size = wholeAt(at, 'size')
        const current = pageOf(at)
        if (page.records === 0) return undefined
        if (page.records < p.limit) {
          // The server's page size: the first short page may be it, the next one tells.
          if (!p.learnPageSize || (size !== undefined && page.records < size)) return undefined
          const learned = size ?? page.records
          if (p.totalPagesPath && lastPage(page.body, current)) return undefined
          return { page: current + 1, size: learned }
        }
        if (p.totalPagesPath && lastPage(page.body, current)) return undefined
        return size === undefined ? { page: current + 1 } : { page: current + 1, size }
      },
      previous: (at): { position: PagePosition | undefined } | undefined => {
        const current = wholeAt(at, 'page')
        if (current === undefined || current <= p.firstPage) return undefined
        // The first page is the position a walk from the start has: none.
        const page = current - 1
        const size = wholeAt(at, 'size')
        return {
          position:
            page === p.firstPage ? undefined : size === undefined ? { page } : { page, size },
        }
      },
      parsePosition: (stored): PagePosition | undefined => {
        const page = wholeAt(stored, 'page')
        const size = wholeAt(stored, 'size')
        if (page === undefined) return undefined
        return size === undefined ? { page } : { page, size }
      },
    }
  },
}
