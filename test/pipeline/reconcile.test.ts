/**
 * Reconcile as a unit, against a real DuckDB file: which rows it marks deleted, and when the
 * mass-delete guard refuses (a decision, so a table of cases).
 */
import { loadRow } from '../helpers/destinations.js'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { DuckDbDestination } from '../../destinations/duckdb/index.js'
import { defineResource } from '../../src/source/define-source.js'
import { Committer } from '../../src/load/committer.js'
import { Normalizer } from '../../src/normalize/normalizer.js'
import { SchemaRegistry } from '../../src/normalize/schema-registry.js'
import { reconcile, SeenKeys } from '../../src/pipeline/reconcile.js'
import type { ResourceState } from '../../src/state/resource-state.js'
import { tempDir } from '../helpers/pipeline.js'

const resource = defineResource({
  name: 'items',
  path: '/items',
  schema: z.object({ id: z.string() }),
  recordsPath: [],
  primaryKey: 'id',
  paginator: { type: 'cursor' },
})

/** A warehouse holding items i0..i{rows-1}, and a reconcile that saw the first `seen` of them. */
async function reconcileAfter(rows: number, seen: number, share: number, allow: boolean) {
  const destination = new DuckDbDestination({ path: join(tempDir(), 'r.duckdb'), schema: 'thena' })
  const session = await destination.connect()
  try {
    await session.prepare()
    const registry = new SchemaRegistry(destination.capabilities, [])
    const normalizer = new Normalizer(registry, resource, 'L0')
    for (let i = 0; i < rows; i++) normalizer.add({ id: `i${i}` })
    const committer = new Committer(session, registry, 'p', 'L0')
    await committer.commit({
      resource: 'items',
      batches: [normalizer.take()],
      state: { version: 1, records: rows },
      load: () => loadRow('L0', 'success', { records: rows }),
      onCommitted: () => undefined,
    })
    await committer.drain()
    const keys = new SeenKeys()
    keys.scanned('items')
    for (let i = 0; i < seen; i++) keys.add('items', `i${i}`)
    const states = new Map<string, ResourceState>([['items', { version: 1, records: rows }]])
    const run = {
      session,
      registry,
      pipeline: 'p',
      loadId: 'L1',
      resources: ['items'],
      states,
      maxDeleteShare: share,
      allowMassDelete: allow,
    }
    const outcome = await reconcile(run, keys).then(
      (deleted) => ({ deleted }),
      (error: Error) => ({ error: error.message }),
    )
    const { rows: marked } = await session.query(
      'SELECT count(*)::INT AS n FROM thena.items WHERE _thena_deleted_at IS NOT NULL',
    )
    const stored = (await session.readState('p')).get('items')
    return { outcome, marked: marked[0]!.n as number, reconciledAt: stored?.reconciledAt, states }
  } finally {
    await session.close()
  }
}

describe('reconcile', () => {
  it.each([
    // rows, seen, maxDeleteShare, allowMassDelete → rows marked (or refused)
    [10, 10, 0.5, false, 0],
    [10, 7, 0.5, false, 3],
    [10, 5, 0.5, false, 5], // exactly the share is allowed
    [10, 4, 0.5, false, 'refused'], // 6 of 10 > 50%
    [10, 0, 1, false, 'refused'], // never all of a table on thin evidence
    [10, 0, 1, true, 10], // unless the deletions are declared real
    [10, 2, 0.9, false, 8],
  ])('%i rows, %i seen, share %d, allow %s → %s', async (rows, seen, share, allow, expected) => {
    const result = await reconcileAfter(rows, seen, share, allow)
    if (expected === 'refused') {
      expect(result.outcome).toMatchObject({
        error: expect.stringMatching(/^reconcile would soft-delete/),
      })
      // Rolled back whole: nothing marked, and the resource is not recorded as reconciled.
      expect(result.marked).toBe(0)
      expect(result.reconciledAt).toBeUndefined()
    } else {
      expect(result.outcome).toEqual({ deleted: expected })
      expect(result.marked).toBe(expected)
      expect(result.reconciledAt).toBeDefined()
      expect(result.states.get('items')?.reconciledAt).toBe(result.reconciledAt)
    }
  })
})
