import { createHash } from 'node:crypto'

/**
 * `snake_case` for one key: camelCase split, accents folded, anything outside `[a-z0-9_]`
 * becomes `_`. Never empty and never starts with a digit. Distinct keys can map to the same
 * name; the schema registry makes them unique.
 */
export function snakeCase(key: string): string {
  const folded = key
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '_')
    .replace(/_{3,}/g, '__')
    .replace(/^_+(?=[^_])|(?<=[^_])_+$/g, '')
  const name = folded === '' || /^_+$/.test(folded) ? 'field' : folded
  return /^[0-9]/.test(name) ? `_${name}` : name
}

/** The identifier of a nested path: each key snake_cased, joined by `__`. */
export const pathName = (path: readonly string[]): string => path.map(snakeCase).join('__')

const shortHash = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 8)

/**
 * Fits `name` into `maxLength` bytes. A long name keeps its start and gets a hash of the whole
 * name, so shortening is deterministic and two long names that share a prefix stay distinct.
 */
export function shortenIdentifier(name: string, maxLength: number): string {
  if (Buffer.byteLength(name) <= maxLength) return name
  const hash = shortHash(name)
  return `${bytePrefix(name, maxLength - hash.length - 1)}_${hash}`
}

/** The longest start of `text` that fits in `bytes` bytes of UTF-8, whole characters only. */
function bytePrefix(text: string, bytes: number): string {
  let prefix = ''
  let used = 0
  for (const char of text) {
    used += Buffer.byteLength(char)
    if (used > bytes) break
    prefix += char
  }
  return prefix
}
