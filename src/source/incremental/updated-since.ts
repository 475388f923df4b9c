import { z } from 'zod'
import type { IncrementalStrategy } from './strategy.js'
import { settingsParser } from './strategy.js'
import { WalkPlan } from './walk-plan.js'

const settingsSchema = z.strictObject({
  type: z.literal('updated_since'),
  /** Field holding each record's last update time (ISO 8601 or epoch seconds). */
  field: z.string().min(1),
  /** Query parameter the API filters on (`updated_since`, `modifiedAfter`, ...). */
  param: z.string().min(1),
  /** How the value is sent: an ISO 8601 string or epoch seconds. Default `iso`. */
  format: z.enum(['iso', 'unix']).default('iso'),
  /** Seconds subtracted from the newest update seen, for clocks and late writes. Default 60. */
  lagSeconds: z
    .number()
    .int()
    .min(0)
    .max(86_400 * 30)
    .default(60),
  /** Value sent on the first run (ISO); default none: the first run reads everything. */
  initial: z.iso.datetime({ offset: true }).optional(),
})

/** Settings of `updated_since`. */
export type UpdatedSinceSettings = z.output<typeof settingsSchema>

/** The update time of a record in ms: an ISO string or epoch seconds (or ms). */
function updatedAtOf(record: unknown, field: string): number | undefined {
  const value =
    typeof record === 'object' && record !== null && !Array.isArray(record)
      ? (record as Record<string, unknown>)[field]
      : undefined
  if (typeof value === 'number' && Number.isFinite(value))
    return value > 1e11 ? value : value * 1000
  const ms = typeof value === 'string' ? Date.parse(value) : NaN
  return Number.isNaN(ms) ? undefined : ms
}

/**
 * For APIs that filter by update time (dlt's `incremental`, Airbyte's `DatetimeBasedCursor`):
 * each run sends the newest update time committed so far, minus a lag, as a request parameter
 * and walks the changes from the first page. The value moves only when a walk completes, so a
 * run stopped midway re-reads from the same point (merges are idempotent). `reconcile` sends
 * no filter. Its state is `incremental: { since, seen }` (ISO).
 */
export const updatedSince: IncrementalStrategy<UpdatedSinceSettings> = {
  type: 'updated_since',
  parse: settingsParser(settingsSchema),
  plan: (resource, settings, { mode, state, now }) => {
    const stored = state?.incremental
    const since =
      typeof stored?.since === 'string'
        ? Date.parse(stored.since)
        : Date.parse(settings.initial ?? '')
    const query: Record<string, string> = {}
    if (mode !== 'reconcile' && Number.isFinite(since)) {
      const at = since - settings.lagSeconds * 1000
      query[settings.param] =
        settings.format === 'unix' ? String(Math.floor(at / 1000)) : new Date(at).toISOString()
    }
    let newest = typeof stored?.seen === 'string' ? Date.parse(stored.seen) : NaN
    return new WalkPlan(resource, state, {
      start: undefined,
      query,
      writeState: true,
      savePosition: false,
      onRecord: (record) => {
        // A record dated in the future would move the filter past every real update to come.
        const at = Math.min(updatedAtOf(record, settings.field) ?? NaN, now)
        if (!Number.isNaN(at) && !(at <= newest)) newest = at
      },
      finishState: (next, last) => {
        const seen = Number.isFinite(newest) ? new Date(newest).toISOString() : undefined
        const done = last && seen !== undefined && !(Date.parse(seen) <= since)
        const sinceIso = done
          ? seen
          : Number.isFinite(since)
            ? new Date(since).toISOString()
            : undefined
        return {
          ...next,
          incremental: { ...(sinceIso && { since: sinceIso }), ...(seen && { seen }) },
        }
      },
    })
  },
}
