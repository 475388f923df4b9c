/**
 * `backfill` of a source with children: the parents created in the range are reloaded with
 * their children (README: "with the comments of those tickets"), each parent's children read
 * whole. On every destination.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { resolvePipeline } from '../../src/config/resolve-pipeline.js'
import { runPipeline } from '../../src/pipeline/run-pipeline.js'
import { defineResource, defineSource } from '../../src/source/define-source.js'
import { ChangingApi } from '../helpers/changing-api.js'
import { DESTINATION_KINDS } from '../helpers/destinations.js'
import { rowsOf } from '../helpers/truth.js'

const day = (d: number) => new Date(Date.UTC(2026, 0, d)).toISOString()

const source = defineSource({
  name: 'changing',
  client: {
    baseUrl: 'http://127.0.0.1:1',
    auth: { type: 'none' },
    paginator: { type: 'page', firstPage: 0, limit: 2 },
  },
  resources: [
    defineResource({
      name: 'tickets',
      path: '/tickets',
      schema: z.looseObject({ id: z.string(), updatedAt: z.string() }),
      recordsPath: 'data',
      primaryKey: 'id',
      incremental: 'page_digest',
      createdAtField: 'createdAt',
      order: 'unordered',
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
      // Oldest first, as the Platform serves them.
      createdAtField: 'createdAt',
    }),
  ],
})

/** One list per kind (`forEach`), each oldest first. */
const perKind = defineSource({
  name: 'kinds',
  client: {
    baseUrl: 'http://127.0.0.1:1',
    auth: { type: 'none' },
    paginator: { type: 'page', firstPage: 0, limit: 2 },
  },
  resources: [
    defineResource({
      name: 'notes',
      path: '/comments',
      params: { ticketId: '{kind}' },
      schema: z.looseObject({ id: z.string() }),
      recordsPath: 'data',
      primaryKey: 'id',
      forEach: { placeholder: 'kind', values: ['T00', 'T01'] },
      createdAtField: 'createdAt',
    }),
  ],
})

let api: ChangingApi | undefined
afterEach(async () => {
  await api?.close()
  api = undefined
})

for (const kind of DESTINATION_KINDS) {
  describe(`backfill of a parent and its children into ${kind.name}`, () => {
    it('reloads every comment of each ticket created in the range, whenever the comment was made', async () => {
      api = await new ChangingApi().start()
      // Tickets of January 2..5 (in the range) and of February 2 (outside it), each with a
      // comment the day it was created and one in March.
      for (const [i, d] of [2, 3, 4, 5, 33].entries()) {
        const id = `T0${i}`
        api.tickets.push({ id, createdAt: day(d), updatedAt: day(60) })
        api.comments.set(id, [
          { id: `${id}-c0`, body: 'first', createdAt: day(d) },
          { id: `${id}-c1`, body: 'later', createdAt: day(60) },
        ])
      }
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
      const result = await runPipeline(pipeline, {
        mode: 'backfill',
        range: { from: new Date(day(1)), to: new Date(day(31)) },
      })
      expect(result.error?.message).toBeUndefined()
      const ids = (await rowsOf(pipeline, 'SELECT id FROM changing.comments ORDER BY id')).map(
        (r) => r.id,
      )
      expect(ids).toEqual([
        'T00-c0',
        'T00-c1',
        'T01-c0',
        'T01-c1',
        'T02-c0',
        'T02-c1',
        'T03-c0',
        'T03-c1',
      ])
    })

    it('a walk past the range ends that walk only: the next value of forEach is still read', async () => {
      api = await new ChangingApi().start()
      api.comments.set('T00', [
        { id: 'a1', body: '', createdAt: day(2) },
        { id: 'a2', body: '', createdAt: day(3) },
        { id: 'a3', body: '', createdAt: day(40) },
      ])
      api.comments.set('T01', [{ id: 'b1', body: '', createdAt: day(4) }])
      const pipeline = resolvePipeline(
        {
          pipelines: {
            kinds: {
              source: perKind,
              baseUrl: api.url,
              destination: await kind.freshUrl(),
              dataset: 'kinds',
              http: { backoffMs: 1, maxRetries: 1 },
            },
          },
        },
        'kinds',
        {},
      )
      const result = await runPipeline(pipeline, {
        mode: 'backfill',
        range: { from: new Date(day(1)), to: new Date(day(31)) },
      })
      expect(result.error?.message).toBeUndefined()
      const ids = (await rowsOf(pipeline, 'SELECT id FROM kinds.notes ORDER BY id')).map(
        (r) => r.id,
      )
      expect(ids).toEqual(['a1', 'a2', 'b1'])
    })
  })
}
