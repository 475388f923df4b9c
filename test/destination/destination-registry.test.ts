/**
 * The destination registry: a `THENA_DESTINATION` string picks the first registered entry
 * whose scheme it has; a refused string is named by its field and never echoed. Also the
 * `THENA_TEST_DESTINATIONS` filter of the shared suites, and the timestamp text both
 * destinations print.
 */
import { describe, expect, it } from 'vitest'
import {
  destinationEntries,
  destinationFromUrl,
  registerDestination,
} from '../../src/load/destination-registry.js'
import type { Destination } from '../../src/load/destination.js'
import { escapeSqlIdentifier } from '../../src/load/destination.js'
import { parseTimestamp, timestampText } from '../../src/load/system-tables.js'
import { redactor } from '../../src/redactor.js'
import { DUCKDB_CAPABILITIES } from '../../destinations/duckdb/index.js'
import { POSTGRES_CAPABILITIES } from '../../destinations/postgres/index.js'
import { DESTINATION_NAMES, selectDestinationKinds } from '../helpers/destinations.js'

describe('destinationFromUrl', () => {
  it.each([
    ['duckdb:./thena.duckdb', 'duckdb', 'duckdb:./thena.duckdb'],
    [
      'postgres://u:pw@db.example:5433/warehouse',
      'postgres',
      'postgres://u@db.example:5433/warehouse',
    ],
    ['postgresql://u@db.example/warehouse', 'postgres', 'postgres://u@db.example:5432/warehouse'],
    ['POSTGRES://u@db.example/warehouse', 'postgres', 'postgres://u@db.example:5432/warehouse'],
  ])('%s is a %s destination, described as %s', (url, name, description) => {
    const destination = destinationFromUrl(url, 'thena')
    expect(destination.name).toBe(name)
    expect(destination.description).toBe(description)
  })

  it.each([
    ['duckdb:', 'THENA_DESTINATION: `duckdb:` needs a file path, e.g. `duckdb:./thena.duckdb`'],
    [
      'postgres:/nohost',
      'THENA_DESTINATION: expected `postgres://USER:PASSWORD@HOST:PORT/DATABASE`, with @ : / ? # % in the password percent-encoded (the value is not shown, as it may hold a password)',
    ],
    [
      'postgres://u:secret@host',
      'THENA_DESTINATION: expected `postgres://USER:PASSWORD@HOST:PORT/DATABASE`, with @ : / ? # % in the password percent-encoded (the value is not shown, as it may hold a password)',
    ],
    [
      'mysql://u:pw@host/db',
      'THENA_DESTINATION: expected `duckdb:PATH` or a `postgres://` URL, got a `mysql:` URL (the value is not shown, as it may hold a password)',
    ],
    [
      'thena.duckdb',
      'THENA_DESTINATION: expected `duckdb:PATH` or a `postgres://` URL, got something else (the value is not shown, as it may hold a password)',
    ],
  ])('%s is refused with a message that names the field', (url, message) => {
    expect(() => destinationFromUrl(url, 'thena', 'THENA_DESTINATION')).toThrow(
      expect.objectContaining({ code: 'config_invalid', message }),
    )
  })

  it('adds the passwords of any destination string to the redactor, even a refused one', () => {
    expect(() => destinationFromUrl('mysql://u:hunter2-x@host/db', 'thena')).toThrow()
    expect(redactor.redact('pw hunter2-x')).not.toContain('hunter2-x')
    destinationFromUrl('postgres://u@host/db?password=qwerty-77', 'thena')
    expect(redactor.redact('qwerty-77')).not.toContain('qwerty-77')
  })

  it('passes the dataset and DuckDB settings on to the destination it builds', async () => {
    const destination = destinationFromUrl('duckdb::memory:', 'my_set', 'destination', {
      memoryLimit: '128MB',
    })
    const session = await destination.connect()
    try {
      await session.prepare()
      expect((await session.query(`SELECT current_setting('memory_limit') AS m`)).rows).toEqual([
        { m: '122.0 MiB' },
      ])
      expect(
        (
          await session.query(
            `SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = 'my_set'`,
          )
        ).rows,
      ).toEqual([{ n: '5' }])
    } finally {
      await session.close()
    }
  })

  it('a registered entry is tried after the built-ins and named in the refusal of others', () => {
    const before = destinationEntries().length
    const made: string[] = []
    registerDestination({
      test: (url) => url.startsWith('memo:'),
      example: '`memo:NAME`',
      create: (url, dataset) => {
        made.push(`${url} ${dataset}`)
        return { name: 'memo', description: url } as unknown as Destination
      },
    })
    expect(destinationEntries()).toHaveLength(before + 1)
    expect(destinationFromUrl('memo:x', 'd').name).toBe('memo')
    expect(made).toEqual(['memo:x d'])
    // The built-ins still win their schemes.
    expect(destinationFromUrl('duckdb:./a.duckdb', 'd').name).toBe('duckdb')
    expect(() => destinationFromUrl('s3://bucket', 'd')).toThrow(
      'expected `duckdb:PATH`, a `postgres://` URL or `memo:NAME`, got a `s3:` URL',
    )
  })
})

describe('escapeIdentifier', () => {
  it.each([
    ['plain', '"plain"'],
    ['a"b', '"a""b"'],
    ['"', '""""'],
    ['a.b', '"a.b"'],
    ['ünï 😀', '"ünï 😀"'],
    ['', '""'],
  ])('%s -> %s', (name, quoted) => {
    expect(escapeSqlIdentifier(name)).toBe(quoted)
  })

  it('is the one quoting function of both built-in destinations', () => {
    expect(DUCKDB_CAPABILITIES.escapeIdentifier).toBe(escapeSqlIdentifier)
    expect(POSTGRES_CAPABILITIES.escapeIdentifier).toBe(escapeSqlIdentifier)
  })
})

describe('THENA_TEST_DESTINATIONS', () => {
  it.each([
    [undefined, DESTINATION_NAMES],
    ['', DESTINATION_NAMES],
    ['duckdb', ['duckdb']],
    ['postgres', ['postgres']],
    [' postgres , duckdb ', ['duckdb', 'postgres']],
  ])('%j selects %j', (selection, names) => {
    expect(selectDestinationKinds(selection).map((k) => k.name)).toEqual(names)
  })

  it('an unknown name fails at once, naming the known ones', () => {
    expect(() => selectDestinationKinds('duckdb,sqlite')).toThrow(
      'THENA_TEST_DESTINATIONS: unknown destination `sqlite`; known: duckdb, postgres',
    )
  })
})

describe('timestamps of the system tables', () => {
  it.each([
    ['2023-11-14 22:13:20.12+00', Date.UTC(2023, 10, 14, 22, 13, 20, 120)],
    ['2023-11-14 22:13:20+00', Date.UTC(2023, 10, 14, 22, 13, 20)],
    ['2023-11-14 23:13:20.123+01', Date.UTC(2023, 10, 14, 22, 13, 20, 123)],
    ['2023-11-15 03:43:20.5+05:30', Date.UTC(2023, 10, 14, 22, 13, 20, 500)],
  ])('%s is read in its own offset', (text, ms) => {
    expect(parseTimestamp(text)!.getTime()).toBe(ms)
  })

  it.each([
    [Date.UTC(2023, 10, 14, 22, 13, 20, 120), '2023-11-14 22:13:20.12+00'],
    [Date.UTC(2023, 10, 14, 22, 13, 20), '2023-11-14 22:13:20+00'],
    [Date.UTC(2023, 10, 14, 22, 13, 20, 3), '2023-11-14 22:13:20.003+00'],
  ])('%s prints in UTC as the databases do: %s', (ms, text) => {
    expect(timestampText(new Date(ms))).toBe(text)
  })

  it('NULL is null, and text that is no timestamp fails', () => {
    expect(parseTimestamp(null)).toBeNull()
    expect(() => parseTimestamp('yesterday')).toThrow('not a timestamp')
  })
})
