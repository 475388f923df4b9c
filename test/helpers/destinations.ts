import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { inject } from 'vitest'
import type { ResolvedPipeline } from '../../src/config/resolve-pipeline.js'
import type { LoadRecord } from '../../src/load/destination.js'
import { createDatabase, findPostgresBinDir } from './postgres-server.js'
import { tempDir } from './pipeline.js'

/** Names of the destinations the suites know. */
export const DESTINATION_NAMES = ['duckdb', 'postgres'] as const
export type DestinationName = (typeof DESTINATION_NAMES)[number]

/** A kind of destination the suites run against, and how to get a fresh, empty one. */
export interface DestinationKind {
  /** The destination's `name` (`Destination.name`). */
  readonly name: DestinationName
  /** A `THENA_DESTINATION` value naming a new, empty warehouse. */
  freshUrl(): Promise<string>
  /** Everything the warehouse of `pipeline` stores, as text (see `dumpWarehouse`). */
  dump(pipeline: ResolvedPipeline): string
}

const ALL_KINDS: readonly DestinationKind[] = [
  {
    name: 'duckdb',
    freshUrl: async () => `duckdb:${join(tempDir(), 'thena.duckdb')}`,
    // The description is `duckdb:PATH`: the file's bytes.
    dump: (pipeline) =>
      readFileSync(pipeline.destination.description.slice('duckdb:'.length)).toString('latin1'),
  },
  {
    name: 'postgres',
    freshUrl: () => createDatabase(inject('postgresUrl')),
    dump: (pipeline) => {
      const url = new URL(pipeline.destination.description)
      url.password = new URL(inject('postgresUrl')).password
      return execFileSync(join(findPostgresBinDir(), 'pg_dump'), [url.toString()], {
        encoding: 'utf8',
        maxBuffer: 1 << 30,
      })
    },
  },
]

/**
 * The destinations `THENA_TEST_DESTINATIONS` selects (a comma list, e.g. `duckdb`; unset or
 * empty: all). An unknown name fails at once, naming the known ones.
 */
export function selectDestinationKinds(
  selection: string | undefined = process.env.THENA_TEST_DESTINATIONS,
): readonly DestinationKind[] {
  const names = (selection ?? '')
    .split(',')
    .map((n) => n.trim())
    .filter((n) => n !== '')
  if (names.length === 0) return ALL_KINDS
  const unknown = names.filter((n) => !(DESTINATION_NAMES as readonly string[]).includes(n))
  if (unknown.length > 0)
    throw new Error(
      `THENA_TEST_DESTINATIONS: unknown destination ${unknown.map((n) => `\`${n}\``).join(', ')}; known: ${DESTINATION_NAMES.join(', ')}`,
    )
  return ALL_KINDS.filter((k) => names.includes(k.name))
}

/** The destinations each shared suite runs once for: all, or those `THENA_TEST_DESTINATIONS` names. */
export const DESTINATION_KINDS: readonly DestinationKind[] = selectDestinationKinds()

/** One destination by name, whatever `THENA_TEST_DESTINATIONS` selects (for tests of one kind). */
export const destinationKind = (name: DestinationName): DestinationKind =>
  ALL_KINDS.find((k) => k.name === name)!

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
 * `pg_dump` of the Postgres database (chosen by the destination's name, never its URL).
 */
export function dumpWarehouse(pipeline: ResolvedPipeline): string {
  const kind = ALL_KINDS.find((k) => k.name === pipeline.destination.name)
  if (!kind)
    throw new Error(`dumpWarehouse: no test kind for destination ${pipeline.destination.name}`)
  return kind.dump(pipeline)
}

/** A load row with every counter at 0, for tests that commit outside a run. */
export const loadRow = (
  loadId: string,
  status: LoadRecord['status'],
  over: Partial<LoadRecord> = {},
): LoadRecord => ({
  loadId,
  pipeline: 'p',
  command: 'run',
  status,
  startedAt: new Date(Date.UTC(2026, 0, 1)),
  records: 0,
  rejects: 0,
  requests: 0,
  retries: 0,
  rateLimited: 0,
  unchanged: 0,
  ...over,
})
