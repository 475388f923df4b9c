/**
 * One measured run, in its own process so that its peak RSS is its own: loads the requests of
 * a running simulator into a fresh warehouse and prints one JSON line of figures.
 * argv: baseUrl token destination (a THENA_DESTINATION value) [batchPages]
 */
import { resolvePipeline } from '../../src/config/resolve-pipeline.js'
import { runPipeline } from '../../src/pipeline/run-pipeline.js'
import { limitHeapGrowth } from '../../src/cli/limit-heap-growth.js'

// As the CLI does, so that the figures are the product's.
limitHeapGrowth()

const [baseUrl, token, destination, batchPages] = process.argv.slice(2) as [
  string,
  string,
  string,
  string?,
]
const pipeline = resolvePipeline(
  {
    pipelines: {
      bench: {
        token,
        baseUrl,
        destination,
        ...(batchPages && { batchPages: Number(batchPages) }),
        resources: {
          requests_v3: { enabled: false },
          users: { enabled: false },
          custom_fields: { enabled: false },
          sub_statuses: { enabled: false },
        },
      },
    },
  },
  'bench',
  {},
)
const started = performance.now()
const result = await runPipeline(pipeline)
const seconds = (performance.now() - started) / 1000
if (result.status !== 'success') throw new Error(`run ${result.status}: ${result.error?.message}`)
const requests = result.resources.find((r) => r.resource === 'requests')!.records
console.log(
  JSON.stringify({
    requests,
    records: result.records,
    seconds,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
  }),
)
