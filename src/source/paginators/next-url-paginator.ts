import { z } from 'zod'
import { TerminalError } from '../../errors.js'
import { valueAt } from '../../core/json-path.js'
import { refuseLoop } from './loop-guard.js'
import { jsonPathSchema, stringAt } from './json-path-schema.js'
import type { PaginatorType } from './paginator.js'

const schema = z.strictObject({
  type: z.literal('next_url'),
  /** Where the next page's URL is: in the body at `nextPath`, or the `Link` header's `rel="next"`. Default `body`. */
  from: z.enum(['body', 'link_header']).default('body'),
  /** Body path of the next URL. Default `next`. */
  nextPath: jsonPathSchema.default(['next']),
})

/** The `rel="next"` target of a `Link` header (RFC 8288), or undefined. */
export function nextLink(header: string | readonly string[] | undefined): string | undefined {
  const text = Array.isArray(header) ? header.join(', ') : (header as string | undefined)
  if (!text) return undefined
  for (const match of text.matchAll(/<([^>]*)>((?:\s*;\s*[^;,]+)*)/g)) {
    const params = match[2] ?? ''
    const rel = /;\s*rel\s*=\s*(?:"([^"]*)"|([^\s;,]+))/i.exec(params)
    const rels = (rel?.[1] ?? rel?.[2] ?? '').toLowerCase().split(/\s+/)
    if (rels.includes('next')) return match[1]
  }
  return undefined
}

/**
 * The API gives the next page's URL (HAL, JSON:API, GitHub's `Link` header): it is requested
 * as given, on the API's own origin only (the HTTP client refuses another). Position `{url}`.
 */
export const nextUrlPaginator: PaginatorType<typeof schema> = {
  type: 'next_url',
  schema,
  create: (p) => ({
    type: 'next_url',
    positionsShift: false,
    request: (at) => {
      const url = stringAt(at, 'url')
      return url === undefined ? {} : { url }
    },
    next: (at, page) => {
      if (page.records === 0) return undefined
      let url: unknown
      if (p.from === 'link_header') url = nextLink(page.headers.link)
      else url = valueAt(page.body, p.nextPath)
      if (url === undefined || url === null || url === '') return undefined
      if (typeof url !== 'string')
        throw new TerminalError(
          'pagination_bad_cursor',
          `the next URL at \`${p.nextPath.join('.')}\` is not a string`,
        )
      refuseLoop(url, stringAt(at, 'url'), 'next URL')
      return { url }
    },
    previous: () => undefined,
    parsePosition: (stored) => {
      const url = stringAt(stored, 'url')
      return url === undefined ? undefined : { url }
    },
  }),
}
