import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { request } from 'undici'

/** A response to send instead of the one forwarded. */
export interface ScriptedResponse {
  readonly status: number
  readonly headers?: Readonly<Record<string, string>>
  readonly body?: string
}

/** What the script sees of a request: its URL and how many requests to that path came before. */
export interface ScriptedRequest {
  readonly url: URL
  /** 1 for the first request to `url.pathname`, 2 for the second, … */
  readonly nth: number
}

/** An API in front of another (a simulator) whose answers a test can replace. */
export interface ScriptedApi {
  readonly url: string
  readonly token: string
  close(): Promise<void>
}

/**
 * Forwards every request to `target` (same path, query and Authorization), unless `script`
 * answers it: a 429 with `Retry-After: 3600`, a 503, or the forwarded response with extra
 * headers (`forwarded` is passed in). Returning undefined forwards the response as it is.
 */
export async function startScriptedApi(
  target: { readonly url: string; readonly token: string },
  script: (
    req: ScriptedRequest,
    forward: () => Promise<ScriptedResponse>,
  ) => ScriptedResponse | undefined | Promise<ScriptedResponse | undefined>,
): Promise<ScriptedApi> {
  const counts = new Map<string, number>()
  const forward = (url: URL, authorization: string | undefined) => async () => {
    const res = await request(`${target.url}${url.pathname}${url.search}`, {
      method: 'GET',
      headers: authorization === undefined ? {} : { authorization },
    })
    const headers: Record<string, string> = {}
    for (const [name, value] of Object.entries(res.headers))
      if (typeof value === 'string' && name !== 'content-length' && name !== 'connection')
        headers[name] = value
    return { status: res.statusCode, headers, body: await res.body.text() }
  }
  const server = createServer((req, res) => {
    const url = new URL(req.url!, 'http://scripted')
    const nth = (counts.get(url.pathname) ?? 0) + 1
    counts.set(url.pathname, nth)
    const pass = forward(url, req.headers.authorization)
    void (async () => {
      const answer = (await script({ url, nth }, pass)) ?? (await pass())
      res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers })
      res.end(answer.body ?? '')
    })().catch(() => res.destroy())
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    token: target.token,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
