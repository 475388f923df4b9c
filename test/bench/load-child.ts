/**
 * One measured run, in its own process so that its peak RSS is its own: loads the requests of
 * a running simulator into a fresh warehouse and prints one JSON line of figures.
 * argv: baseUrl token destination [batchPages]
 * `destination` is a THENA_DESTINATION value, or `fetch-only`: the same walk through the same
 * HTTP engine (keep-alive, prefetch of the next page, UTF-8 decode, JSON.parse), with no
 * validation, normalization or load. That is the ceiling any load through this engine has.
 */
import { resolvePipeline } from '../../src/config/resolve-pipeline.js'
import { runPipeline } from '../../src/pipeline/run-pipeline.js'
import { limitHeapGrowth } from '../../src/cli/limit-heap-growth.js'
import { HttpClient } from '../../src/http/http-client.js'
import { walkResource } from '../../src/extract/walk-resource.js'

// As the CLI does, so that the figures are the product's.
limitHeapGrowth()

const [baseUrl, token, destination, batchPages] = process.argv.slice(2) as [
  string,
  string,
  string,
  string?,
]
const fetchOnly = destination === 'fetch-only'
const pipeline = resolvePipeline(
  {
    pipelines: {
      bench: {
        token,
        baseUrl,
        destination: fetchOnly ? 'duckdb::memory:' : destination,
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
  // Only the DuckDB settings come from the environment, so that a bench can compare them.
  {
    ...(process.env.THENA_DUCKDB_MEMORY_LIMIT && {
      THENA_DUCKDB_MEMORY_LIMIT: process.env.THENA_DUCKDB_MEMORY_LIMIT,
    }),
  },
)

async function walkOnly(): Promise<{ requests: number; records: number }> {
  const resource = pipeline.resources.find((r) => r.name === 'requests')!
  const client = new HttpClient({
    ...pipeline.http,
    ...pipeline.client,
    ...pipeline.client.rateLimit,
  })
  let records = 0
  const pages = walkResource(
    client,
    {
      path: resource.path,
      recordsPath: resource.recordsPath,
      paginator: resource.resolvedPaginator,
    },
    undefined,
  )
  for await (const page of pages) records += page.records.length
  await client.close()
  return { requests: records, records }
}

// The clock and the CPU count start together, after the modules are loaded: the startup's CPU
// (tsx compiling, mostly) happens outside the timed wall time, so it is reported on its own.
const cpuAtStart = process.cpuUsage()
const started = performance.now()
let counts: { requests: number; records: number; unchanged?: number }
if (fetchOnly) counts = await walkOnly()
else {
  const result = await runPipeline(pipeline)
  if (result.status !== 'success') throw new Error(`run ${result.status}: ${result.error?.message}`)
  const requests = result.resources.find((r) => r.resource === 'requests')!
  counts = { requests: requests.records, records: result.records, unchanged: requests.unchanged }
}
const seconds = (performance.now() - started) / 1000
const cpu = process.cpuUsage(cpuAtStart)
console.log(
  JSON.stringify({
    ...counts,
    seconds,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    startupCpuSeconds: (cpuAtStart.user + cpuAtStart.system) / 1e6,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
  }),
)
