import { createHash } from 'node:crypto'

/**
 * The hash that says whether a record's content changed, for its history: SHA-256 (hex) of its
 * canonical JSON, keys sorted at every level, without null or absent fields (nor objects left
 * empty by that). A field the API starts sending as null, or a column the table gains, thus
 * leaves the hash of an unchanged record as it was; values inside arrays keep their nulls
 * (their positions count).
 */
export function contentHash(record: Record<string, unknown>): string {
  return createHash('sha256')
    .update(canonical(record) ?? '{}')
    .digest('hex')
}

/** Keys as JSON strings, remembered: records repeat the same few hundred keys. */
const quotedKeys = new Map<string, string>()

function quoted(key: string): string {
  let text = quotedKeys.get(key)
  if (text === undefined) {
    text = JSON.stringify(key)
    // Bounded: keys that are data (ids as keys) would otherwise grow it without end.
    if (quotedKeys.size < 10_000) quotedKeys.set(key, text)
  }
  return text
}

/** Canonical JSON of `value`, or undefined for a value that counts as absent. */
function canonical(value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined
  if (typeof value !== 'object') return JSON.stringify(value) ?? undefined
  if (Array.isArray(value)) {
    let text = '['
    for (let i = 0; i < value.length; i++)
      text += `${i === 0 ? '' : ','}${canonical(value[i]) ?? 'null'}`
    return `${text}]`
  }
  let text = ''
  for (const key of Object.keys(value).sort()) {
    const field = canonical((value as Record<string, unknown>)[key])
    if (field !== undefined) text += `${text === '' ? '{' : ','}${quoted(key)}:${field}`
  }
  return text === '' ? undefined : `${text}}`
}
