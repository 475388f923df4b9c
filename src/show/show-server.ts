import { readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import type { ResolvedPipeline } from '../config/resolve-pipeline.js'
import { ThenaSyncError } from '../errors.js'
import type { DestinationSession } from '../load/destination.js'
import { html } from './html.js'
import { SHOW_PAGES, layout } from './page-layout.js'
import type { Page, ShowPath } from './page-layout.js'
import {
  chartsPage,
  dataPage,
  overviewPage,
  pickPipeline,
  rejectsPage,
  resourcePage,
  runsPage,
} from './show-pages.js'
import type { ShowContext } from './show-pages.js'
import { SHOW_SCRIPT } from './show-script.js'

/** Seconds after which a page that found the warehouse busy tries again. */
export const BUSY_RETRY_SECONDS = 2

/** The most a SQL box POST body may hold, in bytes. */
const MAX_BODY_BYTES = 256 * 1024

/**
 * Longest a statement of a `show` session waits for a lock a run holds (Postgres DDL), in ms:
 * beyond, the page says the warehouse is busy and retries instead of waiting on the run.
 */
const SHOW_LOCK_WAIT_MS = 1_000

/** Where and what `show` serves. */
export interface ShowServerOptions {
  readonly pipelines: readonly ResolvedPipeline[]
  /** Interface to listen on; default `127.0.0.1` (this machine only). */
  readonly host?: string
  /** TCP port; default 0 (a free one). */
  readonly port?: number
}

/** A running `show` server. */
export interface ShowServer {
  /** The address to open, e.g. `http://127.0.0.1:53127/`. */
  readonly url: string
  /** Stops accepting requests, ends open ones, and resolves when the server is closed. */
  close(): Promise<void>
}

/** Chart.js's browser build, from the installed package (nothing is fetched from the internet). */
function chartJsSource(): Buffer {
  const main = createRequire(import.meta.url).resolve('chart.js')
  return readFileSync(join(dirname(main), 'chart.umd.min.js'))
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost'])

/** The host part of a Host header (`[::1]:80` → `::1`). */
const hostName = (header: string): string =>
  header.startsWith('[') ? header.slice(1, header.indexOf(']')) : header.replace(/:\d+$/, '')

const SECURITY_HEADERS = {
  // Scripts only from this server (no inline script runs, whatever a record holds); the page's
  // own <style> is inline.
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
} as const

/**
 * Serves the `show` web app: server-rendered pages of each pipeline's warehouse, each read in
 * its own short read-only session, one at a time (a DuckDB file is opened once per process).
 */
export async function startShowServer(options: ShowServerOptions): Promise<ShowServer> {
  const host = options.host ?? '127.0.0.1'
  let chartJs: Buffer | undefined
  let queue: Promise<unknown> = Promise.resolve()
  const read = <T>(
    pipeline: ResolvedPipeline,
    fn: (session: DestinationSession) => Promise<T>,
  ): Promise<T> => {
    const turn = queue.then(async () => {
      // Read-only, never waiting: a run holding the file makes this fail at once as busy.
      const session = await pipeline.destination.connect({
        readOnly: true,
        maxLockWaitMs: SHOW_LOCK_WAIT_MS,
      })
      try {
        return await fn(session)
      } finally {
        await session.close()
      }
    })
    queue = turn.catch(() => undefined)
    return turn
  }

  const page = async (
    path: ShowPath,
    params: URLSearchParams,
    body?: URLSearchParams,
  ): Promise<Page> => {
    const ctx: ShowContext = { pipelines: options.pipelines, read, now: new Date() }
    if (path === '/') return overviewPage(ctx)
    const pipeline = pickPipeline(ctx, params)
    if (!pipeline)
      return {
        title: 'Unknown pipeline',
        status: 404,
        body: html`<h1>Unknown pipeline</h1>
          <p class="error">
            No pipeline ${params.get('pipeline')} here; served:
            ${options.pipelines.map((p) => p.name).join(', ')}.
          </p>`,
      }
    if (path === '/runs') return runsPage(ctx, pipeline)
    if (path === '/resource') return resourcePage(ctx, pipeline, params.get('resource'))
    if (path === '/rejects') return rejectsPage(ctx, pipeline)
    if (path === '/data') return dataPage(ctx, pipeline, body?.get('sql') ?? params.get('sql'))
    return chartsPage(ctx, pipeline)
  }

  const respond = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://show.invalid')
    // A page of another site that makes the browser ask this server by a name of its own
    // (DNS rebinding) gets nothing, when the server listens on this machine only.
    if (LOOPBACK.has(host) && !LOOPBACK.has(hostName(req.headers.host ?? ''))) {
      res.writeHead(421, { 'content-type': 'text/plain; charset=utf-8' })
      res.end('show answers only to 127.0.0.1 / localhost')
      return
    }
    if (url.pathname === '/assets/chart.umd.min.js') {
      chartJs ??= chartJsSource()
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', ...SECURITY_HEADERS })
      res.end(chartJs)
      return
    }
    if (url.pathname === '/assets/show.js') {
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', ...SECURITY_HEADERS })
      res.end(SHOW_SCRIPT)
      return
    }
    const path = SHOW_PAGES.find((p) => p.path === url.pathname)?.path
    if (
      !path ||
      (req.method !== 'GET' &&
        req.method !== 'HEAD' &&
        !(req.method === 'POST' && path === '/data'))
    ) {
      res.writeHead(path ? 405 : 404, { 'content-type': 'text/plain; charset=utf-8' })
      res.end(path ? 'method not allowed' : 'not found')
      return
    }
    const form = req.method === 'POST' ? await formBody(req) : undefined
    if (form === null) {
      // Not read to its end: the connection cannot carry another request.
      res.writeHead(413, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' })
      res.end(`the SQL box takes at most ${MAX_BODY_BYTES / 1024} KiB`)
      return
    }
    // SQL that a page of another site made the browser send is not run (see `fromElsewhere`).
    const refused =
      path === '/data' &&
      (form?.has('sql') === true || url.searchParams.has('sql')) &&
      fromElsewhere(req)
    let result: Page
    try {
      result = refused ? elsewherePage() : await page(path, url.searchParams, form)
    } catch (error) {
      result = failurePage(error)
    }
    const text = layout(result, path, queryOf(url.searchParams))
    res.writeHead(result.status ?? 200, {
      'content-type': 'text/html; charset=utf-8',
      ...SECURITY_HEADERS,
      ...(result.status === 503 && { 'retry-after': String(BUSY_RETRY_SECONDS) }),
    })
    res.end(req.method === 'HEAD' ? undefined : text)
  }

  const server: Server = createServer((req, res) => {
    respond(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' })
      res.end(error instanceof Error ? error.message : String(error))
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const { port } = server.address() as AddressInfo
  const shown = host.includes(':') ? `[${host}]` : host
  return {
    url: `http://${shown}:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

/** The pipeline parameter carried over to the other pages' links. */
const queryOf = (params: URLSearchParams): string => {
  const pipeline = params.get('pipeline')
  return pipeline === null ? '' : `?${new URLSearchParams({ pipeline }).toString()}`
}

/**
 * Whether the browser sent `req` for a page of another site (a form, an image, a link there):
 * such a page cannot read the answer, but it could still make the SQL box run a statement
 * (one that holds the warehouse for minutes, or reads all memory). The browser says where a
 * request comes from in `Sec-Fetch-Site` (`none` for an address typed or bookmarked), and an
 * older one at least in `Origin` for a form it POSTs.
 */
function fromElsewhere(req: IncomingMessage): boolean {
  const site = req.headers['sec-fetch-site']
  if (site !== undefined) return site !== 'same-origin' && site !== 'none'
  const origin = req.headers.origin
  return origin !== undefined && origin !== `http://${req.headers.host ?? ''}`
}

/** The answer to SQL sent from another site: nothing is run. */
const elsewherePage = (): Page => ({
  title: 'Not run',
  status: 403,
  body: html`<h1>Not run</h1>
    <p class="error" id="sql-elsewhere">
      The SQL box runs only statements sent from its own page: this one came from another site, and
      was not run. Open <a href="/data">Data</a> and run it there.
    </p>`,
})

/** A page for what went wrong: busy (a run holds the warehouse) retries by itself. */
function failurePage(error: unknown): Page {
  if (error instanceof ThenaSyncError && error.code === 'destination_busy')
    return {
      title: 'Busy',
      status: 503,
      refreshSeconds: BUSY_RETRY_SECONDS,
      body: html`<h1>Busy</h1>
        <p class="notice" id="busy">
          The ${error.message.startsWith('duckdb:') ? 'file' : 'warehouse'} is busy (a run is in
          progress), retrying every ${BUSY_RETRY_SECONDS} s.
        </p>
        <p class="muted">${error.message}</p>`,
    }
  const message = error instanceof Error ? error.message : String(error)
  return {
    title: 'Error',
    status: 500,
    body: html`<h1>Could not read the warehouse</h1>
      <p class="error">${message}</p>`,
  }
}

/**
 * A urlencoded form body; null when it is longer than `MAX_BODY_BYTES`. Reading stops there,
 * without destroying the request (that would reset the connection before the answer): a
 * statement cut short is never run, since its end may be what makes it the one intended.
 */
function formBody(req: IncomingMessage): Promise<URLSearchParams | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    const onData = (chunk: Buffer) => {
      size += chunk.length
      if (size <= MAX_BODY_BYTES) return void chunks.push(chunk)
      req.off('data', onData)
      req.pause()
      resolve(null)
    }
    req.on('data', onData)
    req.once('end', () => resolve(new URLSearchParams(Buffer.concat(chunks).toString('utf8'))))
    req.once('error', reject)
  })
}
