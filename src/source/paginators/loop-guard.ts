import { TerminalError } from '../../errors.js'
import { redactor } from '../../redactor.js'
import { valueAt } from '../../core/json-path.js'
import type { JsonPath } from '../../core/json-path.js'

/** Reads a cursor at `path`: a string (numbers allowed), null/empty for none, undefined when absent. */
export function cursorAt(body: unknown, path: JsonPath): string | null | undefined {
  const cursor = valueAt(body, path)
  if (cursor === undefined) return undefined
  if (cursor === null || cursor === '') return null
  if (typeof cursor !== 'string' && typeof cursor !== 'number')
    throw new TerminalError(
      'pagination_bad_cursor',
      `the next cursor at \`${path.join('.')}\` is not a string`,
    )
  return String(cursor)
}

/** A next value equal to the one just sent would loop forever (Singer's "loop detected"). */
export function refuseLoop(next: string, current: unknown, what: string): void {
  if (next === current)
    throw new TerminalError(
      'pagination_loop',
      `the API returned the same ${what} twice (\`${redactor.redact(next).slice(0, 40)}\`): stopping instead of looping`,
    )
}
