import { z } from 'zod'
import { valueAt } from '../../core/json-path.js'
import { jsonPathSchema, limitSchema, paramSchema, wholeAt } from './json-path-schema.js'
import type { PaginatorType } from './paginator.js'

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
})

/**
 * Page number + page size: stops at an empty page, a page shorter than `limit`, or the last
 * of `totalPagesPath`. Positions shift when the source deletes, so a resumed walk verifies
 * them (`previous`). Position `{page}` (absent = the first page), as earlier versions stored.
 */
export const pageNumberPaginator: PaginatorType<typeof schema> = {
  type: 'page',
  schema,
  create: (p) => {
    const pageOf = (at: unknown) => wholeAt(at, 'page') ?? p.firstPage
    return {
      type: 'page',
      positionsShift: true,
      request: (at) => ({
        query: { [p.limitParam]: String(p.limit), [p.pageParam]: String(pageOf(at)) },
      }),
      next: (at, page) => {
        if (page.records === 0 || page.records < p.limit) return undefined
        const current = pageOf(at)
        if (p.totalPagesPath) {
          const total = Number(valueAt(page.body, p.totalPagesPath))
          const last = p.firstPage === 0 ? total - 1 : total
          if (Number.isFinite(total) && current >= last) return undefined
        }
        return { page: current + 1 }
      },
      previous: (at) => {
        const current = wholeAt(at, 'page')
        if (current === undefined || current <= p.firstPage) return undefined
        // The first page is the position a walk from the start has: none.
        const page = current - 1
        return { position: page === p.firstPage ? undefined : { page } }
      },
      parsePosition: (stored) => {
        const page = wholeAt(stored, 'page')
        return page === undefined ? undefined : { page }
      },
    }
  },
}
