import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { ConfigError } from '../errors.js'
import type { RunMetrics } from './run-metrics.js'
import type { ScheduleHealth } from './schedule-health.js'

/** Where the metrics server listens, and the names its settings were read under (for errors). */
export interface MetricsListen {
  /** 0 to 65535; 0 takes any free port (the daemon logs the one it got). */
  readonly port: number
  readonly host: string
  /** `--metrics-port` or `THENA_METRICS_PORT`: what an error names. */
  readonly portField: string
  /** `--metrics-host` or `THENA_METRICS_HOST`. */
  readonly hostField: string
}

/** A listening metrics server. */
export interface MetricsServer {
  /** `http://host:port`, with the port actually bound. */
  readonly url: string
  close(): Promise<void>
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost'])

/** The host part of a Host header (`[::1]:9464` → `::1`). */
const hostName = (header: string): string =>
  header.startsWith('[') ? header.slice(1, header.indexOf(']')) : header.replace(/:\d+$/, '')

/**
 * The value of `--metrics-port` / `THENA_METRICS_PORT` as a port; throws the one-line
 * ConfigError naming `field` otherwise.
 */
export function parseMetricsPort(text: string, field: string): number {
  const port = /^\d{1,5}$/.test(text.trim()) ? Number(text.trim()) : NaN
  if (!(port >= 0 && port <= 65535))
    throw new ConfigError(
      `${field}: expected a port number from 1 to 65535 (0: any free port), got \`${text.slice(0, 40)}\``,
    )
  return port
}

/**
 * Serves `/metrics` (Prometheus text from `metrics`' own registry) and `/healthz` (200 or 503
 * with the JSON `HealthReport`). Resolves once listening; a port in use, a port the process may
 * not bind, or a host it cannot listen on is a one-line ConfigError naming the setting.
 */
export async function startMetricsServer(
  listen: MetricsListen,
  metrics: RunMetrics,
  health: ScheduleHealth,
): Promise<MetricsServer> {
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname
    // Listening on this machine only, it answers only requests addressed to it: a page of
    // another site that makes a browser ask by a name of its own (DNS rebinding) gets nothing.
    if (LOOPBACK.has(listen.host) && !LOOPBACK.has(hostName(req.headers.host ?? ''))) {
      res.writeHead(421, { 'content-type': 'text/plain' }).end('only 127.0.0.1 / localhost\n')
      return
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end()
      return
    }
    if (path === '/metrics') {
      metrics.metrics().then(
        (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
        () => res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics unavailable\n'),
      )
      return
    }
    if (path === '/healthz') {
      const report = health.check()
      res
        .writeHead(report.status === 'ok' ? 200 : 503, { 'content-type': 'application/json' })
        .end(JSON.stringify(report))
      return
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('try /metrics or /healthz\n')
  })
  // A scrape must not keep a stopping daemon alive.
  server.keepAliveTimeout = 1000
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => reject(listenError(error, listen)))
    server.listen(listen.port, listen.host, () => resolve())
  })
  const { port } = server.address() as AddressInfo
  const host = listen.host.includes(':') ? `[${listen.host}]` : listen.host
  return {
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

function listenError(error: NodeJS.ErrnoException, listen: MetricsListen): ConfigError {
  const at = `${listen.host}:${listen.port}`
  switch (error.code) {
    case 'EADDRINUSE':
      return new ConfigError(
        `${listen.portField}: port ${listen.port} on ${listen.host} is in use (another daemon?); choose a free port`,
      )
    case 'EACCES':
      return new ConfigError(
        `${listen.portField}: not allowed to listen on ${at} (ports below 1024 need privileges); choose a port from 1024 to 65535`,
      )
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new ConfigError(
        `${listen.hostField}: cannot listen on \`${listen.host}\` (not an address of this machine); use 127.0.0.1, 0.0.0.0 or one of its addresses`,
      )
    default:
      return new ConfigError(
        `${listen.portField}: cannot listen on ${at}: ${error.code ?? error.message}`,
      )
  }
}
