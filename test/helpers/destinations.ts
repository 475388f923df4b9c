import { join } from 'node:path'
import { inject } from 'vitest'
import { createDatabase } from './postgres-server.js'
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
