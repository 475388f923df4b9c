import type { z } from 'zod'
import { bodyCursorPaginator } from './body-cursor-paginator.js'
import { cursorPaginator } from './cursor-paginator.js'
import { nextUrlPaginator } from './next-url-paginator.js'
import { offsetPaginator } from './offset-paginator.js'
import { pageNumberPaginator } from './page-number-paginator.js'
import { registerPaginator } from './paginator-registry.js'
import { singlePagePaginator } from './single-page-paginator.js'

registerPaginator(cursorPaginator)
registerPaginator(pageNumberPaginator, ['page_number'])
registerPaginator(offsetPaginator)
registerPaginator(nextUrlPaginator)
registerPaginator(bodyCursorPaginator)
registerPaginator(singlePagePaginator)

export {
  bodyCursorPaginator,
  cursorPaginator,
  nextUrlPaginator,
  offsetPaginator,
  pageNumberPaginator,
  singlePagePaginator,
}
export * from './paginator-registry.js'
export type * from './paginator.js'

type Declaration<T extends { readonly schema: z.ZodType }> = z.input<T['schema']>

/**
 * How a resource pages, as declared: one of the built-ins (with their settings and defaults),
 * or any type registered with `registerPaginator`.
 */
export type PaginatorConfig =
  | Declaration<typeof cursorPaginator>
  | Declaration<typeof pageNumberPaginator>
  | (Omit<Declaration<typeof pageNumberPaginator>, 'type'> & { readonly type: 'page_number' })
  | Declaration<typeof offsetPaginator>
  | Declaration<typeof nextUrlPaginator>
  | Declaration<typeof bodyCursorPaginator>
  | Declaration<typeof singlePagePaginator>
  | { readonly type: string & {}; readonly [setting: string]: unknown }
