import { z } from 'zod'
import { valueAt } from '../../core/json-path.js'
import { jsonPathSchema, limitSchema, paramSchema, wholeAt } from './json-path-schema.js'
import type { PaginatorType } from './paginator.js'

const schema = z.strictObject({
  type: z.literal('offset'),
  /** Query parameter for the offset of the first record. Default `offset`. */
  offsetParam: paramSchema.default('offset'),
  /** Query parameter for the page size. Default `limit`. */
  limitParam: paramSchema.default('limit'),
  /** Page size asked for. Default 100. */
  limit: limitSchema.default(100),
  /** Where the body gives the total number of records (`total`); the walk stops there. Default none. */
  totalPath: jsonPathSchema.optional(),
  /** Where the body says whether more records follow (`has_more`); false stops. Default none. */
  hasMorePath: jsonPathSchema.optional(),
})

/**
 * Offset + limit: stops at an empty or short page, at the total the body gives, or when its
 * `has_more` flag is false. Offsets shift when the source deletes, so a resumed walk verifies
 * them (`previous`). Position `{offset}` (absent = 0).
 */
export const offsetPaginator: PaginatorType<typeof schema> = {
  type: 'offset',
  schema,
  create: (p) => {
    const offsetOf = (at: unknown) => wholeAt(at, 'offset') ?? 0
    return {
      type: 'offset',
      positionsShift: true,
      request: (at) => ({
        query: { [p.offsetParam]: String(offsetOf(at)), [p.limitParam]: String(p.limit) },
      }),
      next: (at, page) => {
        if (page.records === 0) return undefined
        const next = offsetOf(at) + page.records
        if (p.hasMorePath) {
          const more = valueAt(page.body, p.hasMorePath)
          if (more === false || more === 'false') return undefined
          if (more === true) return { offset: next }
        }
        if (p.totalPath) {
          const total = Number(valueAt(page.body, p.totalPath))
          // A total that is too low must not cut the list short: a full page is followed anyway.
          if (Number.isFinite(total))
            return next >= total && page.records < p.limit ? undefined : { offset: next }
        }
        return page.records < p.limit ? undefined : { offset: next }
      },
      previous: (at) => {
        const offset = wholeAt(at, 'offset')
        if (offset === undefined || offset === 0) return undefined
        const back = Math.max(0, offset - p.limit)
        return { position: back === 0 ? undefined : { offset: back } }
      },
      parsePosition: (stored) => {
        const offset = wholeAt(stored, 'offset')
        return offset === undefined ? undefined : { offset }
      },
    }
  },
}
