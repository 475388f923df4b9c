import { z } from 'zod'
import type { IncrementalStrategy } from './strategy.js'
import { settingsParser } from './strategy.js'
import { WalkPlan } from './walk-plan.js'

const HOUR_MS = 3_600_000

/** A window choice such as `1d`, `2w`, `3m`: days, weeks or calendar months back. */
const CHOICE = /^(\d{1,3})([dwm])$/

const settingsSchema = z.strictObject({
  type: z.literal('page_digest'),
  /**
   * A coarse "since" window the list takes (Platform tickets' `dateRange`): `run` reads only
   * the smallest window that covers everything since its last complete walk, and the whole
   * list every `fullEveryHours`; `reconcile` and `backfill` always read it whole. Default none
   * (every run reads the whole list).
   */
  window: z
    .strictObject({
      /** Query parameter of the window, e.g. `dateRange`. */
      param: z.string().min(1),
      /**
       * Its values, each N days (`1d`), weeks (`2w`) or calendar months (`3m`) back from
       * 00:00 UTC today. At least one.
       */
      choices: z
        .array(z.string().regex(CHOICE, 'expected a window such as `1d`, `2w` or `3m`'))
        .min(1),
      /** Hours between whole-list walks (updates to records older than the window). Default 24. */
      fullEveryHours: z
        .number()
        .min(0)
        .max(24 * 90)
        .default(24),
      /** Minutes of slack before the last walk's start, for clocks and late writes. Default 10. */
      lagMinutes: z
        .number()
        .min(0)
        .max(24 * 60)
        .default(10),
    })
    .optional(),
})

/** Settings of `page_digest`. */
export type PageDigestSettings = z.output<typeof settingsSchema>

/** Where a window choice starts, in ms: 00:00 UTC N days, weeks or calendar months back. */
export function windowStart(choice: string, now: number): number {
  const [, n, unit] = CHOICE.exec(choice)!
  const today = new Date(now)
  const y = today.getUTCFullYear()
  const m = today.getUTCMonth()
  const d = today.getUTCDate()
  if (unit === 'm') return Date.UTC(y, m - Number(n), d)
  return Date.UTC(y, m, d - Number(n) * (unit === 'w' ? 7 : 1))
}

/** The page digests a `page_digest` state holds, by position key. */
function knownPages(incremental: Record<string, unknown> | undefined): Map<string, string> {
  const pages = incremental?.pages
  const known = new Map<string, string>()
  if (typeof pages !== 'object' || pages === null || Array.isArray(pages)) return known
  for (const [at, digest] of Object.entries(pages))
    if (typeof digest === 'string') known.set(at, digest)
  return known
}

const timeOf = (value: unknown): number =>
  typeof value === 'string' ? Date.parse(value) : Number.NaN

/**
 * For lists with neither an updated-since filter nor an order to resume by (Thena Platform's
 * tickets): a `run` reads the whole list and merges only the pages whose records differ from
 * what was committed at that position (a digest per page, kept in the state); an unchanged
 * page costs its request and nothing else, and its records' children are not read again.
 * With `window`, most runs read only the recent part of the list (see the setting).
 * `reconcile` reads and merges every page.
 */
export const pageDigest: IncrementalStrategy<PageDigestSettings> = {
  type: 'page_digest',
  parse: settingsParser(settingsSchema),
  plan: (resource, settings, { mode, state, now }) => {
    const incremental = state?.incremental
    const window = settings.window
    let choice: string | undefined
    if (window && mode === 'run') {
      const full = timeOf(incremental?.fullAt)
      const last = timeOf(incremental?.walkedAt)
      const due = !(now - full < window.fullEveryHours * HOUR_MS)
      if (!due && Number.isFinite(last)) {
        const since = last - window.lagMinutes * 60_000
        choice = [...window.choices]
          .sort((a, b) => windowStart(b, now) - windowStart(a, now))
          .find((c) => windowStart(c, now) <= since)
      }
    }
    // Digests of a window's pages are its own: page 2 of `1d` is not page 2 of the list.
    const prefix = choice === undefined ? '' : `window:${window!.param}=${choice} `
    const started = new Date(now).toISOString()
    return new WalkPlan(resource, state, {
      start: undefined,
      query: choice === undefined ? {} : { [window!.param]: choice },
      writeState: true,
      savePosition: false,
      ...(choice !== undefined && { partial: true }),
      digestAll: {
        known: knownPages(incremental),
        mergeAll: mode === 'reconcile',
        prefix,
      },
      finishState: (next, last) =>
        last && window
          ? {
              ...next,
              incremental: {
                ...next.incremental,
                walkedAt: started,
                ...(choice === undefined && { fullAt: started }),
              },
            }
          : next,
    })
  },
}
