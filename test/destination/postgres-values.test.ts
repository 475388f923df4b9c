/**
 * The COPY text encoder against the plain definition of the format: the fast timestamp
 * formatter against `Date#toISOString`, and chunked, buffer-encoded output against one line
 * per row built field by field.
 */
import { describe, expect, it } from 'vitest'
import {
  copyField,
  copyTextChunks,
  isoTimestamp,
} from '../../destinations/postgres/postgres-values.js'
import type { ColumnSchema, Row } from '../../src/normalize/table-schema.js'

describe('isoTimestamp', () => {
  it('formats every instant as Date#toISOString does', () => {
    const edges = [
      0,
      -1,
      1,
      Date.UTC(2000, 1, 29, 23, 59, 59, 999),
      Date.UTC(1900, 2, 1),
      Date.UTC(1969, 11, 31, 23, 59, 59, 999),
      Date.UTC(0, 0, 1) - 1,
      new Date('0000-01-01T00:00:00.000Z').getTime(),
      new Date('9999-12-31T23:59:59.999Z').getTime(),
      new Date('+010000-01-01T00:00:00.000Z').getTime(),
      new Date('-000001-12-31T23:59:59.999Z').getTime(),
      8.64e15,
      -8.64e15,
      1.5,
      -1.5,
    ]
    for (const ms of edges) expect(isoTimestamp(ms), String(ms)).toBe(new Date(ms).toISOString())
    // Years 0 to 9999 in steps of about 11 days, each landing on a different time of day,
    // then beyond year 9999 in bigger steps.
    const mismatches: number[] = []
    for (let ms = -62_167_219_200_000; ms < 1_900_000_000_000_000;) {
      if (isoTimestamp(ms) !== new Date(ms).toISOString()) mismatches.push(ms)
      ms += ms < 253_402_300_800_000 ? 987_654_321 : 997_654_321_123
    }
    expect(mismatches).toEqual([])
  })
})

describe('copyTextChunks', () => {
  const columns: ColumnSchema[] = [
    { name: 'id', type: 'text', path: ['id'] },
    { name: 'at', type: 'timestamp', path: ['at'] },
    { name: 'n', type: 'bigint', path: ['n'] },
    { name: 'x', type: 'double', path: ['x'] },
    { name: 'ok', type: 'boolean', path: ['ok'] },
    { name: 'doc', type: 'json', path: ['doc'] },
  ]
  const rows: Row[] = [
    { id: 'plain', at: 0, n: 1, x: 1.5, ok: true, doc: { a: [1, 'two'] } },
    { id: 'tab\there\nnew\\line\rcr\0nul', at: -1, n: -7, x: 1e21, ok: false, doc: 'q"uote\t' },
    { id: 'émoji 😀 ünï', at: null, n: null, x: null, ok: null, doc: null },
    { id: 'x'.repeat(5000), at: Date.UTC(2026, 10, 24, 3, 4, 5, 6), doc: { nul: 'a\u0000b' } },
  ]
  const expected = rows
    .map((row) => columns.map((c) => copyField(c.type, row[c.name])).join('\t') + '\n')
    .join('')

  it('writes one tab-separated line per row, escaped as COPY text needs', () => {
    const out = Buffer.concat([...copyTextChunks(columns, rows)]).toString('utf8')
    expect(out).toBe(expected)
    expect(out.split('\n')[1]).toBe(
      'tab\\there\\nnew\\\\line\\rcrnul\t1969-12-31T23:59:59.999Z\t-7\t1e+21\tf\t"q\\\\"uote\\\\t"',
    )
    expect(out.split('\n')[2]).toBe('émoji 😀 ünï\t\\N\t\\N\t\\N\t\\N\t\\N')
  })

  it('splits into chunks of about the asked size without breaking lines or characters', () => {
    const many = Array.from({ length: 200 }, (_, i) => rows[i % rows.length]!)
    const chunks = [...copyTextChunks(columns, many, 64)]
    expect(chunks.length).toBeGreaterThan(10)
    for (const chunk of chunks) expect(chunk.at(-1)).toBe('\n'.charCodeAt(0))
    expect(Buffer.concat(chunks).toString('utf8')).toBe(expected.repeat(50))
  })
})
