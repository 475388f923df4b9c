import { z } from 'zod'
import { limitSchema, paramSchema } from './json-path-schema.js'
import type { PaginatorType } from './paginator.js'

const schema = z.strictObject({
  type: z.literal('single_page'),
  /** Query parameter for the page size, sent when given. Default none. */
  limitParam: paramSchema.optional(),
  /** Page size asked for, with `limitParam`. Default 100. */
  limit: limitSchema.default(100),
})

/** One request holds every record (a short list, a snapshot). */
export const singlePagePaginator: PaginatorType<typeof schema> = {
  type: 'single_page',
  schema,
  create: (p) => ({
    type: 'single_page',
    positionsShift: false,
    request: () => (p.limitParam ? { query: { [p.limitParam]: String(p.limit) } } : {}),
    next: () => undefined,
    previous: () => undefined,
    parsePosition: () => undefined,
  }),
}
