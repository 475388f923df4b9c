import type { IncrementalStrategy } from './strategy.js'
import { noSettings } from './no-settings.js'
import { coversAnchor, WalkPlan } from './walk-plan.js'

/**
 * Resumes where the last commit left off (decisions #5): new records only. For positions that
 * shift (page numbers), the saved page is verified against its anchor first. `reconcile`
 * walks from the start.
 */
export const resume: IncrementalStrategy<Record<string, never>> = {
  type: 'resume',
  parse: noSettings,
  plan: (resource, _config, { mode, state }) => {
    const anchor = mode === 'reconcile' ? undefined : state?.anchor
    return new WalkPlan(resource, state, {
      start: mode === 'reconcile' ? undefined : resource.paginator.parsePosition(state?.position),
      writeState: true,
      savePosition: true,
      ...(anchor && { covers: (records) => coversAnchor(records, resource, anchor) }),
    })
  },
}
