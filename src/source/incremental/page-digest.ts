import type { IncrementalStrategy } from './strategy.js'
import { noSettings } from './no-settings.js'
import { WalkPlan } from './walk-plan.js'

/** The page digests a `page_digest` state holds, by position key. */
function knownPages(incremental: Record<string, unknown> | undefined): Map<string, string> {
  const pages = incremental?.pages
  const known = new Map<string, string>()
  if (typeof pages !== 'object' || pages === null || Array.isArray(pages)) return known
  for (const [at, digest] of Object.entries(pages))
    if (typeof digest === 'string') known.set(at, digest)
  return known
}

/**
 * For lists with neither an updated-since filter nor an order to resume by (Thena Platform's
 * tickets): every `run` reads the whole list, and merges only the pages whose records differ
 * from what was committed at that position (a digest per page, kept in the state); an
 * unchanged page costs its request and nothing else, and its records' children are not read
 * again. `reconcile` merges every page.
 */
export const pageDigest: IncrementalStrategy<Record<string, never>> = {
  type: 'page_digest',
  parse: noSettings,
  plan: (resource, _config, { mode, state }) =>
    new WalkPlan(resource, state, {
      start: undefined,
      writeState: true,
      savePosition: false,
      digestAll: { known: knownPages(state?.incremental), mergeAll: mode === 'reconcile' },
    }),
}
