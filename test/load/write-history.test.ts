/**
 * `writeHistory` through the committer, on every destination, with a resource that declares
 * its update and deletion times: where each version begins and ends, a commit replayed, a
 * null field, a source delete and a record that comes back.
 */
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { destinationFromUrl } from '../../src/load/destination-registry.js'
import { Committer } from '../../src/load/committer.js'
import type { NormalizedBatch } from '../../src/normalize/normalizer.js'
import { Normalizer } from '../../src/normalize/normalizer.js'
import { SchemaRegistry } from '../../src/normalize/schema-registry.js'
import { defineResource } from '../../src/source/define-source.js'
import { resolvePipeline } from '../../src/config/resolve-pipeline.js'
import { DESTINATION_KINDS, epochMs, loadRow } from '../helpers/destinations.js'

const item = z.object({
  id: z.string(),
  name: z.string(),
  updatedAt: z.string(),
  deletedAt: z.string().nullish(),
  tags: z.array(z.object({ tag: z.string() })).nullish(),
})

const items = defineResource({
  name: 'items',
  path: '/items',
  schema: item,
  recordsPath: [],
  primaryKey: 'id',
  updatedAtField: 'updatedAt',
  deletedAtField: 'deletedAt',
  history: true,
})

const T = (day: number) => `2024-01-${String(day).padStart(2, '0')}T00:00:00.000Z`

for (const kind of DESTINATION_KINDS) {
  describe(`writeHistory on ${kind.name}`, () => {
    it('versions begin at the update time when it is plausible, else when seen; deletes end them', async () => {
      const destination = destinationFromUrl(await kind.freshUrl(), 'thena')
      const session = await destination.connect()
      try {
        await session.prepare()
        const registry = new SchemaRegistry(destination.capabilities, [])
        let n = 0
        /** Commits `records` as one batch; resolves to the time the batch was normalized. */
        const commit = async (records: readonly object[], batch?: NormalizedBatch) => {
          const loadId = `L${n++}`
          const normalizer = new Normalizer(registry, items, loadId)
          for (const r of records) normalizer.add(r)
          const rows = batch ?? normalizer.take()
          const committer = new Committer(session, registry, 'p', loadId)
          await committer.commit({
            resource: 'items',
            batches: [rows],
            state: { version: 1, records: 0 },
            load: () => loadRow(loadId, 'success'),
            onCommitted: () => undefined,
          })
          await committer.drain()
          return rows
        }
        const versions = async () =>
          (
            await session.query(
              `SELECT id, name, _thena_valid_from AS f, _thena_valid_to AS t, _thena_is_current AS c, CAST(_thena_children AS TEXT) AS children
               FROM thena.items_history ORDER BY id, _thena_valid_from`,
            )
          ).rows.map((r) => ({
            id: r.id,
            name: r.name,
            from: epochMs(r.f),
            to: epochMs(r.t),
            current: r.c,
            children: r.children === null ? null : JSON.parse(String(r.children)),
          }))
        const syncedAt = (batch: NormalizedBatch) =>
          batch.rows.get('items')![0]!._thena_synced_at as number

        await commit([{ id: 'a', name: 'one', updatedAt: T(1), tags: [{ tag: 'x' }] }])
        const second = await commit([{ id: 'a', name: 'two', updatedAt: T(2), tags: [] }])
        // Replayed (a retry after a COMMIT that did apply), and with a new field that is null.
        await commit([], second)
        await commit([{ id: 'a', name: 'two', updatedAt: T(2), tags: [], deletedAt: null }])
        expect(await versions()).toEqual([
          {
            id: 'a',
            name: 'one',
            from: Date.parse(T(1)),
            to: Date.parse(T(2)),
            current: false,
            children: { items__tags: [{ tag: 'x' }] },
          },
          {
            id: 'a',
            name: 'two',
            from: Date.parse(T(2)),
            to: null,
            current: true,
            children: { items__tags: [] },
          },
        ])
        // An update time not after the current version's start, or in the future: the time seen.
        const stale = await commit([{ id: 'a', name: 'three', updatedAt: T(1) }])
        const future = await commit([{ id: 'a', name: 'four', updatedAt: '2999-01-01T00:00:00Z' }])
        // Deleted in the source: the current version ends at the deletion, none opens; the
        // record deleted again (same content) writes nothing.
        await commit([{ id: 'a', name: 'four', updatedAt: T(3), deletedAt: T(3) }])
        await commit([{ id: 'a', name: 'four', updatedAt: T(3), deletedAt: T(3) }])
        let all = await versions()
        expect(all.slice(2).map((v) => [v.name, v.from, v.to, v.current])).toEqual([
          ['three', syncedAt(stale), syncedAt(future), false],
          ['four', syncedAt(future), syncedAt(future), false],
        ])
        // Back again: a new version, from the time seen (its update time is before the deletion).
        const back = await commit([{ id: 'a', name: 'five', updatedAt: T(4) }])
        all = await versions()
        expect(all).toHaveLength(5)
        expect(all[4]).toMatchObject({
          name: 'five',
          from: syncedAt(back),
          to: null,
          current: true,
        })
        // Only one current version per key, whatever happened.
        expect(all.filter((v) => v.current)).toHaveLength(1)
      } finally {
        await session.close()
      }
    })
  })
}

/** Resources keyed by a number: a JSON number, and one declared an integer. */
const numbered = (id: z.ZodNumber, name: string) =>
  defineResource({
    name,
    path: `/${name}`,
    schema: z.object({ id, name: z.string() }),
    recordsPath: [],
    primaryKey: 'id',
    history: true,
  })

for (const kind of DESTINATION_KINDS) {
  describe(`numeric keys on ${kind.name}`, () => {
    it('a resource keyed by a number merges, versions and is soft-deleted', async () => {
      const destination = destinationFromUrl(await kind.freshUrl(), 'thena')
      const session = await destination.connect()
      try {
        await session.prepare()
        const registry = new SchemaRegistry(destination.capabilities, [])
        for (const resource of [
          numbered(z.number(), 'floats'),
          numbered(z.number().int(), 'ints'),
        ]) {
          let n = 0
          const commit = async (records: readonly object[]) => {
            const loadId = `${resource.name}${n++}`
            const normalizer = new Normalizer(registry, resource, loadId)
            for (const r of records) normalizer.add(r)
            const committer = new Committer(session, registry, 'p', loadId)
            await committer.commit({
              resource: resource.name,
              batches: [normalizer.take()],
              state: { version: 1, records: 0 },
              load: () => loadRow(loadId, 'success'),
              onCommitted: () => undefined,
            })
            await committer.drain()
          }
          await commit([
            { id: 3, name: 'a' },
            { id: 4, name: 'b' },
          ])
          await commit([{ id: 3, name: 'c' }])
          await commit([{ id: 3, name: 'c' }])
          // A reconcile that no longer lists 4.
          const root = registry.table(resource.name)!
          await session.transaction(async (tx) => {
            expect(await tx.markDeleted(root.schema, ['3'], new Date())).toBe(1)
            await tx.writeHistory(root.schema, root.history!.schema)
          })
          const rows = await session.query(
            `SELECT CAST(id AS TEXT) AS id, name, _thena_deleted_at IS NOT NULL AS deleted FROM thena.${resource.name} ORDER BY id`,
          )
          expect(rows.rows).toEqual([
            { id: expect.stringMatching(/^3(\.0)?$/), name: 'c', deleted: false },
            { id: expect.stringMatching(/^4(\.0)?$/), name: 'b', deleted: true },
          ])
          const versions = await session.query(
            `SELECT name, _thena_is_current AS c FROM thena.${resource.name}_history ORDER BY id, _thena_valid_from`,
          )
          expect(versions.rows, resource.name).toEqual([
            { name: 'a', c: false },
            { name: 'c', c: true },
            { name: 'b', c: false },
          ])
        }
      } finally {
        await session.close()
      }
    })
  })
}

describe('history setting', () => {
  it('off: no history table, no version row, nothing hashed', () => {
    const registry = new SchemaRegistry({ maxIdentifierLength: 63 })
    const normalizer = new Normalizer(registry, { ...items, history: false }, 'L0')
    normalizer.add({ id: 'a', name: 'one', updatedAt: T(1) })
    const batch = normalizer.take()
    expect([...batch.rows.keys()]).toEqual(['items'])
    expect(registry.tables.map((t) => t.name)).toEqual(['items', 'items__tags'])
    expect(Object.keys(batch.rows.get('items')![0]!)).not.toContain('_thena_content_hash')
  })

  it('a value other than true or false is one line naming the field and the fix', () => {
    const config = {
      pipelines: {
        thena: { token: 't', resources: { requests: { history: 'yes' } } },
      },
    }
    expect(() => resolvePipeline(config as never, 'thena', {})).toThrow(
      /^pipelines\.thena\.resources\.requests\.history: expected `true` or `false`, got `"yes"`$/,
    )
  })

  it("the pipeline's setting reaches its resource alone", () => {
    const p = resolvePipeline(
      { pipelines: { thena: { token: 't', resources: { requests: { history: true } } } } },
      'thena',
      {},
    )
    expect(p.resources.find((r) => r.name === 'requests')!.history).toBe(true)
    expect(p.resources.find((r) => r.name === 'users')!.history).toBeUndefined()
  })
})
