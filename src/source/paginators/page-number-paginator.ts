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
   * first page shorter than `limit` is followed by one more request, which shows whether that
   * was the server's page size (then pages of that size go on) or the list's end; what it
   * shows is remembered for the resource's later walks, so a short page below what the server
   * is known to serve ends a walk without a probe. Default false: a page shorter than `limit`
   * is the last.
   */
  learnPageSize: z.boolean().default(false),
  /**
   * With `learnPageSize`: the fewest records the server is known to serve a page when asked
   * for more (its documented default page size; no server caps below its default), so a page
   * shorter than it ends the walk without a probe. Default 1.
   */
  minServerPageSize: z.number().int().min(1).default(1),
})

/** What walks learned of the server's page size: exactly `cap`, or at least `atLeast`. */
interface PageSize {
  cap?: number
  atLeast?: number
}

/**
 * Page number + page size: stops at an empty page, a page shorter than `limit` (or than the
 * page size the server showed, with `learnPageSize`), or the last of `totalPagesPath`. Positions shift when the source deletes, so a resumed walk verifies
 * them (`previous`). Position `{page}` (absent = the first page), as earlier versions stored.
 */
export const pageNumberPaginator: PaginatorType<typeof schema> = {
  type: 'page',
  schema,
  create: (p, context) => {
    const pageOf = (at: unknown) => wholeAt(at, 'page') ?? p.firstPage
    // What walks learned of the server's page size (learnPageSize): exactly `cap`, or at least
    // `atLeast`. Shared by the walks of one endpoint (a child resource walks it once per
    // parent; another endpoint may cap lower) for one run (the run clears `shared`: a server
    // may serve fewer by the next), so that of many walks only the first few pay for a probe.
    const key = `page-size ${context?.scope ?? ''} ${p.pageParam} ${p.limitParam} ${p.limit}`
    const own: PageSize = {}
    const learned = (): PageSize => {
      if (!context) return own
      let known = context.shared.get(key) as PageSize | undefined
      if (!known) context.shared.set(key, (known = {}))
      return known
    }
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
        const known = learned()
        const size = wholeAt(at, 'size')
        const current = pageOf(at)
        const records = page.records
        if (size !== undefined && current === p.firstPage + 1 && known.cap === undefined) {
          // The page after a short first page: records there mean the server's page size is
          // that first page's; none mean the size is at least that (or the list ended).
          if (records > 0) known.cap = size
          else known.atLeast = Math.max(known.atLeast ?? 0, size)
        }
        if (records >= p.limit) known.atLeast = Math.max(known.atLeast ?? 0, p.limit)
        if (records === 0) return undefined
        if (p.totalPagesPath && lastPage(page.body, current)) return undefined
        const following = (n: number | undefined): PagePosition =>
          n === undefined ? { page: current + 1 } : { page: current + 1, size: n }
        if (records >= p.limit) return following(size)
        if (!p.learnPageSize) return undefined
        const pageSize = size ?? known.cap
        if (pageSize !== undefined) return records < pageSize ? undefined : following(pageSize)
        // The server serves at least `atLeast` a page: a shorter one is the end.
        if (records < Math.max(known.atLeast ?? 0, p.minServerPageSize)) return undefined
        return following(records)
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
