/**
 * What a pipeline's page paginators learn of the server's page size (`learnPageSize`) holds
 * for one run: a process that runs the pipeline again (`schedule`) learns it again, so a
 * server that now serves fewer records a page is not taken to have ended its lists.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { resolvePipeline } from '../../src/config/resolve-pipeline.js'
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
    paginator: { type: 'page', firstPage: 0, limit: 4, learnPageSize: true },
  },
  resources: [
    defineResource({
      name: 'tickets',
      path: '/tickets',
      schema: z.looseObject({ id: z.string(), updatedAt: z.string() }),
      recordsPath: 'data',
      primaryKey: 'id',
      incremental: 'page_digest',
    }),
  ],
})

let api: ChangingApi | undefined
afterEach(async () => {
  await api?.close()
  api = undefined
})

// Not about the destination: the first one selected.
const kind = DESTINATION_KINDS[0]!

describe('page sizes learned by a run', () => {
  it('are learned again by the next run of the same process: a lower server maximum since is no end of the list', async () => {
    api = await new ChangingApi().start()
    api.seed(10)
    const pipeline = resolvePipeline(
      {
        pipelines: {
          changing: {
            source,
            baseUrl: api.url,
            destination: await kind.freshUrl(),
            dataset: 'changing',
            http: { backoffMs: 1, maxRetries: 1 },
          },
        },
      },
      'changing',
      {},
    )
    // Full pages of 4: the server serves at least 4.
    expect((await runPipeline(pipeline)).status).toBe('success')
    // Then it serves at most 2 a page, and a ticket on its last page changes.
    api.maxLimit = 2
    api.touch('T09', '2026-01-01T00:00:00.000Z')
    expect((await runPipeline(pipeline)).status).toBe('success')
    expect(
      await rowsOf(
        pipeline,
        "SELECT id FROM changing.tickets WHERE updated_at = '2026-01-01T00:00:00.000Z'",
      ),
    ).toEqual([{ id: 'T09' }])
  })
})
