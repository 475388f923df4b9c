import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { request } from 'undici'

export interface RawResponse {
  readonly status: number
  readonly headers: Record<string, string | string[] | undefined>
  readonly text: string
}

/** One GET against a simulator, the body read as text (tests parse it themselves). */
export async function get(base: string, path: string, token?: string): Promise<RawResponse> {
  const res = await request(`${base}${path}`, {
    method: 'GET',
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
  })
  return { status: res.statusCode, headers: res.headers, text: await res.body.text() }
}

export async function getJson<T = unknown>(base: string, path: string, token?: string): Promise<T> {
  const res = await get(base, path, token)
  if (res.status !== 200) throw new Error(`GET ${path} -> ${res.status}: ${res.text.slice(0, 200)}`)
  return JSON.parse(res.text) as T
}

/** A minimal stand-in for the API, for shapes the simulator never serves (e.g. broken JSON). */
export interface StandInApi {
  readonly url: string
  /** Any token is accepted; this is the one to configure. */
  readonly token: string
  close(): void
}

/**
 * Serves JSON by path: `routes` maps a path to its body (a string is sent as is); every
 * other path answers `{"data": []}`. `onRequest` sees each request URL.
 */
export async function startStandInApi(
  routes: Readonly<Record<string, unknown>>,
  onRequest: (url: URL) => void = () => undefined,
): Promise<StandInApi> {
  const server = createServer((req, res) => {
    const url = new URL(req.url!, 'http://stand-in')
    onRequest(url)
    res.setHeader('content-type', 'application/json')
    const body = routes[url.pathname]
    res.end(
      body === undefined ? '{"data": []}' : typeof body === 'string' ? body : JSON.stringify(body),
    )
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return { url: `http://127.0.0.1:${port}`, token: 'stand-in-token', close: () => server.close() }
}
