/**
 * The committer against a real DuckDB file: commits happen strictly in order, at most one is
 * in flight, each writes its rows and state together, and a failure reaches the next caller.
 */
import { loadRow } from '../helpers/destinations.js'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { DuckDbDestination } from '../../destinations/duckdb/index.js'
import { Committer } from '../../src/load/committer.js'
import type { DestinationSession } from '../../src/load/destination.js'
import { Normalizer } from '../../src/normalize/normalizer.js'
import { SchemaRegistry } from '../../src/normalize/schema-registry.js'
import { defineResource } from '../../src/source/define-source.js'
import { z } from 'zod'
import { tempDir } from '../helpers/pipeline.js'

const resource = defineResource({
  name: 'items',
  path: '/items',
  schema: z.object({ id: z.string(), n: z.number() }),
  recordsPath: [],
  primaryKey: 'id',
  paginator: { type: 'cursor' },
})

/** The session, with every transaction's start and end noted (it still does the work). */
function observed(session: DestinationSession, log: string[]): DestinationSession {
  let open = 0
  return new Proxy(session, {
    get(target, key, receiver) {
      if (key !== 'transaction') return Reflect.get(target, key, receiver) as unknown
      return async (fn: Parameters<DestinationSession['transaction']>[0]) => {
        open++
        log.push(`begin ${open}`)
        try {
          return await target.transaction(fn)
        } finally {
          open--
          log.push('end')
        }
      }
    },
  })
}

async function setUp() {
  const destination = new DuckDbDestination({ path: join(tempDir(), 'c.duckdb'), schema: 'thena' })
  const raw = await destination.connect()
  await raw.prepare()
  const log: string[] = []
  const session = observed(raw, log)
  const registry = new SchemaRegistry(destination.capabilities, await raw.readTables())
  const normalizer = new Normalizer(registry, resource, 'L1')
  const batch = (from: number, n: number) => {
    for (let i = from; i < from + n; i++) normalizer.add({ id: `i${i}`, n: i })
    return normalizer.take()
  }
  return { raw, session, registry, batch, log }
}

const load = () => loadRow('L1', 'running')

describe('Committer', () => {
  it('commits in order with at most one transaction in flight, rows and state together', async () => {
    const { raw, session, registry, batch, log } = await setUp()
    const committer = new Committer(session, registry, 'p', 'L1')
    const done: number[] = []
    try {
      for (let k = 0; k < 4; k++) {
        await committer.commit({
          resource: 'items',
          batches: [batch(k * 10, 10)],
          state: { version: 1, records: (k + 1) * 10, position: { cursor: `c${k}` } },
          load,
          onCommitted: () => done.push(k),
        })
      }
      await committer.drain()
      expect(done).toEqual([0, 1, 2, 3])
      expect(log.filter((l) => l.startsWith('begin'))).toEqual(Array(4).fill('begin 1'))
      const { rows } = await raw.query('SELECT count(*)::INT AS n FROM thena.items')
      expect(rows[0]!.n).toBe(40)
      expect((await raw.readState('p')).get('items')).toMatchObject({
        records: 40,
        position: { cursor: 'c3' },
      })
    } finally {
      await raw.close()
    }
  })

  it('a failed commit fails the next commit or drain, and settle swallows it', async () => {
    const { raw, session, registry, batch } = await setUp()
    const committer = new Committer(session, registry, 'p', 'L1')
    try {
      await committer.commit({
        resource: 'items',
        batches: [batch(0, 1)],
        state: undefined,
        load: () => {
          throw new Error('load row refused')
        },
        onCommitted: () => undefined,
      })
      await expect(committer.drain()).rejects.toThrow('load row refused')
      await committer.settle()
      // The transaction rolled back whole, DDL included: no table, no rows without a load row.
      const { rows } = await raw.query(
        "SELECT count(*)::INT AS n FROM information_schema.tables WHERE table_schema = 'thena' AND table_name = 'items'",
      )
      expect(rows[0]!.n).toBe(0)
    } finally {
      await raw.close()
    }
  })
})
