import { ConfigError } from '../../errors.js'
import type { IncrementalStrategy } from './strategy.js'
import { createdAtOf, positionKey } from './strategy.js'
import { noSettings } from './no-settings.js'
import { coversAnchor, WalkPlan } from './walk-plan.js'

const DAY_MS = 86_400_000

/**
 * For lists served oldest first with no updated-since filter (bolt): `run` re-reads the pages
 * holding records created within the lookback window, to pick up their updates, and merges
 * only pages whose digest changed since they were committed (decisions #17, #29); without such
 * pages it resumes at the committed position. `reconcile` walks from the start.
 */
export const pageLookback: IncrementalStrategy<Record<string, never>> = {
  type: 'page_lookback',
  parse: noSettings,
  plan: (resource, _config, { mode, state, now }) => {
    const field = resource.createdAtField
    if (!field)
      throw new ConfigError(
        `resource ${resource.name}: incremental \`page_lookback\` needs \`createdAtField\` (the field holding each record's creation time)`,
      )
    const cutoff = resource.lookbackDays > 0 ? now - resource.lookbackDays * DAY_MS : undefined
    const lookback = cutoff === undefined ? undefined : { field, cutoff }
    const base = { writeState: true, savePosition: true, ...(lookback && { lookback }) }
    if (mode === 'reconcile') return new WalkPlan(resource, state, { ...base, start: undefined })
    const pages =
      cutoff === undefined
        ? []
        : (state?.lookback ?? []).filter((p) => Date.parse(p.lastCreatedAt) >= cutoff)
    if (pages.length === 0) {
      const anchor = state?.anchor
      return new WalkPlan(resource, state, {
        ...base,
        start: resource.paginator.parsePosition(state?.position),
        ...(anchor && { covers: (records) => coversAnchor(records, resource, anchor) }),
      })
    }
    const unchanged = new Map<string, string>()
    for (const page of pages)
      if (page.digest !== undefined) unchanged.set(positionKey(page.position), page.digest)
    return new WalkPlan(resource, state, {
      ...base,
      start: resource.paginator.parsePosition(pages[0]!.position),
      unchanged,
      // The page must start before the window, or some of the window's records are skipped.
      covers: (records) => (createdAtOf(records[0], field) ?? Infinity) < cutoff!,
    })
  },
}
