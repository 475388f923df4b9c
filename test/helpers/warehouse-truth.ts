/**
 * Comparing a declared source's warehouse with its simulator's truth, table by table, in one
 * session; and what the end-to-end suites of declared sources check around a run (nothing
 * written, every file's bytes, the CLI's error lines).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import pg from 'pg'
import { expect } from 'vitest'
import type { ResolvedPipeline } from '../../src/config/resolve-pipeline.js'
import { runPipeline } from '../../src/pipeline/run-pipeline.js'
import type { RunOptions } from '../../src/pipeline/run-pipeline.js'
import type { CliResult } from './cli.js'
import { epochMs } from './destinations.js'
import type { DestinationKind } from './destinations.js'

export type Obj = Record<string, unknown>

/** Runs a query on an open session of a warehouse. */
export type Query = (sql: string) => Promise<Obj[]>

/** `check` with one session of the warehouse (opening one per query costs seconds on DuckDB). */
export async function inSession<T>(
  p: ResolvedPipeline,
  check: (q: Query) => Promise<T>,
): Promise<T> {
  const session = await p.destination.connect()
  try {
    return await check(async (sql) => [...(await session.query(sql)).rows])
  } finally {
    await session.close()
  }
}

/** A run that must succeed (its error shown if it does not). */
export async function runOk(p: ResolvedPipeline, options: RunOptions = {}) {
  const result = await runPipeline(p, options)
  expect(result.error?.message).toBeUndefined()
  expect(result.status).toBe('success')
  return result
}

/** How a value compares: as epoch ms, as a number (BIGINT comes back as text), or as is. */
export type Kind = 'ms' | 'num' | 'is'

const norm = (kind: Kind, v: unknown) =>
  v === null || v === undefined ? null : kind === 'ms' ? epochMs(v) : kind === 'num' ? Number(v) : v

/** How a column compares with a record: the value it should hold, and how to compare. */
export type Column = readonly [field: (record: Obj) => unknown, kind: Kind]

/** A column holding the record's field `name`. */
export const col = (name: string, kind: Kind = 'is'): Column => [(r) => r[name], kind]

/** The tables of one dataset, each root table by its key column. */
export class DatasetTruth {
  constructor(
    readonly dataset: string,
    /** Key column of each root table. */
    readonly keys: Readonly<Record<string, string>>,
  ) {}

  /**
   * One root table against the truth: each record is one row (by key) whose columns equal its
   * fields and whose `_thena_deleted_at` is its `deletedAt` (null when it has none); every
   * other row is gone from the source and must be marked deleted.
   */
  async table(
    q: Query,
    table: string,
    truth: ReadonlyMap<string, Obj>,
    columns: Readonly<Record<string, Column>>,
  ): Promise<void> {
    const rows = await q(
      `SELECT ${this.keys[table]!} AS k, _thena_deleted_at, ${Object.keys(columns).join(', ')} FROM ${this.dataset}.${table}`,
    )
    const byKey = new Map(rows.map((r) => [String(r.k), r]))
    expect(byKey.size, `${table}: one row per key`).toBe(rows.length)
    for (const [k, record] of truth) {
      const row = byKey.get(k)
      expect(row, `${table} ${k}`).toBeDefined()
      const actual: Obj = { _thena_deleted_at: epochMs(row!._thena_deleted_at) }
      const expected: Obj = { _thena_deleted_at: norm('ms', record.deletedAt) }
      for (const [column, [field, kind]] of Object.entries(columns)) {
        actual[column] = norm(kind, row![column])
        expected[column] = norm(kind, field(record))
      }
      expect(actual, `${table} ${k}`).toEqual(expected)
    }
    for (const row of rows.filter((r) => !truth.has(String(r.k))))
      expect(row._thena_deleted_at, `${table} ${String(row.k)} is gone: marked`).not.toBeNull()
  }

  /**
   * The rows of a child table under the truth's roots (`_thena_root_id` and `columns`) equal
   * what `expected` lists for each root, as multisets; rows under roots gone are not looked at.
   */
  async children(
    q: Query,
    table: string,
    roots: ReadonlyMap<string, Obj>,
    columns: readonly string[],
    expected: (root: Obj) => readonly (readonly unknown[])[],
  ): Promise<void> {
    const rows = await q(
      `SELECT _thena_root_id AS root, ${columns.join(', ')} FROM ${this.dataset}.${table}`,
    )
    const actual = rows
      .filter((r) => roots.has(String(r.root)))
      .map((r) => [r.root, ...columns.map((c) => r[c])].map(String).join('|'))
    const wanted = [...roots.entries()].flatMap(([id, root]) =>
      expected(root).map((values) => [id, ...values].map(String).join('|')),
    )
    expect(actual.sort(), table).toEqual(wanted.sort())
  }

  /** The dataset's tables, system tables and views aside. */
  async tables(q: Query): Promise<string[]> {
    const rows = await q(
      `SELECT table_name AS t FROM information_schema.tables WHERE table_schema = '${this.dataset}' AND table_type = 'BASE TABLE'`,
    )
    return rows.map((r) => String(r.t)).filter((t) => !t.startsWith('_thena'))
  }

  /**
   * count(*) = count(DISTINCT key) in every table (a child table's key is parent + index), and
   * every root table there but those `skipped`.
   */
  async noDuplicates(q: Query, skipped: readonly string[] = []): Promise<void> {
    const tables = await this.tables(q)
    for (const root of Object.keys(this.keys))
      if (!tables.includes(root) && !skipped.includes(root)) expect.fail(`no table ${root}`)
    for (const table of tables) {
      const key = this.keys[table] ?? `concat(_thena_parent_id, '/', _thena_list_idx)`
      const [counts] = await q(
        `SELECT count(*)::INT AS n, count(DISTINCT ${key})::INT AS k FROM ${this.dataset}.${table}`,
      )
      expect(counts!.n, `${table}: duplicates`).toBe(counts!.k)
    }
  }

  /** Rows marked `_thena_deleted_at` in each root table that has any. */
  async marked(q: Query): Promise<Record<string, number>> {
    const out: Record<string, number> = {}
    const tables = await this.tables(q)
    for (const table of Object.keys(this.keys).filter((t) => tables.includes(t))) {
      const [row] = await q(
        `SELECT count(*)::INT AS n FROM ${this.dataset}.${table} WHERE _thena_deleted_at IS NOT NULL`,
      )
      if (row!.n !== 0) out[table] = row!.n as number
    }
    return out
  }
}

/** The warehouse a refused run was pointed at holds no table (a DuckDB file: does not exist). */
export async function expectNothingWritten(kind: DestinationKind, url: string): Promise<void> {
  if (kind.name === 'duckdb') {
    expect(existsSync(url.slice('duckdb:'.length))).toBe(false)
    return
  }
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    const { rows } = await client.query<{ t: string }>(
      `SELECT table_schema || '.' || table_name AS t FROM information_schema.tables
       WHERE table_schema NOT IN ('pg_catalog', 'information_schema')`,
    )
    expect(rows.map((r) => r.t)).toEqual([])
  } finally {
    await client.end()
  }
}

/** Every file under `dirs` (recursively), as text. */
export const filesUnder = (...dirs: readonly string[]): string =>
  dirs
    .flatMap((dir) =>
      readdirSync(dir, { recursive: true, encoding: 'utf8' })
        .map((f) => join(dir, f))
        .filter((f) => statSync(f).isFile()),
    )
    .map((f) => readFileSync(f).toString('latin1'))
    .join('\n')

/** The `thena-sync:` lines of a CLI's stderr: what the user is told (the rest are JSON logs). */
export const errorLines = (res: CliResult): string[] =>
  res.stderr.split('\n').filter((l) => l.startsWith('thena-sync:'))
