import type { IncrementalStrategy } from './strategy.js'
import { noSettings } from './no-settings.js'
import { WalkPlan } from './walk-plan.js'

/** Re-reads the whole list every run and merges it; keeps no position (small lists). */
export const fullRefresh: IncrementalStrategy<Record<string, never>> = {
  type: 'full_refresh',
  parse: noSettings,
  plan: (resource, _config, { state }) =>
    new WalkPlan(resource, state, { start: undefined, writeState: true, savePosition: false }),
}
