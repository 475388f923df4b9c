import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DuckDBDataChunk, listValue } from '@duckdb/node-api'
import type { DuckDBConnection, DuckDBInstance, DuckDBValue } from '@duckdb/node-api'
import { TerminalError, TransientError } from '../../src/errors.js'
import type {
  DestinationSession,
  DestinationTransaction,
  LoadRecord,
  QueryResult,
} from '../../src/load/destination.js'
import type { Reject } from '../../src/normalize/normalizer.js'
import type {
  ColumnSchema,
  ColumnType,
  Row,
  SchemaChange,
  TableSchema,
} from '../../src/normalize/table-schema.js'
import { parseResourceState } from '../../src/state/pipeline-state.js'
import type { ResourceState } from '../../src/state/pipeline-state.js'
import { DUCKDB_TYPE_NAMES, DUCKDB_VECTOR_TYPES, toDuckDbValue } from './duckdb-type-mapper.js'

const CHUNK_ROWS = 2048

/** Largest staged row read_json accepts; its buffers scale with it (see docs/decisions.md #4). */
const MAX_ROW_BYTES = 4 * 1024 * 1024

/** Catalog name the database file is attached under. */
export const DUCKDB_CATALOG = 'warehouse'

export const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`
const quoteLiteral = (text: string): string => `'${text.replace(/'/g, "''")}'`

/** One open DuckDB file. All writes go through `transaction()`. */
export class DuckDbSession implements DestinationSession {
  readonly #instance: DuckDBInstance
  readonly #conn: DuckDBConnection
  readonly #schema: string
  #staging: string | undefined
  #stageSeq = 0

  constructor(instance: DuckDBInstance, conn: DuckDBConnection, schema: string) {
    this.#instance = instance
    this.#conn = conn
    this.#schema = schema
  }

  #t(name: string): string {
    return `${quoteIdent(this.#schema)}.${quoteIdent(name)}`
  }

  async #run(sql: string, params?: DuckDBValue[]): Promise<void> {
    try {
      await this.#conn.run(sql, params)
    } catch (error) {
      throw toThenaSyncError(error, sql)
    }
  }

  async #rows(sql: string, params?: DuckDBValue[]): Promise<Record<string, unknown>[]> {
    try {
      return (await this.#conn.runAndReadAll(sql, params)).getRowObjectsJson() as Record<
        string,
        unknown
      >[]
    } catch (error) {
      throw toThenaSyncError(error, sql)
    }
  }

  async prepare(): Promise<void> {
    await this.#run(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(this.#schema)}`)
    await this.#run(`CREATE TABLE IF NOT EXISTS ${this.#t('_thena_loads')} (
      load_id VARCHAR, pipeline VARCHAR, command VARCHAR, status VARCHAR, started_at TIMESTAMPTZ,
      finished_at TIMESTAMPTZ, records BIGINT, rejects BIGINT, requests BIGINT, retries BIGINT,
      rate_limited BIGINT, error VARCHAR)`)
    await this.#run(`CREATE TABLE IF NOT EXISTS ${this.#t('_thena_state')} (
      pipeline VARCHAR, resource VARCHAR, state JSON, load_id VARCHAR, updated_at TIMESTAMPTZ)`)
    await this.#run(`CREATE TABLE IF NOT EXISTS ${this.#t('_thena_schema_history')} (
      ordinal BIGINT, event VARCHAR, table_name VARCHAR, column_name VARCHAR, column_type VARCHAR,
      source_path JSON, variant_of VARCHAR, resource VARCHAR, parent_table VARCHAR, array_path JSON,
      primary_key VARCHAR, load_id VARCHAR, recorded_at TIMESTAMPTZ)`)
    await this.#run(`CREATE TABLE IF NOT EXISTS ${this.#t('_thena_rejects')} (
      load_id VARCHAR, resource VARCHAR, record_id VARCHAR, reason VARCHAR, raw_json VARCHAR,
      rejected_at TIMESTAMPTZ)`)
  }

  async readTables(): Promise<TableSchema[]> {
    const rows = await this.#rows(
      `SELECT * FROM ${this.#t('_thena_schema_history')} ORDER BY ordinal`,
    )
    return tablesFromHistory(rows)
  }

  async readState(pipeline: string): Promise<Map<string, ResourceState>> {
    const rows = await this.#rows(
      `SELECT resource, state FROM ${this.#t('_thena_state')} WHERE pipeline = ?`,
      [pipeline],
    )
    const out = new Map<string, ResourceState>()
    for (const row of rows) {
      const state = parseResourceState(row.state)
      if (state) out.set(row.resource as string, state)
    }
    return out
  }

  async transaction<T>(fn: (tx: DestinationTransaction) => Promise<T>): Promise<T> {
    await this.#run('BEGIN TRANSACTION')
    try {
      const result = await fn(this.#tx)
      await this.#run('COMMIT')
      return result
    } catch (error) {
      await this.#conn.run('ROLLBACK').catch(() => undefined)
      throw error
    }
  }

  async query(sql: string): Promise<QueryResult> {
    try {
      const reader = await this.#conn.runAndReadAll(sql)
      return {
        columns: reader.columnNames(),
        rows: reader.getRowObjectsJson() as Record<string, unknown>[],
      }
    } catch (error) {
      throw new TerminalError(
        'query_failed',
        error instanceof Error ? error.message.split('\n')[0]! : String(error),
      )
    }
  }

  async close(): Promise<void> {
    this.#conn.closeSync()
    this.#instance.closeSync()
    if (this.#staging) rmSync(this.#staging, { recursive: true, force: true })
  }

  /**
   * Bulk-inserts data rows: one JSON line per row into a staging file, then DuckDB's own
   * read_json (C++, multi-threaded) inserts them. For tables dozens of columns wide this is
   * several times faster than building appender vectors in JS, and JSON.stringify of a flat
   * row is the cheapest serialization V8 has.
   */
  async #insert(table: TableSchema, rows: readonly Row[]): Promise<void> {
    if (rows.length === 0) return
    const file = join(this.#stageDir(), `${this.#stageSeq++}.ndjson`)
    const lines = new Array<string>(rows.length)
    for (let i = 0; i < rows.length; i++) {
      const line = JSON.stringify(rows[i])
      if (line.length > MAX_ROW_BYTES / 4 && Buffer.byteLength(line) > MAX_ROW_BYTES) {
        throw new TerminalError(
          'row_too_large',
          `a row of ${table.name} (key ${String(rows[i]![table.primaryKey])}) is over ${MAX_ROW_BYTES} bytes as JSON`,
        )
      }
      lines[i] = line
    }
    writeFileSync(file, lines.join('\n'))
    try {
      const struct = table.columns
        .map(
          (c) =>
            `${quoteLiteral(c.name)}: ${quoteLiteral(c.type === 'timestamp' ? 'DOUBLE' : DUCKDB_TYPE_NAMES[c.type])}`,
        )
        .join(', ')
      const select = table.columns
        .map((c) =>
          c.type === 'timestamp'
            ? `to_timestamp(${quoteIdent(c.name)} / 1000)`
            : quoteIdent(c.name),
        )
        .join(', ')
      const names = table.columns.map((c) => quoteIdent(c.name)).join(', ')
      await this.#run(
        `INSERT INTO ${this.#t(table.name)} (${names}) SELECT ${select} FROM read_json(${quoteLiteral(file)}, ` +
          `format = 'newline_delimited', columns = {${struct}}, maximum_object_size = ${MAX_ROW_BYTES})`,
      )
    } finally {
      rmSync(file, { force: true })
    }
  }

  #stageDir(): string {
    return (this.#staging ??= mkdtempSync(join(tmpdir(), 'thena-sync-stage-')))
  }

  async #appendRows(
    tableName: string,
    columns: readonly ColumnSchema[],
    rows: readonly Row[],
  ): Promise<void> {
    if (rows.length === 0) return
    const appender = await this.#conn.createAppender(tableName, this.#schema, DUCKDB_CATALOG)
    try {
      const types = columns.map((c) => DUCKDB_VECTOR_TYPES[c.type])
      for (let start = 0; start < rows.length; start += CHUNK_ROWS) {
        const slice = rows.slice(start, start + CHUNK_ROWS)
        const chunk = DuckDBDataChunk.create(types, slice.length)
        chunk.setColumns(columns.map((c) => slice.map((row) => toDuckDbValue(c.type, row[c.name]))))
        appender.appendDataChunk(chunk)
      }
      appender.flushSync()
    } catch (error) {
      throw toThenaSyncError(error, `append to ${tableName}`)
    } finally {
      appender.closeSync()
    }
  }

  readonly #tx: DestinationTransaction = {
    applySchema: async (changes: readonly SchemaChange[], loadId: string) => {
      if (changes.length === 0) return
      const [{ next }] = (await this.#rows(
        `SELECT coalesce(max(ordinal), 0) + 1 AS next FROM ${this.#t('_thena_schema_history')}`,
      )) as [{ next: string }]
      let ordinal = Number(next)
      const history: Row[] = []
      const record = (event: string, table: TableSchema, column: ColumnSchema) =>
        history.push({
          ordinal: ordinal++,
          event,
          table_name: table.name,
          column_name: column.name,
          column_type: column.type,
          source_path: JSON.stringify(column.path),
          variant_of: column.variantOf ?? null,
          resource: table.resource,
          parent_table: table.parent ?? null,
          array_path: table.arrayPath ? JSON.stringify(table.arrayPath) : null,
          primary_key: table.primaryKey,
          load_id: loadId,
          recorded_at: Date.now(),
        })
      for (const change of changes) {
        if (change.kind === 'create_table') {
          const columns = change.table.columns.map(
            (c) => `${quoteIdent(c.name)} ${DUCKDB_TYPE_NAMES[c.type]}`,
          )
          await this.#run(
            `CREATE TABLE IF NOT EXISTS ${this.#t(change.table.name)} (${columns.join(', ')})`,
          )
          for (const column of change.table.columns) record('create_table', change.table, column)
        } else {
          const table = { name: change.table } as TableSchema
          await this.#run(
            `ALTER TABLE ${this.#t(change.table)} ADD COLUMN IF NOT EXISTS ${quoteIdent(change.column.name)} ${DUCKDB_TYPE_NAMES[change.column.type]}`,
          )
          record('add_column', table, change.column)
        }
      }
      await this.#appendRows('_thena_schema_history', HISTORY_COLUMNS, history)
    },

    merge: async (table: TableSchema, rows: readonly Row[]) => {
      if (rows.length === 0) return
      const ids = rows.map((r) => String(r[table.primaryKey]))
      await this.#run(
        `DELETE FROM ${this.#t(table.name)} WHERE ${quoteIdent(table.primaryKey)} IN (SELECT unnest(?::VARCHAR[]))`,
        [listValue(ids)],
      )
      await this.#insert(table, rows)
    },

    replaceChildren: async (
      table: TableSchema,
      rootIds: readonly string[],
      rows: readonly Row[],
    ) => {
      if (rootIds.length > 0) {
        await this.#run(
          `DELETE FROM ${this.#t(table.name)} WHERE _thena_root_id IN (SELECT unnest(?::VARCHAR[]))`,
          [listValue([...rootIds])],
        )
      }
      await this.#insert(table, rows)
    },

    writeState: async (
      pipeline: string,
      resource: string,
      state: ResourceState,
      loadId: string,
    ) => {
      await this.#run(
        `DELETE FROM ${this.#t('_thena_state')} WHERE pipeline = ? AND resource = ?`,
        [pipeline, resource],
      )
      await this.#run(`INSERT INTO ${this.#t('_thena_state')} VALUES (?, ?, ?::JSON, ?, now())`, [
        pipeline,
        resource,
        JSON.stringify(state),
        loadId,
      ])
    },

    writeRejects: async (loadId: string, rejects: readonly Reject[]) => {
      const now = Date.now()
      await this.#appendRows(
        '_thena_rejects',
        REJECT_COLUMNS,
        rejects.map((r) => ({
          load_id: loadId,
          resource: r.resource,
          record_id: r.recordId,
          reason: r.reason,
          raw_json: r.raw,
          rejected_at: now,
        })),
      )
    },

    writeLoad: async (load: LoadRecord) => {
      await this.#run(`DELETE FROM ${this.#t('_thena_loads')} WHERE load_id = ?`, [load.loadId])
      await this.#appendRows('_thena_loads', LOAD_COLUMNS, [
        {
          load_id: load.loadId,
          pipeline: load.pipeline,
          command: load.command,
          status: load.status,
          started_at: load.startedAt.getTime(),
          finished_at: load.finishedAt?.getTime() ?? null,
          records: load.records,
          rejects: load.rejects,
          requests: load.requests,
          retries: load.retries,
          rate_limited: load.rateLimited,
          error: load.error ?? null,
        },
      ])
    },

    abortStaleLoads: async (pipeline: string, exceptLoadId: string) => {
      await this.#run(
        `UPDATE ${this.#t('_thena_loads')} SET status = 'aborted' WHERE pipeline = ? AND status = 'running' AND load_id <> ?`,
        [pipeline, exceptLoadId],
      )
    },
  }
}

const col = (name: string, type: ColumnType): ColumnSchema => ({ name, type, path: [] })

const HISTORY_COLUMNS: readonly ColumnSchema[] = [
  col('ordinal', 'bigint'),
  col('event', 'text'),
  col('table_name', 'text'),
  col('column_name', 'text'),
  col('column_type', 'text'),
  // JSON columns in the table; the values arrive already serialized, so they are appended as text.
  col('source_path', 'text'),
  col('variant_of', 'text'),
  col('resource', 'text'),
  col('parent_table', 'text'),
  col('array_path', 'text'),
  col('primary_key', 'text'),
  col('load_id', 'text'),
  col('recorded_at', 'timestamp'),
]

const REJECT_COLUMNS: readonly ColumnSchema[] = [
  col('load_id', 'text'),
  col('resource', 'text'),
  col('record_id', 'text'),
  col('reason', 'text'),
  col('raw_json', 'text'),
  col('rejected_at', 'timestamp'),
]

const LOAD_COLUMNS: readonly ColumnSchema[] = [
  col('load_id', 'text'),
  col('pipeline', 'text'),
  col('command', 'text'),
  col('status', 'text'),
  col('started_at', 'timestamp'),
  col('finished_at', 'timestamp'),
  col('records', 'bigint'),
  col('rejects', 'bigint'),
  col('requests', 'bigint'),
  col('retries', 'bigint'),
  col('rate_limited', 'bigint'),
  col('error', 'text'),
]

/** Rebuilds table schemas from `_thena_schema_history` rows in ordinal order. */
export function tablesFromHistory(rows: readonly Record<string, unknown>[]): TableSchema[] {
  const tables = new Map<string, TableSchema>()
  for (const row of rows) {
    const name = row.table_name as string
    let table = tables.get(name)
    if (!table) {
      const arrayPath = row.array_path == null ? undefined : (parseJson(row.array_path) as string[])
      table = {
        name,
        resource: row.resource as string,
        ...(row.parent_table != null && { parent: row.parent_table as string }),
        ...(arrayPath && { arrayPath }),
        primaryKey: row.primary_key as string,
        columns: [],
      }
      tables.set(name, table)
    }
    table.columns.push({
      name: row.column_name as string,
      type: row.column_type as ColumnType,
      path: parseJson(row.source_path) as string[],
      ...(row.variant_of != null && { variantOf: row.variant_of as string }),
    })
  }
  return [...tables.values()]
}

const parseJson = (value: unknown): unknown =>
  typeof value === 'string' ? JSON.parse(value) : value

/** Maps a DuckDB error to the tool's error taxonomy (the one place that knows DuckDB's messages). */
function toThenaSyncError(error: unknown, context: string): Error {
  const message = error instanceof Error ? error.message : String(error)
  if (/lock|conflict|Could not set lock/i.test(message)) {
    return new TransientError('destination_busy', `DuckDB is busy (${message.split('\n')[0]})`, {
      cause: error,
    })
  }
  return new TerminalError(
    'destination_error',
    `DuckDB: ${message.split('\n')[0]} (during ${context.slice(0, 80)})`,
    {
      cause: error,
    },
  )
}
