/**
 * The tables each zod schema in schemas/thena/ declares, on each destination's naming limits.
 * A change to a schema (or to naming) shows up here as a snapshot diff to review and commit.
 */
import { describe, expect, it } from 'vitest'
import { DUCKDB_CAPABILITIES } from '../../destinations/duckdb/index.js'
import { POSTGRES_CAPABILITIES } from '../../destinations/postgres/index.js'
import { Normalizer } from '../../src/normalize/normalizer.js'
import { SchemaRegistry } from '../../src/normalize/schema-registry.js'
import { thenaSource } from '../../sources/thena/index.js'

const layout = (capabilities: { maxIdentifierLength: number }) => {
  const registry = new SchemaRegistry(capabilities)
  for (const resource of thenaSource.resources) new Normalizer(registry, resource, 'snapshot')
  return registry.tables.map((t) => ({
    table: t.name,
    ...(t.parent && { parent: t.parent, arrayPath: t.arrayPath!.join('.') }),
    key: t.primaryKey,
    columns: t.columns.map(
      (c) => `${c.name} ${c.type}${c.path.length ? ` <- ${c.path.join('.')}` : ''}`,
    ),
  }))
}

describe('tables declared by schemas/thena', () => {
  it('DuckDB', () => {
    expect(layout(DUCKDB_CAPABILITIES)).toMatchSnapshot()
  })

  it('Postgres (63-byte identifiers)', () => {
    const tables = layout(POSTGRES_CAPABILITIES)
    for (const t of tables)
      for (const c of t.columns) expect(Buffer.byteLength(c.split(' ')[0]!)).toBeLessThanOrEqual(63)
    expect(tables).toMatchSnapshot()
  })
})
