/**
 * The destination contract, once for every destination: what the engine relies on when it
 * creates and evolves tables, merges rows, replaces child rows, and commits rows and state
 * together. A new destination is done when it passes this file.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { destinationFromUrl } from '../../src/load/destination-registry.js'
import type {
  Destination,
  DestinationSession,
  LoadRecord,
  StoredLoad,
} from '../../src/load/destination.js'
import { SchemaRegistry } from '../../src/normalize/schema-registry.js'
import type { Row, TableSchema } from '../../src/normalize/table-schema.js'
import type { ResourceState } from '../../src/state/resource-state.js'
import { DESTINATION_KINDS, epochMs, loadRow } from '../helpers/destinations.js'

const LOAD = 'load-1'

/** A root table `tickets` (id, text, numbers, flag, time, JSON) and its child `tickets__tags`. */
function ticketSchema(destination: Destination) {
  const registry = new SchemaRegistry(destination.capabilities)
  const root = registry.rootTable('tickets', 'id')
  for (const [path, type] of [
    [['id'], 'text'],
    [['title'], 'text'],
    [['count'], 'bigint'],
    [['score'], 'double'],
    [['open'], 'boolean'],
    [['created_at'], 'timestamp'],
    [['meta'], 'json'],
  ] as const)
    registry.column(root, path, type)
  const child = registry.childTable(root, ['tags'])
  registry.column(child, ['label'], 'text')
  return { registry, root: root.schema, child: child.schema }
}

const ticket = (id: string, extra: Partial<Row> = {}): Row => ({
  _thena_load_id: LOAD,
  _thena_synced_at: Date.UTC(2026, 0, 1),
  _thena_deleted_at: null,
  id,
  title: `ticket ${id}`,
  count: 1,
  score: 0.5,
  open: true,
  created_at: Date.UTC(2025, 5, 1, 12, 30, 45, 123),
  meta: { a: 1 },
  ...extra,
})

const tag = (root: string, idx: number, label: string): Row => ({
  _thena_id: `${root}#${idx}`,
  _thena_parent_id: root,
  _thena_root_id: root,
  _thena_list_idx: idx,
  _thena_load_id: LOAD,
  _thena_synced_at: Date.UTC(2026, 0, 1),
  label,
})

const state = (cursor: string): ResourceState => ({
  version: 1,
  position: { cursor },
  records: 3,
  updatedAt: '2026-01-01T00:00:00.000Z',
})

const load = (loadId: string, status: LoadRecord['status']): LoadRecord => loadRow(loadId, status)

for (const kind of DESTINATION_KINDS) {
  describe(`destination conformance: ${kind.name}`, () => {
    let session: DestinationSession | undefined
    afterEach(async () => {
      await session?.close()
      session = undefined
    })

    async function open() {
      const destination = destinationFromUrl(await kind.freshUrl(), 'thena')
      expect(destination.name).toBe(kind.name)
      session = await destination.connect()
      await session.prepare()
      return { destination, session }
    }

    const rows = async (s: DestinationSession, sql: string) => [...(await s.query(sql)).rows]

    /** Creates the ticket tables in their own committed transaction. */
    async function withTickets(destination: Destination, s: DestinationSession) {
      const schema = ticketSchema(destination)
      await s.transaction((tx) => tx.applySchema(schema.registry.takeChanges(), LOAD))
      return schema
    }

    it('prepare creates the system tables, and running it again changes nothing', async () => {
      const { session: s } = await open()
      await s.prepare()
      for (const table of [
        '_thena_loads',
        '_thena_state',
        '_thena_schema_history',
        '_thena_rejects',
      ])
        expect(await rows(s, `SELECT count(*) AS n FROM thena.${table}`)).toEqual([{ n: '0' }])
      expect(await s.readTables()).toEqual([])
      expect(await s.readState('p')).toEqual(new Map())
    })

    it('creates and evolves tables, and records every column with its source path', async () => {
      const { destination, session: s } = await open()
      const { registry, root, child } = await withTickets(destination, s)
      registry.column(registry.table('tickets')!, ['assignee', 'email'], 'text')
      registry.column(registry.table('tickets')!, ['count'], 'text') // a type clash: a variant
      await s.transaction((tx) => tx.applySchema(registry.takeChanges(), 'load-2'))
      const tables = await s.readTables()
      const byName = new Map(tables.map((t) => [t.name, t]))
      expect([...byName.keys()].sort()).toEqual(['tickets', 'tickets__tags'])
      expect(byName.get('tickets')!.columns).toEqual(root.columns)
      expect(byName.get('tickets__tags')).toEqual(child)
      expect(byName.get('tickets')!.columns.slice(-2)).toEqual([
        { name: 'assignee__email', type: 'text', path: ['assignee', 'email'] },
        { name: 'count__v_text', type: 'text', path: ['count'], variantOf: 'count' },
      ])
      const history = await rows(
        s,
        `SELECT event, column_name, load_id FROM thena._thena_schema_history WHERE load_id = 'load-2' ORDER BY ordinal`,
      )
      expect(history).toEqual([
        { event: 'add_column', column_name: 'assignee__email', load_id: 'load-2' },
        { event: 'add_column', column_name: 'count__v_text', load_id: 'load-2' },
      ])
      await s.transaction((tx) =>
        tx.merge(byName.get('tickets')!, [
          ticket('t1', { assignee__email: 'a@x', count__v_text: 'many' }),
        ]),
      )
      expect(await rows(s, 'SELECT assignee__email, count__v_text FROM thena.tickets')).toEqual([
        { assignee__email: 'a@x', count__v_text: 'many' },
      ])
    })

    it('names longer than the identifier limit are shortened the same way on every run', async () => {
      const { destination, session: s } = await open()
      const limit = destination.capabilities.maxIdentifierLength
      const path = ['a'.repeat(40), 'b'.repeat(40), 'c'.repeat(60)]
      const names = [1, 2].map(() => {
        const registry = new SchemaRegistry(destination.capabilities)
        return registry.column(registry.rootTable('tickets', 'id'), path, 'text').name
      })
      expect(names[0]).toBe(names[1])
      expect(Buffer.byteLength(names[0]!)).toBeLessThanOrEqual(limit)
      const registry = new SchemaRegistry(destination.capabilities)
      const root = registry.rootTable('tickets', 'id')
      registry.column(root, ['id'], 'text')
      const long = registry.column(root, path, 'text')
      // Two long paths that share their first `limit` characters stay distinct.
      const sibling = registry.column(root, [...path.slice(0, 2), `${'c'.repeat(60)}_2`], 'text')
      expect(sibling.name).not.toBe(long.name)
      await s.transaction((tx) => tx.applySchema(registry.takeChanges(), LOAD))
      await s.transaction((tx) =>
        tx.merge(root.schema, [{ id: 'x', [long.name]: 'long', [sibling.name]: 'sibling' }]),
      )
      const [stored] = await s.readTables()
      expect(stored!.columns.find((c) => c.name === long.name)!.path).toEqual(path)
      expect(
        await rows(s, `SELECT "${long.name}" AS v, "${sibling.name}" AS w FROM thena.tickets`),
      ).toEqual([{ v: 'long', w: 'sibling' }])
    })

    it('merge inserts, then updates on the key; every type round-trips, hostile text included', async () => {
      const { destination, session: s } = await open()
      const { root } = await withTickets(destination, s)
      const hostile =
        'tab\there, newline\nthere, CR\r, back\\slash, \\N, "quotes", \'single\', 😀, ünïcödé, \u0001bell'
      await s.transaction((tx) =>
        tx.merge(root, [
          ticket('t1'),
          ticket('t2', {
            title: hostile,
            count: 9007199254740991,
            score: -1.25e-7,
            open: false,
            meta: { nested: { list: [1, 'two', null], text: hostile } },
          }),
          ticket('t3', {
            title: null,
            count: null,
            score: null,
            open: null,
            created_at: null,
            meta: null,
          }),
        ]),
      )
      await s.transaction((tx) => tx.merge(root, [ticket('t1', { title: 'updated', count: 2 })]))
      const got = await rows(
        s,
        'SELECT id, title, count, score, open, created_at, meta FROM thena.tickets ORDER BY id',
      )
      expect(
        got.map((r) => ({
          ...r,
          count: r.count === null ? null : Number(r.count),
          created_at: epochMs(r.created_at),
          meta: r.meta === null ? null : JSON.parse(r.meta as string),
        })),
      ).toEqual([
        {
          id: 't1',
          title: 'updated',
          count: 2,
          score: 0.5,
          open: true,
          created_at: Date.UTC(2025, 5, 1, 12, 30, 45, 123),
          meta: { a: 1 },
        },
        {
          id: 't2',
          title: hostile,
          count: 9007199254740991,
          score: -1.25e-7,
          open: false,
          created_at: Date.UTC(2025, 5, 1, 12, 30, 45, 123),
          meta: { nested: { list: [1, 'two', null], text: hostile } },
        },
        {
          id: 't3',
          title: null,
          count: null,
          score: null,
          open: null,
          created_at: null,
          meta: null,
        },
      ])
    })

    it('keys with separators and quotes merge, and replace their children, like any other', async () => {
      const { destination, session: s } = await open()
      const { root, child } = await withTickets(destination, s)
      const odd = ['a\u001fb', "c,'d'", 'e"f', '']
      for (const title of ['first', 'second'])
        await s.transaction(async (tx) => {
          await tx.merge(
            root,
            odd.map((id) => ticket(id, { title })),
          )
          await tx.replaceChildren(
            child,
            odd,
            odd.map((id) => tag(id, 0, title)),
          )
        })
      // Sorted here: the databases' collations may order these keys differently.
      const byId = (a: Record<string, unknown>, b: Record<string, unknown>) =>
        String(a.id) < String(b.id) ? -1 : 1
      expect((await rows(s, 'SELECT id, title FROM thena.tickets')).sort(byId)).toEqual(
        [...odd].sort().map((id) => ({ id, title: 'second' })),
      )
      expect(
        (await rows(s, 'SELECT _thena_root_id AS id, label FROM thena.tickets__tags')).sort(byId),
      ).toEqual([...odd].sort().map((id) => ({ id, label: 'second' })))
    })

    it('a column added to a table by hand is left alone, and loads go on', async () => {
      const { destination, session: s } = await open()
      const { root } = await withTickets(destination, s)
      await s.query('ALTER TABLE thena.tickets ADD COLUMN added_by_hand INTEGER')
      await s.transaction((tx) => tx.merge(root, [ticket('t1'), ticket('t2')]))
      expect(await rows(s, 'SELECT id, added_by_hand FROM thena.tickets ORDER BY id')).toEqual([
        { id: 't1', added_by_hand: null },
        { id: 't2', added_by_hand: null },
      ])
    })

    it('loads thousands of rows in one merge, and a row of several megabytes, intact', async () => {
      const { destination, session: s } = await open()
      const { root } = await withTickets(destination, s)
      // More rows than one bulk-load chunk, and a text far beyond any staging buffer.
      const big = 'x'.repeat(6 * 1024 * 1024) + 'ü'
      const many = Array.from({ length: 5000 }, (_, i) => ticket(`m${i}`, { count: i }))
      await s.transaction((tx) => tx.merge(root, [...many, ticket('big', { title: big })]))
      expect(await rows(s, 'SELECT count(*) AS n, sum(count) AS total FROM thena.tickets')).toEqual(
        [{ n: '5001', total: String((4999 * 5000) / 2 + 1) }],
      )
      expect(
        await rows(
          s,
          `SELECT CAST(length(title) AS BIGINT) AS n, right(title, 2) AS tail FROM thena.tickets WHERE id = 'big'`,
        ),
      ).toEqual([{ n: String(big.length), tail: 'xü' }])
    })

    it('child rows are replaced whole: changed, removed, and emptied arrays', async () => {
      const { destination, session: s } = await open()
      const { root, child } = await withTickets(destination, s)
      await s.transaction(async (tx) => {
        await tx.merge(root, [ticket('a'), ticket('b'), ticket('c')])
        await tx.replaceChildren(
          child,
          ['a', 'b', 'c'],
          [tag('a', 0, 'x'), tag('a', 1, 'y'), tag('b', 0, 'z'), tag('c', 0, 'w')],
        )
      })
      // a: one tag now; b: its array became empty; c: not in this batch, so untouched.
      await s.transaction(async (tx) => {
        await tx.merge(root, [ticket('a'), ticket('b')])
        await tx.replaceChildren(child, ['a', 'b'], [tag('a', 0, 'only')])
      })
      expect(
        await rows(
          s,
          'SELECT _thena_root_id AS root, label FROM thena.tickets__tags ORDER BY 1, _thena_list_idx',
        ),
      ).toEqual([
        { root: 'a', label: 'only' },
        { root: 'c', label: 'w' },
      ])
    })

    it('loading the same batch twice leaves the same rows (idempotent)', async () => {
      const { destination, session: s } = await open()
      const { root, child } = await withTickets(destination, s)
      const batch = async () =>
        s.transaction(async (tx) => {
          await tx.merge(root, [ticket('a'), ticket('b')])
          await tx.replaceChildren(
            child,
            ['a', 'b'],
            [tag('a', 0, 'x'), tag('b', 0, 'y'), tag('b', 1, 'z')],
          )
        })
      await batch()
      const first = await rows(s, 'SELECT id, title FROM thena.tickets ORDER BY id')
      await batch()
      expect(await rows(s, 'SELECT id, title FROM thena.tickets ORDER BY id')).toEqual(first)
      expect(await rows(s, 'SELECT count(*) AS n FROM thena.tickets__tags')).toEqual([{ n: '3' }])
    })

    it('a transaction that fails leaves rows, state, load and schema exactly as before', async () => {
      const { destination, session: s } = await open()
      const { registry, root } = await withTickets(destination, s)
      await s.transaction(async (tx) => {
        await tx.merge(root, [ticket('a')])
        await tx.writeState('p', 'tickets', state('c1'), LOAD)
        await tx.writeLoad(load(LOAD, 'running'))
      })
      registry.column(registry.table('tickets')!, ['late'], 'text')
      const changes = registry.takeChanges()
      await expect(
        s.transaction(async (tx) => {
          await tx.applySchema(changes, 'load-2')
          await tx.merge(root, [ticket('a', { title: 'changed' }), ticket('b')])
          await tx.writeState('p', 'tickets', state('c2'), 'load-2')
          await tx.writeLoad({ ...load(LOAD, 'success'), records: 9 })
          throw new Error('crash before commit')
        }),
      ).rejects.toThrow('crash before commit')
      expect(await rows(s, 'SELECT id, title FROM thena.tickets')).toEqual([
        { id: 'a', title: 'ticket a' },
      ])
      expect((await s.readState('p')).get('tickets')).toEqual(state('c1'))
      expect(await rows(s, 'SELECT status, records FROM thena._thena_loads')).toEqual([
        { status: 'running', records: '0' },
      ])
      expect(
        (await s.readTables()).find((t) => t.name === 'tickets')!.columns.map((c) => c.name),
      ).not.toContain('late')
      // The session is usable after the rollback, and the same change then commits.
      await s.transaction((tx) => tx.applySchema(changes, 'load-3'))
      expect(
        (await s.readTables()).find((t) => t.name === 'tickets')!.columns.map((c) => c.name),
      ).toContain('late')
    })

    it('state round-trips per pipeline and resource, and is overwritten in place', async () => {
      const { session: s } = await open()
      await s.transaction(async (tx) => {
        await tx.writeState('p', 'tickets', state('c1'), LOAD)
        await tx.writeState(
          'p',
          'users',
          { version: 1, position: { page: 3 }, records: 1, updatedAt: '2026-01-01T00:00:00.000Z' },
          LOAD,
        )
        await tx.writeState('other', 'tickets', state('x'), LOAD)
      })
      await s.transaction((tx) => tx.writeState('p', 'tickets', state('c2'), 'load-2'))
      const p = await s.readState('p')
      expect(p.get('tickets')).toEqual(state('c2'))
      expect(p.get('users')?.position).toEqual({ page: 3 })
      expect((await s.readState('other')).get('tickets')).toEqual(state('x'))
      expect(await rows(s, `SELECT count(*) AS n FROM thena._thena_state`)).toEqual([{ n: '3' }])
    })

    it('a reset clears one state and drops tables with their history, all in one transaction', async () => {
      const { destination, session: s } = await open()
      const { registry, root, child } = await withTickets(destination, s)
      const other = registry.rootTable('others', 'id')
      registry.column(other, ['id'], 'text')
      await s.transaction(async (tx) => {
        await tx.applySchema(registry.takeChanges(), LOAD)
        await tx.merge(root, [ticket('a')])
        await tx.writeState('p', 'tickets', state('c1'), LOAD)
        await tx.writeState('p', 'others', state('o1'), LOAD)
        await tx.writeState('q', 'tickets', state('q1'), LOAD)
      })
      // A failure after the drop rolls it back: the tables, rows, history and state stay.
      await expect(
        s.transaction(async (tx) => {
          await tx.dropTables([child.name, root.name])
          await tx.clearState('p', 'tickets')
          throw new Error('boom')
        }),
      ).rejects.toThrow('boom')
      expect(await rows(s, 'SELECT id FROM thena.tickets')).toEqual([{ id: 'a' }])
      expect((await s.readTables()).map((t) => t.name).sort()).toEqual([
        'others',
        'tickets',
        'tickets__tags',
      ])
      expect((await s.readState('p')).has('tickets')).toBe(true)
      await s.transaction(async (tx) => {
        await tx.dropTables([child.name, root.name, 'never_created'])
        await tx.clearState('p', 'tickets')
        await tx.clearState('p', 'never_had_state')
      })
      expect((await s.readTables()).map((t) => t.name)).toEqual(['others'])
      await expect(s.query('SELECT * FROM thena.tickets')).rejects.toThrow()
      await expect(s.query('SELECT * FROM thena.tickets__tags')).rejects.toThrow()
      expect([...(await s.readState('p')).keys()]).toEqual(['others'])
      expect((await s.readState('q')).get('tickets')).toEqual(state('q1'))
      // The next run creates them again, from a registry that no longer knows them.
      const again = ticketSchema(destination)
      await s.transaction(async (tx) => {
        await tx.applySchema(again.registry.takeChanges(), 'load-2')
        await tx.merge(again.root, [ticket('b')])
      })
      expect(await rows(s, 'SELECT id FROM thena.tickets')).toEqual([{ id: 'b' }])
      expect((await s.readTables()).map((t) => t.name).sort()).toEqual([
        'others',
        'tickets',
        'tickets__tags',
      ])
    })

    it('root tables carry the soft-delete column; a row that comes back clears its mark', async () => {
      const { destination, session: s } = await open()
      const { root } = await withTickets(destination, s)
      expect(root.columns.map((c) => c.name)).toContain('_thena_deleted_at')
      await s.transaction((tx) =>
        tx.merge(root, [ticket('a', { _thena_deleted_at: Date.UTC(2026, 1, 1) })]),
      )
      const [marked] = await rows(s, 'SELECT _thena_deleted_at AS d FROM thena.tickets')
      expect(epochMs(marked!.d)).toBe(Date.UTC(2026, 1, 1))
      await s.transaction((tx) => tx.merge(root, [ticket('a')]))
      expect(await rows(s, 'SELECT _thena_deleted_at AS d FROM thena.tickets')).toEqual([
        { d: null },
      ])
    })

    it('soft delete marks only rows missing from the live ids, once, and a returning row is cleared', async () => {
      const { destination, session: s } = await open()
      const { root } = await withTickets(destination, s)
      await s.transaction((tx) => tx.merge(root, [ticket('a'), ticket('b'), ticket('c')]))
      expect(await s.transaction((tx) => tx.countLive(root))).toBe(3)
      const at = new Date(Date.UTC(2026, 2, 1))
      expect(await s.transaction((tx) => tx.markDeleted(root, ['a'], at))).toBe(2)
      expect(await s.transaction((tx) => tx.countLive(root))).toBe(1)
      // Already marked rows keep their first mark.
      expect(
        await s.transaction((tx) => tx.markDeleted(root, ['a'], new Date(Date.UTC(2026, 3, 1)))),
      ).toBe(0)
      const marked = await rows(
        s,
        'SELECT id, _thena_deleted_at AS d FROM thena.tickets ORDER BY id',
      )
      expect(marked.map((r) => [r.id, epochMs(r.d)])).toEqual([
        ['a', null],
        ['b', at.getTime()],
        ['c', at.getTime()],
      ])
      await s.transaction((tx) => tx.merge(root, [ticket('b')]))
      expect(
        await rows(s, 'SELECT id FROM thena.tickets WHERE _thena_deleted_at IS NULL ORDER BY id'),
      ).toEqual([{ id: 'a' }, { id: 'b' }])
    })

    it('loads are upserted by id, stale running loads are aborted, rejects are kept raw', async () => {
      const { session: s } = await open()
      await s.transaction(async (tx) => {
        await tx.writeLoad(load('dead', 'running'))
        await tx.writeLoad(load('live', 'running'))
        await tx.writeRejects('p', 'live', [
          {
            resource: 'tickets',
            recordId: 'r1',
            reason: 'id: expected string',
            raw: '{"id":1,"t":"\\t\\n"}',
          },
        ])
      })
      await s.transaction(async (tx) => {
        await tx.abortStaleLoads('p', 'live')
        await tx.writeLoad({
          ...load('live', 'success'),
          records: 5,
          finishedAt: new Date(Date.UTC(2026, 0, 2)),
        })
      })
      expect(
        await rows(s, 'SELECT load_id, status, records FROM thena._thena_loads ORDER BY load_id'),
      ).toEqual([
        { load_id: 'dead', status: 'aborted', records: '0' },
        { load_id: 'live', status: 'success', records: '5' },
      ])
      // Every write of a load row is a heartbeat: the live one beat after the dead one.
      const beats = await rows(
        s,
        'SELECT load_id, heartbeat_at FROM thena._thena_loads ORDER BY load_id',
      )
      expect(epochMs(beats[1]!.heartbeat_at)!).toBeGreaterThanOrEqual(
        epochMs(beats[0]!.heartbeat_at)!,
      )
      expect(epochMs(beats[0]!.heartbeat_at)).toBeGreaterThan(Date.UTC(2026, 0, 1))
      expect(await rows(s, 'SELECT record_id, reason, raw_json FROM thena._thena_rejects')).toEqual(
        [{ record_id: 'r1', reason: 'id: expected string', raw_json: '{"id":1,"t":"\\t\\n"}' }],
      )
      // The same reject from a later load (twice): one row, last seen by that load.
      const again = {
        resource: 'tickets',
        recordId: 'r1',
        reason: 'id: expected string',
        raw: '{"id":1,"t":"\\t\\n"}',
      }
      await s.transaction((tx) => tx.writeRejects('p', 'next', [again, again]))
      expect(
        await rows(s, 'SELECT pipeline, load_id, last_load_id FROM thena._thena_rejects'),
      ).toEqual([{ pipeline: 'p', load_id: 'live', last_load_id: 'next' }])
    })

    it('one session at a time holds a pipeline lock; closing releases it', async () => {
      const destination = destinationFromUrl(await kind.freshUrl(), 'thena')
      const first = await destination.connect()
      await first.prepare()
      expect(await first.tryLock('p')).toBe(true)
      const second = await destination.connect().then(
        async (other) => {
          try {
            return await other.tryLock('p')
          } finally {
            await other.close()
          }
        },
        (error: { code?: string }) => error.code,
      )
      // Either the lock is refused, or (DuckDB) the whole file is.
      expect([false, 'destination_busy']).toContain(second)
      await first.unlock('p')
      await first.close()
      session = await destination.connect({ create: false })
      expect(await session.tryLock('p')).toBe(true)
    })

    it('opening a warehouse that does not exist yet for reading says so and creates nothing', async () => {
      const destination = destinationFromUrl(await kind.freshUrl(), 'thena')
      await expect(destination.connect({ readOnly: true })).rejects.toMatchObject({
        code: 'warehouse_missing',
      })
      if (kind.name === 'duckdb')
        await expect(destination.connect({ create: false })).rejects.toMatchObject({
          code: 'warehouse_missing',
        })
      // Nothing was created by the refused attempt: a second one is refused the same way.
      await expect(destination.connect({ readOnly: true })).rejects.toMatchObject({
        code: 'warehouse_missing',
      })
      session = await destination.connect()
      await session.prepare()
      expect(await session.readTables()).toEqual([] as TableSchema[])
    })

    it('escapeIdentifier quotes any name, hostile ones too, as the destination reads it back', async () => {
      const { destination, session: s } = await open()
      const esc = destination.capabilities.escapeIdentifier
      const hostile = [
        'a"b',
        '"',
        '""',
        'a.b',
        'select',
        'x"; DROP TABLE thena._thena_loads; --',
        'ünïcödé 名前 😀',
        ' leading and trailing ',
      ]
      for (const [i, name] of hostile.entries()) {
        // As a column alias, and as a table: the name comes back exactly.
        const result = await s.query(`SELECT 1 AS ${esc(name)}`)
        expect(result.columns).toEqual([name])
        await s.query(`CREATE TABLE ${esc('thena')}.${esc(name)} (${esc(name)} integer)`)
        await s.query(`INSERT INTO ${esc('thena')}.${esc(name)} VALUES (${i})`)
        expect(await rows(s, `SELECT ${esc(name)} AS v FROM ${esc('thena')}.${esc(name)}`)).toEqual(
          [{ v: i }],
        )
      }
      // The system tables survived the name that tried to drop one.
      expect(await s.readLoads('p', 5)).toEqual([])
    })

    it('readKeys: the keys of the root rows loaded, soft-deleted ones too; none before the table exists', async () => {
      const { destination, session: s } = await open()
      const schema = ticketSchema(destination)
      expect(await s.readKeys(schema.root)).toEqual(new Set())
      await s.transaction((tx) => tx.applySchema(schema.registry.takeChanges(), LOAD))
      expect(await s.readKeys(schema.root)).toEqual(new Set())
      await s.transaction(async (tx) => {
        await tx.merge(schema.root, [ticket('t1'), ticket('t2'), ticket('t"3')])
        await tx.markDeleted(schema.root, ['t1', 't"3'], new Date(Date.UTC(2026, 0, 2)))
      })
      expect(await s.readKeys(schema.root)).toEqual(new Set(['t1', 't2', 't"3']))
    })

    it("readLoads: the pipeline's last runs, newest first, typed as they were written", async () => {
      const { session: s } = await open()
      const at = (day: number) => new Date(Date.UTC(2026, 0, day, 10, 20, 30, 120))
      const before = Date.now()
      await s.transaction(async (tx) => {
        await tx.writeLoad({ ...load('l1', 'success'), startedAt: at(1), finishedAt: at(2) })
        await tx.writeLoad({
          ...load('l2', 'failed'),
          startedAt: at(3),
          finishedAt: at(4),
          records: 7,
          rejects: 2,
          requests: 9,
          retries: 1,
          rateLimited: 3,
          unchanged: 4,
          error: 'HTTP 500',
          details: { tables: ['a'] },
        })
        await tx.writeLoad({ ...load('l3', 'running'), startedAt: at(5) })
        await tx.writeLoad({ ...load('other', 'success'), pipeline: 'q', startedAt: at(6) })
      })
      const loads = await s.readLoads('p', 2)
      expect(loads.map((l) => l.loadId)).toEqual(['l3', 'l2'])
      const [running, failed] = loads as [StoredLoad, StoredLoad]
      expect(running).toMatchObject({ status: 'running', startedAt: at(5), unchanged: 0 })
      expect(running.finishedAt).toBeUndefined()
      expect(running.error).toBeUndefined()
      expect(running.heartbeatAt!.getTime()).toBeGreaterThanOrEqual(before - 1000)
      expect(failed).toEqual({
        loadId: 'l2',
        pipeline: 'p',
        command: 'run',
        status: 'failed',
        startedAt: at(3),
        finishedAt: at(4),
        heartbeatAt: failed.heartbeatAt,
        records: 7,
        rejects: 2,
        requests: 9,
        retries: 1,
        rateLimited: 3,
        unchanged: 4,
        error: 'HTTP 500',
        details: { tables: ['a'] },
      })
      expect((await s.readLoads('p', 10)).map((l) => l.loadId)).toEqual(['l3', 'l2', 'l1'])
      expect(await s.readLoads('nobody', 5)).toEqual([])
    })

    it('countRows: every row, and the soft-deleted ones (none in a child table)', async () => {
      const { destination, session: s } = await open()
      const { root, child } = await withTickets(destination, s)
      expect(await s.countRows(root)).toEqual({ rows: 0, softDeleted: 0 })
      await s.transaction(async (tx) => {
        await tx.merge(root, [ticket('t1'), ticket('t2'), ticket('t3')])
        await tx.replaceChildren(child, ['t1'], [tag('t1', 0, 'a'), tag('t1', 1, 'b')])
        await tx.markDeleted(root, ['t1', 't2'], new Date(Date.UTC(2026, 0, 2)))
      })
      expect(await s.countRows(root)).toEqual({ rows: 3, softDeleted: 1 })
      expect(await s.countRows(child)).toEqual({ rows: 2, softDeleted: 0 })
    })

    it('countOpenRejects: a reject closes when a later load writes its record; per pipeline and resource', async () => {
      const { destination, session: s } = await open()
      const { root } = await withTickets(destination, s)
      const reject = (recordId: string, reason = 'title: expected string') => ({
        resource: 'tickets',
        recordId,
        reason,
        raw: `{"id":"${recordId}"}`,
      })
      await s.transaction(async (tx) => {
        await tx.writeLoad({ ...load('l1', 'success'), startedAt: new Date(Date.UTC(2026, 0, 1)) })
        await tx.writeRejects('p', 'l1', [reject('r1'), reject('r2'), reject('r2', 'other')])
        await tx.writeRejects('q', 'l1', [reject('r9')])
      })
      expect(await s.countOpenRejects('p', ['tickets', 'users'])).toEqual(
        new Map([
          ['tickets', 3],
          ['users', 0],
        ]),
      )
      // r1 is written by a load that started after the one that rejected it: fixed at the source.
      await s.transaction(async (tx) => {
        await tx.writeLoad({ ...load('l2', 'success'), startedAt: new Date(Date.UTC(2026, 0, 2)) })
        await tx.merge(root, [ticket('r1', { _thena_load_id: 'l2' })])
      })
      expect(await s.countOpenRejects('p', ['tickets'])).toEqual(new Map([['tickets', 2]]))
      expect(await s.countOpenRejects('q', ['tickets'])).toEqual(new Map([['tickets', 1]]))
    })

    it('readSchemaHistory and readSchemaChanges: every change in order, typed, and summed up', async () => {
      const { destination, session: s } = await open()
      const before = Date.now()
      const { registry, root, child } = await withTickets(destination, s)
      const created = root.columns.length
      registry.column(registry.table('tickets')!, ['assignee', 'email'], 'text')
      registry.column(registry.table('tickets')!, ['count'], 'text')
      await s.transaction((tx) => tx.applySchema(registry.takeChanges(), 'load-2'))
      const history = await s.readSchemaHistory()
      expect(history.map((h) => h.ordinal)).toEqual(history.map((_, i) => i + 1))
      expect(history).toHaveLength(created + child.columns.length + 2)
      expect(history.find((h) => h.column === 'created_at')).toEqual({
        ordinal: history.findIndex((h) => h.column === 'created_at') + 1,
        event: 'create_table',
        table: 'tickets',
        column: 'created_at',
        columnType: 'timestamp',
        sourcePath: ['created_at'],
        variantOf: null,
        loadId: LOAD,
        recordedAt: history[0]!.recordedAt,
      })
      expect(history[0]!.recordedAt.getTime()).toBeGreaterThanOrEqual(before - 1000)
      expect(history.find((h) => h.column === '_thena_load_id')!.sourcePath).toEqual([])
      expect(history.slice(-2).map((h) => [h.event, h.column, h.variantOf, h.loadId])).toEqual([
        ['add_column', 'assignee__email', null, 'load-2'],
        ['add_column', 'count__v_text', 'count', 'load-2'],
      ])
      // Only one resource's tables: the added columns are recorded by table name alone.
      expect(await s.readSchemaHistory('tickets')).toEqual(
        history.filter((h) => h.event === 'create_table'),
      )
      expect(await s.readSchemaHistory('nothing')).toEqual([])
      const changes = await s.readSchemaChanges(10)
      expect(changes.map((c) => [c.event, c.table, c.columns, c.loadId])).toEqual([
        ['add_column', 'tickets', 2, 'load-2'],
        ['create_table', 'tickets__tags', child.columns.length, LOAD],
        ['create_table', 'tickets', created, LOAD],
      ])
      expect(changes[0]!.recordedAt).toBeInstanceOf(Date)
      expect(await s.readSchemaChanges(1)).toEqual(changes.slice(0, 1))
    })

    it('a read-only query stops at its time limit, and the session goes on', async () => {
      const { destination, session: s } = await open()
      await s.close()
      session = await destination.connect({ readOnly: true })
      const slow =
        kind.name === 'duckdb'
          ? 'SELECT count(*) AS n FROM range(100000) a, range(100000) b WHERE hash(a.range + b.range * 100000) % 1000003 = 7'
          : 'SELECT pg_sleep(60)'
      const started = Date.now()
      await expect(session.query(slow, { maxMs: 300 })).rejects.toMatchObject({
        code: 'query_failed',
        message: 'the statement was stopped after 0.3 s, the longest a statement may run here',
      })
      expect(Date.now() - started).toBeLessThan(10_000)
      expect(await rows(session, "SELECT 'ok' AS x")).toEqual([{ x: 'ok' }])
    })

    it('a read-only session answers every typed read', async () => {
      const { destination, session: s } = await open()
      const { root } = await withTickets(destination, s)
      await s.transaction(async (tx) => {
        await tx.writeLoad(load('l1', 'success'))
        await tx.merge(root, [ticket('t1')])
        await tx.writeRejects('p', 'l1', [
          { resource: 'tickets', recordId: 'x', reason: 'bad', raw: '{}' },
        ])
      })
      await s.close()
      session = await destination.connect({ readOnly: true })
      const r = session
      expect(await r.readKeys(root)).toEqual(new Set(['t1']))
      expect((await r.readLoads('p', 5)).map((l) => l.loadId)).toEqual(['l1'])
      expect(await r.countRows(root)).toEqual({ rows: 1, softDeleted: 0 })
      expect(await r.countOpenRejects('p', ['tickets'])).toEqual(new Map([['tickets', 1]]))
      expect((await r.readSchemaHistory()).length).toBeGreaterThan(0)
      expect((await r.readSchemaChanges(10)).length).toBe(2)
    })
  })
}
