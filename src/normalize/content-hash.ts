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

/** Canonical JSON of `value`, or undefined for a value that counts as absent. */
function canonical(value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined
  if (Array.isArray(value)) return `[${value.map((v) => canonical(v) ?? 'null').join(',')}]`
  if (typeof value === 'object') {
    const parts: string[] = []
    for (const key of Object.keys(value).sort()) {
      const text = canonical((value as Record<string, unknown>)[key])
      if (text !== undefined) parts.push(`${JSON.stringify(key)}:${text}`)
    }
    return parts.length === 0 ? undefined : `{${parts.join(',')}}`
  }
  // Numbers, strings, booleans as JSON writes them (a non-finite number as null, as JSON does).
  return JSON.stringify(value) ?? undefined
}
