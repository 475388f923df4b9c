/**
 * The watermark a child resource keeps of its parents' update times (decisions #57), against
 * an API whose records change while a run reads them: no sequence of runs, updates during a
 * walk, kills and failed parent walks may leave a parent's children stale for good (only a
 * reconcile would bring them back, and the docs say a run is enough). On every destination.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { resolvePipeline } from '../../src/config/resolve-pipeline.js'
import type { PipelineConfig } from '../../src/config/define-config.js'
import type { ResolvedPipeline } from '../../src/config/resolve-pipeline.js'
import { runPipeline } from '../../src/pipeline/run-pipeline.js'
import type { RunOptions } from '../../src/pipeline/run-lifecycle.js'
import { defineResource, defineSource } from '../../src/source/define-source.js'
import { DESTINATION_KINDS } from '../helpers/destinations.js'
import { ago, ChangingApi } from '../helpers/changing-api.js'
import { rowsOf, stateOf } from '../helpers/truth.js'

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
  ],
})

type Pipelines = (resources?: PipelineConfig['resources']) => ResolvedPipeline

let api: ChangingApi | undefined
afterEach(async () => {
  await api?.close()
  api = undefined
})

for (const kind of DESTINATION_KINDS) {
  describe(`a child's watermark into ${kind.name}`, () => {
    /** The API with `tickets` tickets, and pipelines reading it into one new warehouse. */
    const start = async (tickets: number): Promise<[ChangingApi, ResolvedPipeline, Pipelines]> => {
      api = await new ChangingApi().start()
      api.seed(tickets)
      const destination = await kind.freshUrl()
      const on = (resources?: PipelineConfig['resources']) =>
        resolvePipeline(
          {
            pipelines: {
              changing: {
                source,
                baseUrl: api!.url,
                destination,
                dataset: 'changing',
                batchPages: 1,
                http: { backoffMs: 1, maxRetries: 1 },
                ...(resources && { resources }),
              },
            },
          },
          'changing',
          {},
        )
      return [api, on(), on]
    }
    const run = (pipeline: ResolvedPipeline, options: RunOptions = {}) =>
      runPipeline(pipeline, options)
    const commentIds = async (pipeline: ResolvedPipeline) =>
      (await rowsOf(pipeline, 'SELECT id FROM changing.comments ORDER BY id')).map((r) => r.id)

    it('a comment added to a ticket already read, while the walk goes on to a ticket updated later, is read by the next run', async () => {
      const [a, pipeline] = await start(6)
      expect((await run(pipeline)).status).toBe('success')
      // During the second run's walk: page 0 (T00, T01) was read when T00 gets a comment;
      // T04, on a page not read yet, is updated after it.
      a.onRequest = (url) => {
        if (url.pathname === '/tickets' && url.searchParams.get('page') === '1') {
          a.comment('T00', 'T00-c1')
          a.touch('T04', new Date(Date.now() + 1000).toISOString())
        }
      }
      expect((await run(pipeline)).status).toBe('success')
      a.onRequest = () => undefined
      // The walk saw T00 as it was: its comment is for the next run, which must read it.
      expect((await run(pipeline)).status).toBe('success')
      expect(await commentIds(pipeline)).toContain('T00-c1')
    })

    it('a pass killed part way, by a run whose walk missed an update, leaves that update for the next run', async () => {
      const [a, pipeline] = await start(10)
      expect((await run(pipeline)).status).toBe('success')
      const stop = new AbortController()
      a.onRequest = (url) => {
        // T00 (page 0, read) gets a comment; T04-T09 (pages not read yet) change after it.
        if (url.pathname === '/tickets' && url.searchParams.get('page') === '1') {
          a.comment('T00', 'T00-c1')
          for (let i = 4; i < 10; i++)
            a.touch(`T0${i}`, new Date(Date.now() + i * 1000).toISOString())
        }
        // Stopped while the comments of the changed tickets are read: it resumes next time.
        if (url.pathname === '/comments' && url.searchParams.get('ticketId') === 'T08') stop.abort()
      }
      expect((await run(pipeline, { signal: stop.signal })).status).toBe('interrupted')
      a.onRequest = () => undefined
      expect((await run(pipeline)).status).toBe('success')
      expect(await commentIds(pipeline)).toContain('T00-c1')
    })

    it("a ticket dated in the future does not hold back every other ticket's comments", async () => {
      const [a, pipeline] = await start(4)
      a.touch('T03', '2099-01-01T00:00:00.000Z')
      expect((await run(pipeline)).status).toBe('success')
      a.comment('T01', 'T01-c1')
      expect((await run(pipeline)).status).toBe('success')
      expect(await commentIds(pipeline)).toContain('T01-c1')
    })

    it('a parent walk cut short by an unreadable page moves no watermark: the parents after it are read later', async () => {
      const [a, pipeline] = await start(8)
      expect((await run(pipeline)).status).toBe('success')
      // Both changed well before this run (no lag involved): T05, on page 2, before T00.
      a.comments.get('T05')!.push({ id: 'T05-c1', body: 'later' })
      a.touch('T05', ago(30))
      a.comments.get('T00')!.push({ id: 'T00-c1', body: 'later' })
      a.touch('T00', ago(20))
      a.answer = (url) =>
        url.pathname === '/tickets' && url.searchParams.get('page') === '2'
          ? { status: 200, body: '{"data": [' }
          : undefined
      const failed = await run(pipeline)
      expect(failed.status).toBe('failed')
      a.answer = () => undefined
      expect((await run(pipeline)).status).toBe('success')
      expect(await commentIds(pipeline)).toEqual(expect.arrayContaining(['T00-c1', 'T05-c1']))
    })

    it('a run of the child alone (--resource comments) reads nothing and keeps a pass left part way', async () => {
      const [a, pipeline] = await start(10)
      expect((await run(pipeline)).status).toBe('success')
      // Ten tickets changed at the same time, well before the runs.
      const same = ago(20)
      for (let i = 0; i < 10; i++) {
        a.comments.get(`T0${i}`)!.push({ id: `T0${i}-c1`, body: 'later' })
        a.touch(`T0${i}`, same)
      }
      const stop = new AbortController()
      a.onRequest = (url) => {
        if (url.pathname === '/comments' && url.searchParams.get('ticketId') === 'T05') stop.abort()
      }
      expect((await run(pipeline, { signal: stop.signal })).status).toBe('interrupted')
      a.onRequest = () => undefined
      const before = (await stateOf(pipeline)).get('comments')?.incremental?.parents
      expect(before).toMatchObject({ after: { at: same } })
      const notices: string[] = []
      const alone = await run(pipeline, {
        resources: ['comments'],
        onNotice: (n) => notices.push(`${n.resource}: ${n.message}`),
      })
      expect(alone.status).toBe('success')
      expect(notices).toEqual([
        'comments: read once per tickets record, and tickets is not read by this run (left out by --resource, or disabled): nothing read',
      ])
      expect((await stateOf(pipeline)).get('comments')?.incremental?.parents).toEqual(before)
      expect((await run(pipeline)).status).toBe('success')
      expect(await commentIds(pipeline)).toEqual(
        expect.arrayContaining([...Array(10).keys()].map((i) => `T0${i}-c1`)),
      )
    })

    it('a reconcile of the child alone deletes none of its rows (its parents were not read)', async () => {
      const [, pipeline] = await start(4)
      expect((await run(pipeline)).status).toBe('success')
      const result = await run(pipeline, {
        mode: 'reconcile',
        resources: ['comments'],
        allowMassDelete: true,
      })
      expect(result.error?.message).toBeUndefined()
      expect(
        await rowsOf(
          pipeline,
          'SELECT count(*)::int AS n FROM changing.comments WHERE _thena_deleted_at IS NOT NULL',
        ),
      ).toEqual([{ n: 0 }])
    })

    it("a parent deleted between its walk and its children's is an empty list, not a failed run", async () => {
      const [a, pipeline] = await start(4)
      a.answer = (url) =>
        url.pathname === '/comments' && url.searchParams.get('ticketId') === 'T02'
          ? { status: 404, body: '{"statusCode":404,"message":"Ticket not found"}' }
          : undefined
      const result = await run(pipeline)
      expect(result.error?.message).toBeUndefined()
      expect(await commentIds(pipeline)).toEqual(['T00-c0', 'T01-c0', 'T03-c0'])
    })

    it('a child path every parent answers 404 to is an error, not an empty table, and moves no mark', async () => {
      const [, right, on] = await start(6)
      // A typo, or a path the API does not have.
      const wrong = on({ comments: { path: '/coments' } })
      const result = await run(wrong)
      expect(result.status).toBe('failed')
      expect(result.error?.message).toMatch(
        /^comments: GET \/coments answered 404 for every one of the \d+ tickets records read so far/,
      )
      expect((await stateOf(right)).get('comments')?.incremental?.parents).toBeUndefined()
      expect((await run(right)).status).toBe('success')
      expect(await commentIds(right)).toHaveLength(6)
    })

    // Open (see the review report): a page-number walk can miss a record when one before it
    // leaves the list during the walk (a hard delete, or a soft delete where deleted tickets
    // are hidden). The tickets' own rows catch up next run (their page's digest changed), but
    // the comments' watermark may already stand past the missed ticket's update time, so its
    // new comments wait for a reconcile. Telling needs the update time each parent had when
    // its children were last read (the warehouse row's, before the merge), not one mark.
    it.fails(
      'a ticket the walk missed (one before it deleted meanwhile) has its comments read later',
      async () => {
        const [a, pipeline] = await start(6)
        expect((await run(pipeline)).status).toBe('success')
        a.comments.get('T02')!.push({ id: 'T02-c1', body: 'later' })
        a.touch('T02', ago(30))
        a.comments.get('T01')!.push({ id: 'T01-c1', body: 'later' })
        a.touch('T01', ago(20))
        // Page 0 (T00, T01) was read; T00 goes: page 1 is now T03, T04, and T02 is not seen.
        a.onRequest = (url) => {
          if (
            url.pathname === '/tickets' &&
            url.searchParams.get('page') === '1' &&
            a.tickets[0]!.id === 'T00'
          )
            a.tickets.splice(0, 1)
        }
        expect((await run(pipeline)).status).toBe('success')
        a.onRequest = () => undefined
        expect((await run(pipeline)).status).toBe('success')
        expect(await commentIds(pipeline)).toContain('T02-c1')
      },
    )
  })
}
