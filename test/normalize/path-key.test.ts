/**
 * Source paths are keyed internally by their segments joined with U+0001: a JSON key that
 * contains that character must not spell the same key as the nested path it looks like.
 */
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { DUCKDB_CAPABILITIES } from '../../destinations/duckdb/index.js'
import { defineResource } from '../../src/source/define-source.js'
import { Normalizer } from '../../src/normalize/normalizer.js'
import { SchemaRegistry, pathKey } from '../../src/normalize/schema-registry.js'

const resource = defineResource({
  name: 'things',
  path: '/things',
  schema: z.looseObject({ id: z.string() }),
  recordsPath: [],
  primaryKey: 'id',
  paginator: { type: 'cursor' },
  sync: 'full',
})

describe('path keys', () => {
  it('a key containing the separator and the nested path it spells land in distinct columns', () => {
    const registry = new SchemaRegistry(DUCKDB_CAPABILITIES)
    const normalizer = new Normalizer(registry, resource, 'load')
    normalizer.add({ id: 'flat', 'a\u0001b': 'from the flat key' })
    normalizer.add({ id: 'nested', a: { b: 'from the nested object' } })
    normalizer.add({ id: 'both', 'a\u0001b': 'flat again', a: { b: 'nested again' } })
    const batch = normalizer.take()
    const columns = registry.table('things')!.schema.columns.filter((c) => c.path.length > 0)
    const flat = columns.find((c) => c.path.length === 1 && c.path[0] === 'a\u0001b')
    const nested = columns.find((c) => c.path.join('.') === 'a.b')
    expect(flat).toBeDefined()
    expect(nested).toBeDefined()
    expect(flat!.name).not.toBe(nested!.name)
    const rows = new Map(batch.rows.get('things')!.map((r) => [r.id, r]))
    expect(rows.get('flat')![flat!.name]).toBe('from the flat key')
    expect(rows.get('flat')![nested!.name] ?? null).toBeNull()
    expect(rows.get('nested')![nested!.name]).toBe('from the nested object')
    expect(rows.get('nested')![flat!.name]).toBeNull()
    expect(rows.get('both')![flat!.name]).toBe('flat again')
    expect(rows.get('both')![nested!.name]).toBe('nested again')
    // A registry read back from the warehouse keeps them apart too.
    const again = new SchemaRegistry(DUCKDB_CAPABILITIES, registry.tables)
    const next = new Normalizer(again, resource, 'load-2')
    next.add({ id: 'nested', a: { b: 'still nested' } })
    const [row] = next.take().rows.get('things')!
    expect(row![nested!.name]).toBe('still nested')
    expect(row![flat!.name]).toBeNull()
  })

  it('is one-to-one however the segments use the separator and the escape', () => {
    const paths = [
      ['a\u0001b'],
      ['a', 'b'],
      ['a\u0002ab'],
      ['a\u0002', 'b'],
      ['a\u0002a', 'b'],
      ['a', '\u0001b'],
      ['a\u0001', 'b'],
    ]
    expect(new Set(paths.map(pathKey)).size).toBe(paths.length)
  })
})
