import type { IncrementalStrategy } from './strategy.js'
import { noSettings } from './no-settings.js'
import { WalkPlan } from './walk-plan.js'

/**
 * What `backfill` does with any resource: walks from the start and keeps the records created
 * in [from, to), stopping at the first one past `to` (the list is oldest first; decisions
 * #19). The range goes to the API too when it declares `backfillParams`. It never moves the
 * live state, so digests of pages an earlier run loaded are dropped first: the rows they
 * vouched for may be rewritten.
 */
export const createdRange: IncrementalStrategy<Record<string, never>> = {
  type: 'created_range',
  parse: noSettings,
  plan: (resource, _config, { state, range }) => {
    const field = resource.createdAtField
    const { from, to } = range ?? {}
    const query: Record<string, string> = {}
    if (field && from && resource.backfillParams.from)
      query[resource.backfillParams.from] = from.toISOString()
    if (field && to && resource.backfillParams.to)
      query[resource.backfillParams.to] = to.toISOString()
    const forget = state?.lookback?.some((p) => p.digest !== undefined)
    return new WalkPlan(resource, state, {
      start: undefined,
      query,
      writeState: false,
      savePosition: false,
      ...(field && {
        range: {
          field,
          from: from?.getTime(),
          to: to?.getTime(),
          order: resource.order ?? 'oldest_first',
        },
      }),
      ...(forget && {
        before: { ...state!, lookback: state!.lookback!.map(({ digest: _, ...p }) => p) },
      }),
    })
  },
}
