import { z } from 'zod'
import { toJsonPath } from '../../core/json-path.js'

/** A JSON path in a declaration: `['data', 'next_cursor']` or `'data.next_cursor'`. */
export const jsonPathSchema = z
  .union([z.array(z.string().min(1)), z.string()])
  .transform((path) => [...toJsonPath(path)])

/** A page size: 1 to 10,000. */
export const limitSchema = z.number().int().min(1).max(10_000)

/** A query parameter name. */
export const paramSchema = z.string().min(1)

/** Reads `{ key: non-negative whole number }` back, else undefined. */
export function wholeAt(stored: unknown, key: string): number | undefined {
  if (typeof stored !== 'object' || stored === null) return undefined
  const value = (stored as Record<string, unknown>)[key]
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : undefined
}

/** Reads `{ key: string }` back, else undefined. */
export function stringAt(stored: unknown, key: string): string | undefined {
  if (typeof stored !== 'object' || stored === null) return undefined
  const value = (stored as Record<string, unknown>)[key]
  return typeof value === 'string' && value !== '' ? value : undefined
}
