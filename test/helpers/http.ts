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
