/**
 * One measured run of the `platform` pipeline, in its own process so that its peak RSS and
 * its wall time are its own (as `thena-sync run --pipeline platform` would be): prints one
 * JSON line of figures.
 * argv: baseUrl apiKey destination mode variant
 * `mode` is `run` or `reconcile`; `variant` is `whole` (the declared source: every list read
 * whole) or `window` (tickets read through `dateRange`, whole every 24 hours; decisions #56).
 */
import { resolvePipeline } from '../../src/config/resolve-pipeline.js'
import type { SourceDefinition } from '../../src/source/define-source.js'
import { runPipeline } from '../../src/pipeline/run-pipeline.js'
import type { RunMode } from '../../src/pipeline/run-pipeline.js'
import { limitHeapGrowth } from '../../src/cli/limit-heap-growth.js'
import { platformPipeline, platformSource } from '../../sources/thena-platform/index.js'

// As the CLI does, so that the figures are the product's.
limitHeapGrowth()

const [baseUrl, apiKey, destination, mode, variant] = process.argv.slice(2) as [
  string,
  string,
  string,
  RunMode,
  'whole' | 'window',
]

/** The declared source with tickets read through the `dateRange` window (`resources` can't set it). */
const windowed: SourceDefinition = {
  ...platformSource,
  resources: platformSource.resources.map((r) =>
    r.name === 'tickets'
      ? {
          ...r,
          incremental: {
            type: 'page_digest',
            window: {
              param: 'dateRange',
              choices: ['1d', '2d', '1w', '2w', '3w', '4w', '1m', '3m'],
              fullEveryHours: 24,
            },
          },
        }
      : r,
  ),
}

const pipeline = resolvePipeline(
  {
    pipelines: {
      platform: { ...platformPipeline, ...(variant === 'window' && { source: windowed }) },
    },
  },
  'platform',
  {
    THENA_PLATFORM_API_KEY: apiKey,
    THENA_PLATFORM_BASE_URL: baseUrl,
    THENA_DESTINATION: destination,
  },
)

// The clock and the CPU count start after the modules are loaded (tsx compiling, mostly).
const cpuAtStart = process.cpuUsage()
const started = performance.now()
const result = await runPipeline(pipeline, { mode })
const seconds = (performance.now() - started) / 1000
const cpu = process.cpuUsage(cpuAtStart)
if (result.status !== 'success') throw new Error(`run ${result.status}: ${result.error?.message}`)
console.log(
  JSON.stringify({
    requests: result.requests,
    retries: result.retries,
    records: result.records,
    unchanged: result.unchanged,
    deleted: result.deleted ?? 0,
    resources: Object.fromEntries(
      result.resources.map((r) => [
        r.resource,
        { pages: r.pages, records: r.records, unchanged: r.unchanged },
      ]),
    ),
    seconds,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
  }),
)
