/**
 * `skipOn` (a tier 403) at every point of a run: on a parent's later page after batches were
 * committed, on a child only, on everything, in a reconcile (whose deletes must leave a
 * skipped resource's rows alone). On every destination.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { resolvePipeline } from '../../src/config/resolve-pipeline.js'
import type { ResolvedPipeline } from '../../src/config/resolve-pipeline.js'
import { runPipeline } from '../../src/pipeline/run-pipeline.js'
import { defineResource, defineSource } from '../../src/source/define-source.js'
import { ChangingApi } from '../helpers/changing-api.js'
import { DESTINATION_KINDS } from '../helpers/destinations.js'
import { rowsOf } from '../helpers/truth.js'

const source = defineSource({
  name: 'changing',
  client: {
    baseUrl: 'http://127.0.0.1:1',
    auth: { type: 'none' },
    paginator: { type: 'page', firstPage: 0, limit: 2 },
  },
  resourceDefaults: { skipOn: [{ status: 403 }] },
  resources: [
    defineResource({
      name: 'tickets',
      path: '/tickets',
      schema: z.looseObject({ id: z.string(), updatedAt: z.string() }),
      recordsPath: 'data',
      primaryKey: 'id',
      incremental: 'page_digest',
      updatedAtField: 'updatedAt',
    }),
    defineResource({
      name: 'comments',
      path: '/comments',
      params: { ticketId: '{ticketId}' },
      schema: z.looseObject({ id: z.string() }),
      recordsPath: 'data',
      primaryKey: 'id',
      parent: { resource: 'tickets', fields: { ticketId: 'id' }, compositeKey: false },
      incremental: 'full_refresh',
    }),
    // Another list, read whatever happens to the others.
    defineResource({
      name: 'accounts',
      path: '/accounts',
      schema: z.looseObject({ id: z.string() }),
      recordsPath: 'data',
      primaryKey: 'id',
    }),
  ],
})

const TIER = {
  status: 403,
  body: '{"statusCode":403,"message":"This endpoint is only available for standard and enterprise tier organizations.","error":"Forbidden"}',
}

let api: ChangingApi | undefined
afterEach(async () => {
  await api?.close()
  api = undefined
})

for (const kind of DESTINATION_KINDS) {
  describe(`skipOn into ${kind.name}`, () => {
    const start = async (): Promise<[ChangingApi, ResolvedPipeline]> => {
      api = await new ChangingApi().start()
      api.seed(6)
      const pipeline = resolvePipeline(
        {
          pipelines: {
            changing: {
              source,
              baseUrl: api.url,
              destination: await kind.freshUrl(),
              dataset: 'changing',
              batchPages: 1,
              http: { backoffMs: 1, maxRetries: 1 },
            },
          },
        },
        'changing',
        {},
      )
      return [api, pipeline]
    }
    const deleted = async (pipeline: ResolvedPipeline, table: string) =>
      (
        await rowsOf(
          pipeline,
          `SELECT count(*)::int AS n FROM changing.${table} WHERE _thena_deleted_at IS NOT NULL`,
        )
      )[0]!.n

    it('a reconcile refused on a later page of the parent marks nothing of it or its child deleted', async () => {
      const [a, pipeline] = await start()
      expect((await runPipeline(pipeline)).status).toBe('success')
      a.answer = (url) =>
        url.pathname === '/tickets' && url.searchParams.get('page') === '1' ? TIER : undefined
      const notices: string[] = []
      const result = await runPipeline(pipeline, {
        mode: 'reconcile',
        allowMassDelete: true,
        onNotice: (n) => notices.push(`${n.resource}: ${n.message}`),
      })
      expect(result.error?.message).toBeUndefined()
      expect(result.status).toBe('success')
      expect(notices).toEqual([
        'tickets: skipped: the API does not let this account read it (HTTP 403: This endpoint is only available for standard and enterprise tier organizations.)',
        'comments: skipped: its parent tickets was skipped',
      ])
      expect(await deleted(pipeline, 'tickets')).toBe(0)
      expect(await deleted(pipeline, 'comments')).toBe(0)
    })

    it('a child refused alone: the parent loads, the run succeeds, its watermark stays', async () => {
      const [a, pipeline] = await start()
      a.answer = (url) => (url.pathname === '/comments' ? TIER : undefined)
      const result = await runPipeline(pipeline)
      expect(result.status).toBe('success')
      expect(result.resources.find((r) => r.resource === 'comments')?.skipped).toMatch(/HTTP 403/)
      expect(await rowsOf(pipeline, 'SELECT count(*)::int AS n FROM changing.tickets')).toEqual([
        { n: 6 },
      ])
      a.answer = () => undefined
      expect((await runPipeline(pipeline)).status).toBe('success')
      expect(await rowsOf(pipeline, 'SELECT count(*)::int AS n FROM changing.comments')).toEqual([
        { n: 6 },
      ])
    })

    it('every resource refused (a body that is not JSON): the run fails as refused', async () => {
      const [a, pipeline] = await start()
      a.answer = () => ({ status: 403, body: '<html>Forbidden</html>' })
      const result = await runPipeline(pipeline)
      expect(result.status).toBe('failed')
      expect(result.error?.code).toBe('http_unauthorized')
    })
  })
}
