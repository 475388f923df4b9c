/**
 * Lookups as a unit: referenced records missing from the warehouse are fetched one by one,
 * those already loaded are not, and one that is not found is not asked for twice.
 */
import { loadRow } from '../helpers/destinations.js'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { DuckDbDestination } from '../../destinations/duckdb/index.js'
import { defineResource } from '../../src/source/define-source.js'
import { Lookups } from '../../src/extract/lookups.js'
import { HttpClient } from '../../src/http/http-client.js'
import { bearerAuth } from '../../src/source/auth.js'
import { Committer } from '../../src/load/committer.js'
import { Normalizer } from '../../src/normalize/normalizer.js'
import { SchemaRegistry } from '../../src/normalize/schema-registry.js'
import type { ResolvedResource } from '../../src/config/resolve-pipeline.js'
import { startStandInApi } from '../helpers/http.js'
import type { StandInApi } from '../helpers/http.js'
import { tempDir } from '../helpers/pipeline.js'

const users = defineResource({
  name: 'users',
  path: '/users',
  schema: z.object({ id: z.string(), name: z.string() }),
  recordsPath: ['data'],
  primaryKey: 'id',
  paginator: { type: 'cursor' },
})
const requests = {
  ...defineResource({
    name: 'requests',
    path: '/requests',
    schema: z.object({ id: z.string(), assignee: z.string().nullable() }),
    recordsPath: ['data'],
    primaryKey: 'id',
    paginator: { type: 'cursor' },
    dependents: [
      { resource: 'users', field: 'assignee', path: '/users/{id}', recordPath: ['data'] },
    ],
  }),
} as unknown as ResolvedResource

let api: StandInApi | undefined
afterEach(() => api?.close())

describe('Lookups', () => {
  it('fetches only referenced records that are neither loaded nor known missing', async () => {
    const asked: string[] = []
    api = await startStandInApi(
      {
        '/users/u2': { data: { id: 'u2', name: 'Two' } },
        '/users/u3': { data: null }, // the API's way of saying "no such user"
      },
      (url) => asked.push(url.pathname),
    )
    const destination = new DuckDbDestination({
      path: join(tempDir(), 'l.duckdb'),
      schema: 'thena',
    })
    const session = await destination.connect()
    const http = new HttpClient({ baseUrl: api.url, auth: bearerAuth(api.token), backoffMs: 1 })
    try {
      await session.prepare()
      const registry = new SchemaRegistry(destination.capabilities, [])
      // u1 is already in the warehouse.
      const normalizer = new Normalizer(registry, users, 'L0')
      normalizer.add({ id: 'u1', name: 'One' })
      const committer = new Committer(session, registry, 'p', 'L0')
      await committer.commit({
        resource: 'users',
        batches: [normalizer.take()],
        state: undefined,
        load: () => loadRow('L0', 'success', { records: 1 }),
        onCommitted: () => undefined,
      })
      await committer.drain()
      const seen: string[] = []
      const lookups = new Lookups({
        http,
        session,
        registry,
        loadId: 'L1',
        sourceResources: [users],
        resources: [],
        onReference: (resource, id) => seen.push(`${resource}:${id}`),
      })
      await lookups.prepare(requests)
      lookups.collect(requests, [
        { id: 'r1', assignee: 'u1' },
        { id: 'r2', assignee: 'u2' },
        { id: 'r3', assignee: 'u3' },
        { id: 'r4', assignee: null },
        { id: 'r5', assignee: 'u2' },
      ])
      const [batch] = await lookups.fetchMissing(requests)
      expect(batch?.rootIds).toEqual(['u2'])
      expect(asked.sort()).toEqual(['/users/u2', '/users/u3'])
      expect(seen).toEqual(['users:u1', 'users:u2', 'users:u3', 'users:u2'])
      lookups.remember(batch!)
      // Next batch: u2 now loaded, u3 known missing: nothing is asked for again.
      lookups.collect(requests, [
        { id: 'r6', assignee: 'u2' },
        { id: 'r7', assignee: 'u3' },
      ])
      expect(await lookups.fetchMissing(requests)).toEqual([])
      expect(asked).toHaveLength(2)
    } finally {
      await http.close()
      await session.close()
    }
  })
})
