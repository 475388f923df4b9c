/**
 * Flattening records the schema does not declare: new nested objects, fields that come back in
 * later records, values whose type clashes with their column, and arrays of scalars.
 */
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { DUCKDB_CAPABILITIES } from '../../destinations/duckdb/index.js'
import { defineResource } from '../../src/source/define-source.js'
import { Normalizer } from '../../src/normalize/normalizer.js'
import { SchemaRegistry } from '../../src/normalize/schema-registry.js'

const resource = defineResource({
  name: 'things',
  path: '/things',
  schema: z.looseObject({ id: z.string(), meta: z.looseObject({ size: z.number() }) }),
  recordsPath: [],
  primaryKey: 'id',
  paginator: { type: 'cursor' },
  sync: 'full',
})

/** Each row's values by column source path (system columns left out). */
function byPath(registry: SchemaRegistry, table: string, row: Record<string, unknown>) {
  const out: Record<string, unknown> = {}
  for (const column of registry.table(table)!.schema.columns)
    if (column.path.length > 0 && row[column.name] != null)
      out[`${column.path.join('.')}${column.variantOf ? `:${column.type}` : ''}`] = row[column.name]
  return out
}

describe('Normalizer', () => {
  it('flattens new nested fields into one column per path, reused by every later record', () => {
    const registry = new SchemaRegistry(DUCKDB_CAPABILITIES)
    const normalizer = new Normalizer(registry, resource, 'load')
    normalizer.add({ id: 'a', meta: { size: 1, extra: { x: 'one', y: true } }, tags: ['p', 'q'] })
    normalizer.add({ id: 'b', meta: { size: 2, extra: { y: false, x: 'two' } } })
    normalizer.add({ id: 'c', meta: { size: 3, extra: { x: 3 } } })
    const batch = normalizer.take()
    const columns = registry.table('things')!.schema.columns.filter((c) => c.path.length > 0)
    expect(columns.map((c) => `${c.name} ${c.type} <- ${c.path.join('.')}`)).toEqual([
      'id text <- id',
      'meta__size double <- meta.size',
      'meta__extra__x text <- meta.extra.x',
      'meta__extra__y boolean <- meta.extra.y',
      'tags json <- tags',
      'meta__extra__x__v_bigint bigint <- meta.extra.x',
    ])
    expect(batch.rows.get('things')!.map((row) => byPath(registry, 'things', row))).toEqual([
      { id: 'a', 'meta.size': 1, 'meta.extra.x': 'one', 'meta.extra.y': true, tags: ['p', 'q'] },
      { id: 'b', 'meta.size': 2, 'meta.extra.x': 'two', 'meta.extra.y': false },
      { id: 'c', 'meta.size': 3, 'meta.extra.x:bigint': 3 },
    ])
  })

  it('a registry read back from the warehouse routes values to the same columns', () => {
    const first = new SchemaRegistry(DUCKDB_CAPABILITIES)
    const one = new Normalizer(first, resource, 'load-1')
    one.add({ id: 'a', meta: { size: 1, extra: { x: 'one' } } })
    one.take()
    const again = new SchemaRegistry(DUCKDB_CAPABILITIES, first.tables)
    const two = new Normalizer(again, resource, 'load-2')
    two.add({ id: 'b', meta: { size: 2, extra: { x: 'two' } } })
    expect(byPath(again, 'things', two.take().rows.get('things')![0]!)).toEqual({
      id: 'b',
      'meta.size': 2,
      'meta.extra.x': 'two',
    })
    expect(again.takeChanges()).toEqual([])
  })

  it("a strict schema's unknown field is a new column; a null in a declared field is no type change", () => {
    const strict = defineResource({
      ...resource,
      schema: z.strictObject({ id: z.string(), title: z.string(), size: z.number() }),
    })
    for (const typeChanges of ['evolve', 'freeze', 'discard_value'] as const) {
      const registry = new SchemaRegistry(DUCKDB_CAPABILITIES)
      const normalizer = new Normalizer(registry, strict, 'load', {
        newColumns: 'evolve',
        typeChanges,
      })
      normalizer.add({ id: 'a', title: null, size: 1, priority: 'high' })
      const batch = normalizer.take()
      expect(batch.rejects).toEqual([])
      expect(byPath(registry, 'things', batch.rows.get('things')![0]!)).toEqual({
        id: 'a',
        size: 1,
        priority: 'high',
      })
    }
  })

  it('a record without a usable key is rejected whole; one that cannot be normalized, alone', () => {
    const registry = new SchemaRegistry(DUCKDB_CAPABILITIES)
    const normalizer = new Normalizer(registry, resource, 'load')
    normalizer.add({ id: 'ok', meta: { size: 1 } })
    normalizer.add({ id: 'a\u0000b', meta: { size: 1 } })
    normalizer.add({ id: 'x'.repeat(2000), meta: { size: 1 } })
    normalizer.add({ meta: { size: 1 } })
    normalizer.add('not a record')
    const batch = normalizer.take()
    expect(batch.rootIds).toEqual(['ok'])
    expect(batch.rejects.map((r) => r.reason.split(':')[0])).toEqual(['id', 'id', 'id', '(record)'])
  })
})
