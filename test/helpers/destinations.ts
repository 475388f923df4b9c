import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { inject } from 'vitest'
import type { ResolvedPipeline } from '../../src/config/resolve-pipeline.js'
import { createDatabase, findPostgresBinDir } from './postgres-server.js'
import { tempDir } from './pipeline.js'

/** A kind of destination the suites run against, and how to get a fresh, empty one. */
export interface DestinationKind {
  readonly name: 'duckdb' | 'postgres'
  /** A `THENA_DESTINATION` value naming a new, empty warehouse. */
  freshUrl(): Promise<string>
}

/** Every destination: each shared suite runs once per entry. */
export const DESTINATION_KINDS: readonly DestinationKind[] = [
  { name: 'duckdb', freshUrl: async () => `duckdb:${join(tempDir(), 'thena.duckdb')}` },
  { name: 'postgres', freshUrl: () => createDatabase(inject('postgresUrl')) },
]

/** Epoch ms of a timestamp as either database prints it (`2024-01-02 03:04:05.123+00`). */
export const epochMs = (value: unknown): number | null =>
  value === null || value === undefined
    ? null
    : Date.parse(
        String(value)
          .replace(' ', 'T')
          .replace(/\+00(:00)?$/, 'Z'),
      )

/**
 * Everything a warehouse stores, as text, to search for secrets: the DuckDB file's bytes, or
 * `pg_dump` of the Postgres database.
 */
export function dumpWarehouse(pipeline: ResolvedPipeline): string {
  const where = pipeline.destination.description
  if (where.startsWith('duckdb:'))
    return readFileSync(where.slice('duckdb:'.length)).toString('latin1')
  const url = new URL(where)
  url.password = new URL(inject('postgresUrl')).password
  return execFileSync(join(findPostgresBinDir(), 'pg_dump'), [url.toString()], {
    encoding: 'utf8',
    maxBuffer: 1 << 30,
  })
}
