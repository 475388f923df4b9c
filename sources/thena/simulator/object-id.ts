/**
 * MongoDB-style ObjectIds: 4 bytes of creation time (UNIX seconds), 5 bytes fixed per
 * collection, 3 bytes of counter. The simulator uses the counter as the record's position, so
 * id order equals creation order and an id maps back to its record without a lookup table.
 */

const MAX_COUNTER = 0xffffff

export function makeObjectId(createdAtSeconds: number, machine: string, counter: number): string {
  if (counter > MAX_COUNTER)
    throw new RangeError(`ObjectId counter ${counter} exceeds ${MAX_COUNTER}`)
  return (
    (createdAtSeconds >>> 0).toString(16).padStart(8, '0') +
    machine +
    counter.toString(16).padStart(6, '0')
  )
}

export interface ParsedObjectId {
  readonly seconds: number
  readonly machine: string
  readonly counter: number
}

const OBJECT_ID = /^[0-9a-f]{24}$/

export function parseObjectId(id: string): ParsedObjectId | undefined {
  if (!OBJECT_ID.test(id)) return undefined
  return {
    seconds: parseInt(id.slice(0, 8), 16),
    machine: id.slice(8, 18),
    counter: parseInt(id.slice(18), 16),
  }
}

/** The creation time embedded in a 24-hex ObjectId, or undefined when `id` is not one. */
export function objectIdTime(id: string): Date | undefined {
  const parsed = parseObjectId(id)
  return parsed ? new Date(parsed.seconds * 1000) : undefined
}
