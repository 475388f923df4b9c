/**
 * Field names an API may send that are not SQL identifiers: keywords, quotes, spaces, dots,
 * unicode, names over 63 bytes, and names that normalize to the same identifier. They must
 * become safe, distinct, deterministic columns on every destination, mapped back to their path.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { destinationFromUrl } from '../../src/load/destination-registry.js'
import { defineResource } from '../../src/source/define-source.js'
import type { DestinationSession } from '../../src/load/destination.js'
import { Normalizer } from '../../src/normalize/normalizer.js'
import { SchemaRegistry } from '../../src/normalize/schema-registry.js'
import { runPipeline } from '../../src/pipeline/run-pipeline.js'
import { startSimulator } from '../../sources/thena/simulator/index.js'
import type { Simulator } from '../../sources/thena/simulator/index.js'
import { DESTINATION_KINDS } from '../helpers/destinations.js'
import { simulatorPipeline } from '../helpers/pipeline.js'

const HOSTILE: Record<string, unknown> = {
  id: 'rec-1',
  select: 'a keyword',
  'Order Total': 12.5,
  'a"b': 'double quote',
  "it's": 'single quote',
  'a.b': 'a dot',
  'naïve café': 'accents',
  日本語: 'unicode',
  '': 'empty',
  '123abc': 'leading digit',
  fooBar: 'camel',
  foo_bar: 'snake (same identifier as fooBar)',
  _thena_load_id: 'collides with a system column',
  ['long_' + 'x'.repeat(70) + '_one']: 'long 1',
  ['long_' + 'x'.repeat(70) + '_two']: 'long 2',
  nested: { 'WHERE clause': true, 'semi;colon': 'sc' },
}

const resource = defineResource({
  name: 'hostile',
  path: '/hostile',
  schema: z.looseObject({ id: z.string() }),
  recordsPath: [],
  primaryKey: 'id',
  paginator: { type: 'cursor' },
  sync: 'full',
})

for (const kind of DESTINATION_KINDS) {
  describe(`hostile field names into ${kind.name}`, () => {
    let session: DestinationSession | undefined
    afterEach(async () => {
      await session?.close()
      session = undefined
    })

    it('become safe, distinct, deterministic identifiers, and every value reads back by its path', async () => {
      const destination = destinationFromUrl(await kind.freshUrl(), 'thena')
      const limit = destination.capabilities.maxIdentifierLength
      const normalize = () => {
        const registry = new SchemaRegistry(destination.capabilities)
        const normalizer = new Normalizer(registry, resource, 'load-1')
        normalizer.add(HOSTILE)
        return { registry, batch: normalizer.take() }
      }
      const { registry, batch } = normalize()
      const table = registry.table('hostile')!.schema
      const names = table.columns.map((c) => c.name)
      expect(new Set(names).size).toBe(names.length)
      for (const name of names) {
        expect(name).toMatch(/^[a-z_][a-z0-9_]*$/)
        expect(Buffer.byteLength(name)).toBeLessThanOrEqual(limit)
      }
      // The same input maps to the same columns on every run.
      expect(normalize().registry.table('hostile')!.schema.columns).toEqual(table.columns)
      session = await destination.connect()
      await session.prepare()
      await session.transaction(async (tx) => {
        await tx.applySchema(registry.takeChanges(), 'load-1')
        await tx.merge(table, batch.rows.get('hostile')!)
      })
      const stored = (await session.readTables()).find((t) => t.name === 'hostile')!
      const [row] = (await session.query('SELECT * FROM thena.hostile')).rows
      const valueAt = (path: readonly string[]) => {
        const column = stored.columns.find((c) => JSON.stringify(c.path) === JSON.stringify(path))
        expect(column, `a column for ${JSON.stringify(path)}`).toBeDefined()
        return row![column!.name]
      }
      for (const [key, value] of Object.entries(HOSTILE)) {
        if (key === 'nested') continue
        const got = valueAt([key])
        expect(typeof value === 'number' ? Number(got) : got).toEqual(value)
      }
      expect(valueAt(['nested', 'WHERE clause'])).toBe(true)
      expect(valueAt(['nested', 'semi;colon'])).toBe('sc')
      // The system column keeps its meaning; the field of the same name got its own column.
      expect(row!._thena_load_id).toBe('load-1')
    })
  })
}

for (const kind of DESTINATION_KINDS) {
  describe(`hostile field names from the API, mid-run, into ${kind.name}`, () => {
    let sim: Simulator | undefined
    afterEach(async () => {
      await sim?.stop()
      sim = undefined
    })

    it('land as safe columns whose source paths map back to the fields', async () => {
      const s = (sim = await startSimulator({ rateLimit: false, records: 300 }))
      const fields = [
        'select',
        'Order Total',
        'naïve café',
        `long_${'y'.repeat(80)}`,
        'it\'s "quoted"',
      ]
      // From the middle of the first run on: each field appears part-way through the walk.
      for (const [i, field] of fields.entries())
        s.mutate({ op: 'addField', path: field, type: 'string', fromIndex: 100 + 20 * i })
      const pipeline = simulatorPipeline(
        s,
        { batchPages: 1, resources: { requests_v3: { enabled: false } } },
        await kind.freshUrl(),
      )
      const result = await runPipeline(pipeline)
      expect(result.error?.message).toBeUndefined()
      const session = await pipeline.destination.connect({ readOnly: true })
      try {
        const table = (await session.readTables()).find((t) => t.name === 'requests')!
        const truth = new Map([...s.truth.requests()].map((r) => [r.id as string, r]))
        for (const field of fields) {
          const column = table.columns.find((c) => c.path.length === 1 && c.path[0] === field)
          expect(column, field).toBeDefined()
          const { rows } = await session.query(
            `SELECT id, "${column!.name}" AS v FROM thena.requests WHERE "${column!.name}" IS NOT NULL`,
          )
          expect(rows.length).toBeGreaterThan(0)
          for (const row of rows) expect(row.v).toBe(truth.get(row.id as string)![field])
        }
      } finally {
        await session.close()
      }
    })
  })
}
