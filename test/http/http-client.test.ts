import { afterEach, describe, expect, it } from 'vitest'
import { HttpClient } from '../../src/http/http-client.js'
import { bearerAuth } from '../../src/source/auth.js'
import { startStandInApi } from '../helpers/http.js'
import type { StandInApi } from '../helpers/http.js'

let api: StandInApi | undefined
afterEach(() => api?.close())

describe('a request undici refuses to send', () => {
  // undici leaks a pool slot per refused request: once `concurrency` of them were retried,
  // the next one never settled and the process exited 13 without a word.
  for (const [what, token, path] of [
    ['a token no header can carry', 'sim\u2011token', '/rest/v2/requests'],
    ['a resource path with a space', 'tok', '/rest/v2/my requests'],
  ] as const) {
    it(`${what}: fails at once, not retried`, async () => {
      api = await startStandInApi({})
      const client = new HttpClient({
        baseUrl: api.url,
        auth: bearerAuth(token),
        concurrency: 2,
        backoffMs: 1,
      })
      const started = Date.now()
      const error = await client.get(path).then(
        () => undefined,
        (e: unknown) => e as Error & { code?: string },
      )
      await client.close()
      expect(error?.code).toBe('http_request_invalid')
      expect(error?.message).toMatch(
        /^GET http:\/\/127\.0\.0\.1:\d+\/rest\/v2\/.+ cannot be sent: /,
      )
      expect(client.stats.retries).toBe(0)
      expect(Date.now() - started).toBeLessThan(2000)
    })
  }
})
