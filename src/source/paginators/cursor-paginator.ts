import { z } from 'zod'
import { cursorAt, refuseLoop } from './loop-guard.js'
import { jsonPathSchema, limitSchema, paramSchema, stringAt } from './json-path-schema.js'
import type { PaginatorType } from './paginator.js'

const schema = z.strictObject({
  type: z.literal('cursor'),
  /** Where the next cursor may sit, tried in order. Default `data.next_cursor`, then `next_cursor`. */
  cursorPaths: z
    .array(jsonPathSchema)
    .min(1)
    .default([['data', 'next_cursor'], ['next_cursor']]),
  /** Query parameter the cursor is sent back in. Default `cursor`. */
  cursorParam: paramSchema.default('cursor'),
  /** Query parameter for the page size, or null to send none. Default `limit`. */
  limitParam: paramSchema.nullable().default('limit'),
  /** Page size asked for. Default 100 (the legacy bolt API's documented default). */
  limit: limitSchema.default(100),
})

/**
 * Keyset cursor paging: the next cursor is read from the body (the first of `cursorPaths`
 * present) and sent back as a parameter; a missing, null or empty cursor, or an empty page,
 * ends the walk. Position `{cursor}`, the shape earlier versions stored.
 */
export const cursorPaginator: PaginatorType<typeof schema> = {
  type: 'cursor',
  schema,
  create: (p) => ({
    type: 'cursor',
    positionsShift: false,
    request: (at) => {
      const query: Record<string, string> = {}
      if (p.limitParam) query[p.limitParam] = String(p.limit)
      const cursor = stringAt(at, 'cursor')
      if (cursor) query[p.cursorParam] = cursor
      return { query }
    },
    next: (at, page) => {
      if (page.records === 0) return undefined
      for (const path of p.cursorPaths) {
        const cursor = cursorAt(page.body, path)
        if (cursor === undefined) continue
        if (cursor === null) return undefined
        refuseLoop(cursor, stringAt(at, 'cursor'), 'cursor')
        return { cursor }
      }
      return undefined
    },
    previous: () => undefined,
    parsePosition: (stored) => {
      const cursor = stringAt(stored, 'cursor')
      return cursor === undefined ? undefined : { cursor }
    },
  }),
}
