/** A path into a JSON document: keys from the top, e.g. `['data', 'next_cursor']`. */
export type JsonPath = readonly string[]

/** A path as keys: `'data.next_cursor'` or `['data', 'next_cursor']`; `''` and `[]` are the top. */
export const toJsonPath = (path: JsonPath | string): JsonPath =>
  typeof path === 'string' ? (path === '' ? [] : path.split('.')) : path

/** The value at `path` in `body`, or undefined when a step is missing or not an object. */
export function valueAt(body: unknown, path: JsonPath): unknown {
  let node = body
  for (const key of path) {
    if (typeof node !== 'object' || node === null || Array.isArray(node)) return undefined
    node = (node as Record<string, unknown>)[key]
  }
  return node
}
