import { trace } from '@opentelemetry/api'
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base'
import { redactor } from '../redactor.js'
import { packageVersion } from '../version.js'
import { spanMessage } from './run-trace.js'

/**
 * The CLI's side of traces (docs/decisions.md #75, #76): with `OTEL_EXPORTER_OTLP_ENDPOINT`
 * or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` set, a `BasicTracerProvider` exporting in batches
 * with OTLP over HTTP (JSON) is registered before the command runs, and flushed and shut down
 * after it, within a short deadline. The SDK is loaded only then: without the variable the
 * engine's spans are the API's no-ops.
 */

/**
 * Time allowed to the exporter for one export, and (plus `SHUTDOWN_GRACE_MS`) to the final
 * flush, in ms, unless `OTEL_EXPORTER_OTLP_TRACES_TIMEOUT` or `OTEL_EXPORTER_OTLP_TIMEOUT`
 * says otherwise. Short, so that a collector that is down delays the end of a command by this
 * much at most (the exporter's own default is 10 s).
 */
export const EXPORT_TIMEOUT_MS = 2000

/** What the final flush may take beyond one export's timeout. */
const SHUTDOWN_GRACE_MS = 500

/** The service name spans are exported under, unless `OTEL_SERVICE_NAME` names another. */
export const DEFAULT_SERVICE_NAME = 'thena-sync'

/** Registered tracing: `shutdown` flushes what is left and unregisters it. */
export interface Tracing {
  /**
   * Exports the spans still queued and shuts the provider down, within the deadline; never
   * throws. Reports at most one line (through `log`) when some spans could not be exported.
   */
  shutdown(): Promise<void>
}

type Env = Readonly<Record<string, string | undefined>>

const setting = (env: Env, name: string): string | undefined => {
  const value = env[name]?.trim()
  return value ? value : undefined
}

/** The endpoint spans go to, as the exporter computes it; undefined when traces are off. */
function endpointOf(env: Env): string | undefined {
  if (setting(env, 'OTEL_SDK_DISABLED')?.toLowerCase() === 'true') return undefined
  const traces = setting(env, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT')
  if (traces) return traces
  const base = setting(env, 'OTEL_EXPORTER_OTLP_ENDPOINT')
  return base && `${base.replace(/\/+$/, '')}/v1/traces`
}

/** The export timeout the environment sets, in ms, if any. */
function timeoutOf(env: Env): number | undefined {
  for (const name of ['OTEL_EXPORTER_OTLP_TRACES_TIMEOUT', 'OTEL_EXPORTER_OTLP_TIMEOUT']) {
    const ms = Number(setting(env, name))
    if (Number.isFinite(ms) && ms > 0) return ms
  }
  return undefined
}

/**
 * The collector's credentials (`OTEL_EXPORTER_OTLP_HEADERS` values, a URL's user and
 * password) join the secrets no output of the process shows.
 */
function redactCollectorSecrets(env: Env, endpoint: URL): void {
  for (const name of ['OTEL_EXPORTER_OTLP_HEADERS', 'OTEL_EXPORTER_OTLP_TRACES_HEADERS']) {
    for (const pair of (setting(env, name) ?? '').split(',')) {
      const at = pair.indexOf('=')
      if (at < 0) continue
      // Percent-encoded or not: the redactor adds the decoded spelling too.
      redactor.add(pair.slice(at + 1).trim())
    }
  }
  redactor.add(endpoint.password)
  redactor.add(endpoint.username)
}

/**
 * Registers the global tracer provider when the environment asks for traces (see the module's
 * comment; the exporter reads its own variables from `process.env`) and returns how to shut it
 * down; undefined, and nothing registered, otherwise. `log` gets the one line said when traces
 * cannot be exported (default stderr).
 */
export async function startTracing(
  log: (line: string) => void = (line) => console.error(line),
): Promise<Tracing | undefined> {
  const env: Env = process.env
  const endpoint = endpointOf(env)
  if (!endpoint) return undefined
  let url: URL
  try {
    url = new URL(endpoint)
  } catch {
    // The exporter would quietly send to localhost instead.
    log(`thena-sync: traces are off: the OTLP endpoint is not a URL (${redactor.redact(endpoint)})`)
    return undefined
  }
  redactCollectorSecrets(env, url)
  const [
    { BasicTracerProvider, BatchSpanProcessor },
    { OTLPTraceExporter },
    { defaultResource, detectResources, envDetector, resourceFromAttributes },
  ] = await Promise.all([
    import('@opentelemetry/sdk-trace-base'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
  ])
  const timeout = timeoutOf(env)
  // The exporter reads the endpoint, the headers and a timeout from the environment itself;
  // a timeout given here would override the variables.
  const otlp = new OTLPTraceExporter(
    timeout === undefined ? { timeoutMillis: EXPORT_TIMEOUT_MS } : {},
  )
  let failure: string | undefined
  const exporter: SpanExporter = {
    export: (spans: ReadableSpan[], done) =>
      otlp.export(spans, (result) => {
        // 0 is ExportResultCode.SUCCESS (@opentelemetry/core, not a dependency of ours).
        if (result.code !== 0) failure ??= spanMessage(result.error ?? 'export failed')
        done(result)
      }),
    shutdown: () => otlp.shutdown(),
    forceFlush: () => otlp.forceFlush(),
  }
  const deadline = (timeout ?? EXPORT_TIMEOUT_MS) + SHUTDOWN_GRACE_MS
  const provider = new BasicTracerProvider({
    // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES (envDetector) win over the defaults.
    resource: defaultResource()
      .merge(
        resourceFromAttributes({
          'service.name': DEFAULT_SERVICE_NAME,
          'service.version': packageVersion(),
        }),
      )
      .merge(detectResources({ detectors: [envDetector] })),
    spanProcessors: [new BatchSpanProcessor(exporter, { exportTimeoutMillis: deadline })],
  })
  trace.setGlobalTracerProvider(provider)
  return {
    async shutdown() {
      let timer: NodeJS.Timeout | undefined
      // Not unref'd: an ESM entry awaiting a promise nothing keeps alive would exit with 13.
      const late = new Promise<'late'>((resolve) => {
        timer = setTimeout(() => resolve('late'), deadline)
      })
      const outcome = await Promise.race([
        provider.shutdown().then(
          () => 'done' as const,
          (error: unknown) => {
            failure ??= spanMessage(error)
            return 'done' as const
          },
        ),
        late,
      ])
      clearTimeout(timer)
      trace.disable()
      const why = failure ?? (outcome === 'late' ? `no answer within ${deadline} ms` : undefined)
      if (why !== undefined)
        log(
          `thena-sync: traces: some spans could not be exported to ${url.origin} (${why}); the command's outcome is not affected`,
        )
    },
  }
}
