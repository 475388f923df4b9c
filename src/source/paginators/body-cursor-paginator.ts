import { z } from 'zod'
import { valueAt } from '../../core/json-path.js'
import { cursorAt, refuseLoop } from './loop-guard.js'
import { jsonPathSchema, paramSchema, stringAt } from './json-path-schema.js'
import type { PaginatorType } from './paginator.js'

const schema = z.strictObject({
  type: z.literal('body_cursor'),
  /** Where the response gives the next cursor. Default `cursor`. */
  cursorPath: jsonPathSchema.default(['cursor']),
  /** Field of the JSON request body the cursor is sent back in. Default `cursor`. */
  cursorField: paramSchema.default('cursor'),
  /**
   * Where the response says more follows (`truncated`): the walk goes on only while it is
   * true, even if a cursor is there. Default none (a cursor means more).
   */
  continuePath: jsonPathSchema.optional(),
})

/**
 * For POST endpoints (exports, search APIs): the next cursor travels in the JSON body of the
 * next request. Position `{cursor}`.
 */
export const bodyCursorPaginator: PaginatorType<typeof schema> = {
  type: 'body_cursor',
  schema,
  create: (p) => ({
    type: 'body_cursor',
    positionsShift: false,
    request: (at) => {
      const cursor = stringAt(at, 'cursor')
      return cursor === undefined ? {} : { body: { [p.cursorField]: cursor } }
    },
    next: (at, page) => {
      if (p.continuePath && valueAt(page.body, p.continuePath) !== true) return undefined
      const cursor = cursorAt(page.body, p.cursorPath)
      if (cursor === undefined || cursor === null) return undefined
      refuseLoop(cursor, stringAt(at, 'cursor'), 'cursor')
      return { cursor }
    },
    previous: () => undefined,
    parsePosition: (stored) => {
      const cursor = stringAt(stored, 'cursor')
      return cursor === undefined ? undefined : { cursor }
    },
  }),
}
