import { DuckDBDataChunk, StatementType, listValue } from '@duckdb/node-api'
import type {
  DuckDBConnection,
  DuckDBExtractedStatements,
  DuckDBInstance,
  DuckDBPreparedStatement,
  DuckDBValue,
} from '@duckdb/node-api'
import { TerminalError, TransientError } from '../../src/errors.js'
import {
  QUERY_REFUSED,
  REJECTED_VALUE,
  notOneStatement,
  queryTimeLimit,
} from '../../src/load/destination.js'
import { stateText } from '../../src/load/json-text.js'
import { historyStatements, keyStageColumns } from '../../src/load/history-sql.js'
import type {
  DestinationSession,
  DestinationTransaction,
  LoadRecord,
  QueryOptions,
  QueryResult,
  SchemaChangeSummary,
  SchemaHistoryEntry,
  StoredLoad,
  StoredView,
  TableCount,
  ViewRecord,
} from '../../src/load/destination.js'
import type { Reject } from '../../src/normalize/normalizer.js'
import type {
  ColumnSchema,
  Row,
  SchemaChange,
  TableSchema,
} from '../../src/normalize/table-schema.js'
import {
  LOADS_TABLE,
  REJECTS_TABLE,
  SCHEMA_HISTORY_TABLE,
  STATE_TABLE,
  SYSTEM_TABLES,
  VIEW_STATEMENTS,
  VIEWS_TABLE,
  historyRows,
  loadRow,
  rejectRows,
  sqlSystemReads,
  tablesFromHistory,
  viewRow,
} from '../../src/load/system-tables.js'
import type { SystemReads } from '../../src/load/system-tables.js'
import { parseResourceState } from '../../src/state/resource-state.js'
import type { ResourceState } from '../../src/state/resource-state.js'
import { DUCKDB_CATALOG } from './duckdb-config.js'
import { DUCKDB_CAPABILITIES } from './duckdb-destination.js'
import { toDuckDbValue } from './duckdb-values.js'

const CHUNK_ROWS = 2048

const KEY_SEPARATOR = '\u001f'

/**
 * Keys as one statement parameter: a single string split in SQL. A LIST parameter costs one
 * native value per key (about 0.5 s per 100k records); keys holding the separator fall back
 * to it.
 */
function keyList(keys: readonly string[]): { sql: string; value: DuckDBValue } {
  return keys.some((k) => k.includes(KEY_SEPARATOR))
    ? { sql: 'unnest(?::VARCHAR[])', value: listValue([...keys]) }
    : { sql: 'unnest(string_split(?, chr(31)))', value: keys.join(KEY_SEPARATOR) }
}

const { escapeIdentifier, typeNames } = DUCKDB_CAPABILITIES

/**
 * `keyList`'s keys as values of `table`'s key column: DuckDB compares no number with text, so
 * a resource keyed by a number (`id: z.number()`) needs its keys cast; text keys stay as they are.
 */
function keysOf(table: TableSchema, keys: readonly string[]): { sql: string; value: DuckDBValue } {
  const ids = keyList(keys)
  const type = table.columns.find((c) => c.name === table.primaryKey)?.type ?? 'text'
  return type === 'text'
    ? ids
    : { sql: `CAST(k AS ${typeNames[type]}) FROM (SELECT ${ids.sql} AS k)`, value: ids.value }
}

/**
 * Statements a read-only session refuses by their kind, before they run. With external access
 * off, DuckDB still lets a statement reach the files it allows: the attached file's WAL and the
 * spill directory. `COPY ... TO 'thena.duckdb.wal'` wrote the warehouse's log, which the next
 * writer replays, and `ATTACH` created files in the spill directory (review of issue 18).
 */
const WRITING_STATEMENTS: ReadonlyMap<StatementType, string> = new Map([
  [StatementType.COPY, 'COPY'],
  [StatementType.COPY_DATABASE, 'COPY FROM DATABASE'],
  [StatementType.EXPORT, 'EXPORT'],
  [StatementType.ATTACH, 'ATTACH'],
  [StatementType.DETACH, 'DETACH'],
  [StatementType.LOAD, 'INSTALL or LOAD'],
  [StatementType.EXTENSION, 'an extension statement'],
  [StatementType.UPDATE_EXTENSIONS, 'UPDATE EXTENSIONS'],
])

/** Refuses, before it runs, a statement of a kind a read-only session must not run. */
function refuseUnlessReading(type: StatementType, sql: string): void {
  const name = WRITING_STATEMENTS.get(type)
  if (name !== undefined)
    throw new TerminalError(
      QUERY_REFUSED,
      `query is read-only: on DuckDB it does not run ${name}, which could write files beside the warehouse`,
    )
  // EXPLAIN ANALYZE runs the statement it explains (a COPY as well).
  if (type === StatementType.EXPLAIN && /\banaly[sz]e\b/i.test(sql))
    throw new TerminalError(
      QUERY_REFUSED,
      'query is read-only: on DuckDB it does not run EXPLAIN ANALYZE, which runs the statement it explains (EXPLAIN alone is fine)',
    )
}

/** One open DuckDB file. All writes go through `transaction()`. */
export class DuckDbSession implements DestinationSession {
  readonly #instance: DuckDBInstance
  readonly #conn: DuckDBConnection
  readonly #schema: string
  /** Physical column order per table, as the appender needs it; dropped on schema changes. */
  readonly #layouts = new Map<string, readonly string[]>()

  readonly #onClose: () => void
  readonly #reads: SystemReads
  /** The file is attached read-only: `query` refuses what could write beside it. */
  readonly #readOnly: boolean

  constructor(
    instance: DuckDBInstance,
    conn: DuckDBConnection,
    schema: string,
    onClose: () => void = () => undefined,
    readOnly = false,
  ) {
    this.#onClose = onClose
    this.#readOnly = readOnly
    this.#instance = instance
    this.#conn = conn
    this.#schema = schema
    this.#reads = sqlSystemReads(
      (sql, params) => this.#rows(sql, params as DuckDBValue[] | undefined),
      { table: (name) => this.#t(name), ident: escapeIdentifier },
      schema,
    )
  }

  #t(name: string): string {
    return `${escapeIdentifier(this.#schema)}.${escapeIdentifier(name)}`
  }

  readonly #names = { table: (name: string) => this.#t(name), ident: escapeIdentifier }

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
    await this.#run(`CREATE SCHEMA IF NOT EXISTS ${escapeIdentifier(this.#schema)}`)
    // No key constraints: DuckDB checks them eagerly, so a delete and re-insert of the same key
    // in one transaction would fail (see docs/decisions.md).
    for (const table of SYSTEM_TABLES) {
      const columns = table.columns.map((c) => `${escapeIdentifier(c.name)} ${typeNames[c.type]}`)
      await this.#run(`CREATE TABLE IF NOT EXISTS ${this.#t(table.name)} (${columns.join(', ')})`)
      // Files from an older version get the columns added since (always at the end).
      for (const column of columns)
        await this.#run(`ALTER TABLE ${this.#t(table.name)} ADD COLUMN IF NOT EXISTS ${column}`)
    }
    for (const table of SYSTEM_TABLES)
      for (const statement of table.migrations?.((name) => this.#t(name)) ?? [])
        await this.#run(statement)
  }

  async readTables(): Promise<TableSchema[]> {
    const rows = await this.#rows(
      `SELECT * FROM ${this.#t(SCHEMA_HISTORY_TABLE.name)} ORDER BY ordinal`,
    )
    return tablesFromHistory(rows)
  }

  async readState(pipeline: string): Promise<Map<string, ResourceState>> {
    const rows = await this.#rows(
      `SELECT resource, state FROM ${this.#t(STATE_TABLE.name)} WHERE pipeline = ?`,
      [pipeline],
    )
    const out = new Map<string, ResourceState>()
    for (const row of rows) {
      const state = parseResourceState(row.state)
      if (state) out.set(row.resource as string, state)
    }
    return out
  }

  readKeys(table: TableSchema): Promise<Set<string>> {
    return this.#reads.readKeys(table)
  }

  readLoads(pipeline: string, limit: number): Promise<StoredLoad[]> {
    return this.#reads.readLoads(pipeline, limit)
  }

  countRows(table: TableSchema): Promise<TableCount> {
    return this.#reads.countRows(table)
  }

  countOpenRejects(pipeline: string, resources: readonly string[]): Promise<Map<string, number>> {
    return this.#reads.countOpenRejects(pipeline, resources)
  }

  readSchemaHistory(resource?: string): Promise<SchemaHistoryEntry[]> {
    return this.#reads.readSchemaHistory(resource)
  }

  readSchemaChanges(limit: number): Promise<SchemaChangeSummary[]> {
    return this.#reads.readSchemaChanges(limit)
  }

  readViews(pipeline: string): Promise<StoredView[]> {
    return this.#reads.readViews(pipeline)
  }

  async transaction<T>(fn: (tx: DestinationTransaction) => Promise<T>): Promise<T> {
    await this.#run('BEGIN TRANSACTION')
    try {
      const result = await fn(this.#tx)
      await this.#run('COMMIT')
      return result
    } catch (error) {
      await this.#conn.run('ROLLBACK').catch(() => undefined)
      // The rolled-back DDL may have changed a layout read inside the transaction.
      this.#layouts.clear()
      throw error
    }
  }

  /**
   * DuckDB lets one process at a time open the file for writing, and the operating system
   * drops that lock when the process dies: holding the session is holding the lock, and no
   * stale lock can outlive a crash (docs/decisions.md #16).
   */
  async tryLock(): Promise<boolean> {
    return true
  }

  async unlock(): Promise<void> {}

  /** This session has the file, so no other session can be running a pipeline on it. */
  async isLockHeld(): Promise<boolean> {
    return false
  }

  async query(sql: string, options: QueryOptions = {}): Promise<QueryResult> {
    const statement = await this.#oneStatement(sql)
    if (this.#readOnly)
      try {
        refuseUnlessReading(statement.statementType, sql)
      } catch (error) {
        statement.destroySync()
        throw error
      }
    const { maxMs } = options
    let stopped = false
    // The statement runs off the event loop: the timer fires meanwhile and interrupts it.
    const timer =
      maxMs === undefined
        ? undefined
        : setTimeout(() => {
            stopped = true
            this.#conn.interrupt()
          }, maxMs)
    try {
      const reader = await statement.runAndReadAll()
      return {
        columns: reader.columnNames(),
        rows: reader.getRowObjectsJson() as Record<string, unknown>[],
      }
    } catch (error) {
      if (stopped) throw queryTimeLimit(maxMs!)
      throw new TerminalError(
        'query_failed',
        error instanceof Error ? error.message.split('\n')[0]! : String(error),
      )
    } finally {
      clearTimeout(timer)
      statement.destroySync()
    }
  }

  /** The statement `sql` holds, prepared; refused when it holds none or several. */
  async #oneStatement(sql: string): Promise<DuckDBPreparedStatement> {
    let extracted: DuckDBExtractedStatements
    try {
      extracted = await this.#conn.extractStatements(sql)
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error)
      // A syntax error is reported as such; the binding fails without one on input that holds
      // no statement at all (blank, only comments or semicolons).
      const syntax = /^Failed to extract statements: (.*)/.exec(message)
      if (!syntax) throw notOneStatement('none')
      throw new TerminalError('query_failed', syntax[1]!)
    }
    if (extracted.count !== 1) throw notOneStatement(extracted.count === 0 ? 'none' : 'more')
    try {
      return await extracted.prepare(0)
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
    this.#onClose()
  }

  /** `rows` in a new temporary table of `table.columns` (replacing one of that name). */
  async #stage(
    table: { readonly name: string; readonly columns: readonly ColumnSchema[] },
    rows: readonly Row[],
  ): Promise<void> {
    const columns = table.columns.map((c) => `${escapeIdentifier(c.name)} ${typeNames[c.type]}`)
    await this.#run(
      `CREATE OR REPLACE TEMP TABLE ${escapeIdentifier(table.name)} (${columns.join(', ')})`,
    )
    await this.#appendRows(table, rows, true)
  }

  /** The table's columns in the order DuckDB stores them. */
  async #layout(table: string): Promise<readonly string[]> {
    let names = this.#layouts.get(table)
    if (!names) {
      const rows = await this.#rows(
        `SELECT column_name FROM duckdb_columns() WHERE database_name = ? AND schema_name = ? AND table_name = ? ORDER BY column_index`,
        [DUCKDB_CATALOG, this.#schema, table],
      )
      names = rows.map((r) => r.column_name as string)
      this.#layouts.set(table, names)
    }
    return names
  }

  /**
   * Bulk-inserts rows through the appender, in DataChunks of 2048 rows. Compared with staging
   * NDJSON for read_json it is as fast end to end, needs no staging file, has no row-size
   * limit and no 32 MiB read buffers, so memory stays within the buffer-pool limit
   * (docs/decisions.md #4).
   */
  async #appendRows(
    table: { readonly name: string; readonly columns: readonly ColumnSchema[] },
    rows: readonly Row[],
    staging = false,
  ): Promise<void> {
    if (rows.length === 0) return
    const byName = new Map(table.columns.map((c) => [c.name, c]))
    // A staging table is the session's own, made with exactly these columns.
    const layout = staging
      ? table.columns
      : (await this.#layout(table.name)).map((name) => {
          const column = byName.get(name)
          if (column) return column
          // A column the table has but this writer does not know (added by hand): left NULL.
          return { name, type: 'text', path: [] } satisfies ColumnSchema
        })
    const appender = staging
      ? await this.#conn.createAppender(table.name, 'main', 'temp')
      : await this.#conn.createAppender(table.name, this.#schema, DUCKDB_CATALOG)
    try {
      // The table's own types: a column added by hand gets NULLs of its type.
      const types = layout.map((_, i) => appender.columnType(i))
      for (let start = 0; start < rows.length; start += CHUNK_ROWS) {
        const end = Math.min(start + CHUNK_ROWS, rows.length)
        const chunk = DuckDBDataChunk.create(types, end - start)
        const columns = new Array<DuckDBValue[]>(layout.length)
        for (let c = 0; c < layout.length; c++) {
          const { name, type } = layout[c]!
          const values = new Array<DuckDBValue>(end - start)
          for (let r = start; r < end; r++) values[r - start] = toDuckDbValue(type, rows[r]![name])
          columns[c] = values
        }
        chunk.setColumns(columns)
        appender.appendDataChunk(chunk)
      }
      appender.flushSync()
    } catch (error) {
      throw toThenaSyncError(error, `append to ${table.name}`)
    } finally {
      // Closing an appender whose append failed fails again: the first error is the one to report.
      try {
        appender.closeSync()
      } catch {
        // Already reported.
      }
    }
  }

  readonly #tx: DestinationTransaction = {
    applySchema: async (changes: readonly SchemaChange[], loadId: string) => {
      if (changes.length === 0) return
      this.#layouts.clear()
      const [{ next }] = (await this.#rows(
        `SELECT coalesce(max(ordinal), 0) + 1 AS next FROM ${this.#t(SCHEMA_HISTORY_TABLE.name)}`,
      )) as [{ next: string }]
      for (const change of changes) {
        if (change.kind === 'create_table') {
          const columns = change.table.columns.map(
            (c) => `${escapeIdentifier(c.name)} ${typeNames[c.type]}`,
          )
          await this.#run(
            `CREATE TABLE IF NOT EXISTS ${this.#t(change.table.name)} (${columns.join(', ')})`,
          )
        } else {
          await this.#run(
            `ALTER TABLE ${this.#t(change.table)} ADD COLUMN IF NOT EXISTS ${escapeIdentifier(change.column.name)} ${typeNames[change.column.type]}`,
          )
        }
      }
      await this.#appendRows(SCHEMA_HISTORY_TABLE, historyRows(changes, Number(next), loadId))
    },

    merge: async (table: TableSchema, rows: readonly Row[]) => {
      if (rows.length === 0) return
      const ids = keysOf(
        table,
        rows.map((r) => String(r[table.primaryKey])),
      )
      await this.#run(
        `DELETE FROM ${this.#t(table.name)} WHERE ${escapeIdentifier(table.primaryKey)} IN (SELECT ${ids.sql})`,
        [ids.value],
      )
      await this.#appendRows(table, rows)
    },

    writeHistory: async (root: TableSchema, history: TableSchema, rows?: readonly Row[]) => {
      const keys = { name: '_thena_history_keys', columns: keyStageColumns(history) }
      const stage = { name: '_thena_history_stage', columns: history.columns }
      const sql = historyStatements(history, {
        history: this.#t(history.name),
        root: this.#t(root.name),
        keys: `temp.main.${escapeIdentifier(keys.name)}`,
        stage: `temp.main.${escapeIdentifier(stage.name)}`,
        ident: escapeIdentifier,
      })
      if (rows === undefined) return this.#run(sql.closeDeleted)
      if (rows.length === 0) return
      await this.#stage(keys, rows)
      const changed = new Set((await this.#rows(sql.changed)).map((r) => String(r.k)))
      await this.#run(`DROP TABLE temp.main.${escapeIdentifier(keys.name)}`)
      // A batch re-read unchanged stops here.
      if (changed.size === 0) return
      await this.#stage(
        stage,
        rows.filter((r) => changed.has(String(r[history.primaryKey]))),
      )
      await this.#run(sql.settleValidFrom)
      await this.#run(sql.closeCurrent)
      await this.#run(sql.openNew)
      await this.#run(`DROP TABLE temp.main.${escapeIdentifier(stage.name)}`)
    },

    replaceChildren: async (
      table: TableSchema,
      rootIds: readonly string[],
      rows: readonly Row[],
    ) => {
      if (rootIds.length > 0) {
        const ids = keyList(rootIds)
        await this.#run(
          `DELETE FROM ${this.#t(table.name)} WHERE _thena_root_id IN (SELECT ${ids.sql})`,
          [ids.value],
        )
      }
      await this.#appendRows(table, rows)
    },

    writeState: async (
      pipeline: string,
      resource: string,
      state: ResourceState,
      loadId: string,
    ) => {
      await this.#run(
        `DELETE FROM ${this.#t(STATE_TABLE.name)} WHERE pipeline = ? AND resource = ?`,
        [pipeline, resource],
      )
      await this.#run(`INSERT INTO ${this.#t(STATE_TABLE.name)} VALUES (?, ?, ?::JSON, ?, now())`, [
        pipeline,
        resource,
        stateText(state),
        loadId,
      ])
    },

    clearState: async (pipeline: string, resource: string) => {
      await this.#run(
        `DELETE FROM ${this.#t(STATE_TABLE.name)} WHERE pipeline = ? AND resource = ?`,
        [pipeline, resource],
      )
    },

    dropTables: async (tables: readonly string[]) => {
      if (tables.length === 0) return
      this.#layouts.clear()
      for (const table of tables) await this.#run(`DROP TABLE IF EXISTS ${this.#t(table)}`)
      const names = keyList(tables)
      await this.#run(
        `DELETE FROM ${this.#t(SCHEMA_HISTORY_TABLE.name)} WHERE table_name IN (SELECT ${names.sql})`,
        [names.value],
      )
    },

    writeRejects: async (pipeline: string, loadId: string, rejects: readonly Reject[]) => {
      const rows = rejectRows(pipeline, loadId, rejects)
      if (rows.length === 0) return
      const keys = keyList(rows.map((r) => r.reject_key as string))
      const seen = await this.#rows(
        `UPDATE ${this.#t(REJECTS_TABLE.name)} SET last_load_id = ? WHERE pipeline = ? AND reject_key IN (SELECT ${keys.sql}) RETURNING reject_key`,
        [loadId, pipeline, keys.value],
      )
      const recorded = new Set(seen.map((r) => r.reject_key))
      await this.#appendRows(
        REJECTS_TABLE,
        rows.filter((r) => !recorded.has(r.reject_key)),
      )
    },

    writeLoad: async (load: LoadRecord) => {
      await this.#run(`DELETE FROM ${this.#t(LOADS_TABLE.name)} WHERE load_id = ?`, [load.loadId])
      await this.#appendRows(LOADS_TABLE, [loadRow(load)])
    },

    markDeleted: async (table: TableSchema, liveIds: readonly string[], at: Date) => {
      const key = escapeIdentifier(table.primaryKey)
      const ids = keysOf(table, liveIds)
      try {
        const result = await this.#conn.run(
          `UPDATE ${this.#t(table.name)} SET _thena_deleted_at = ?::TIMESTAMPTZ
           WHERE _thena_deleted_at IS NULL AND ${key} NOT IN (SELECT ${ids.sql})`,
          [at.toISOString(), ids.value],
        )
        return Number(result.rowsChanged)
      } catch (error) {
        throw toThenaSyncError(error, `soft delete in ${table.name}`)
      }
    },

    countLive: async (table: TableSchema) => {
      const [row] = await this.#rows(
        `SELECT count(*) AS n FROM ${this.#t(table.name)} WHERE _thena_deleted_at IS NULL`,
      )
      return Number(row!.n)
    },

    abortStaleLoads: async (pipeline: string, exceptLoadId: string) => {
      await this.#run(
        `UPDATE ${this.#t(LOADS_TABLE.name)} SET status = 'aborted' WHERE pipeline = ? AND status = 'running' AND load_id <> ?`,
        [pipeline, exceptLoadId],
      )
    },

    replaceView: async (name: string, select: string) => {
      await this.#run(VIEW_STATEMENTS.drop(this.#names, name))
      await this.#run(VIEW_STATEMENTS.create(this.#names, name, select))
    },

    dropView: async (name: string) => {
      await this.#run(VIEW_STATEMENTS.drop(this.#names, name))
    },

    writeView: async (view: ViewRecord) => {
      await this.#run(VIEW_STATEMENTS.deleteRecord(this.#names), [view.pipeline, view.name])
      await this.#appendRows(VIEWS_TABLE, [viewRow(view)])
    },

    forgetView: async (pipeline: string, name: string) => {
      await this.#run(VIEW_STATEMENTS.deleteRecord(this.#names), [pipeline, name])
    },
  }
}

/** Maps a DuckDB error to the tool's error taxonomy (the one place that knows DuckDB's messages). */
function toThenaSyncError(error: unknown, context: string): Error {
  const message = error instanceof Error ? error.message : String(error)
  if (/out of memory|could not allocate block|failed to pin block/i.test(message)) {
    return new TerminalError(
      'destination_out_of_memory',
      `DuckDB ran out of its memory limit (${message.split('\n')[0]}, during ${context.slice(0, 40)}): raise it with THENA_DUCKDB_MEMORY_LIMIT or \`duckdb.memoryLimit\` in pipelines.config.ts, e.g. 1GB`,
      { cause: error },
    )
  }
  if (/\block\b|conflict/i.test(message)) {
    return new TransientError('destination_busy', `DuckDB is busy (${message.split('\n')[0]})`, {
      cause: error,
    })
  }
  // A value DuckDB (or the conversion to its types) refuses: the commit finds the row at fault.
  const refused =
    /\b(Conversion|Invalid Input|Out of Range|Constraint) Error\b|constraint failed|could not convert/i.test(
      message,
    ) ||
    error instanceof TypeError ||
    error instanceof RangeError
  return new TerminalError(
    refused ? REJECTED_VALUE : 'destination_error',
    `DuckDB: ${message.split('\n')[0]} (during ${context.slice(0, 80)})`,
    { cause: error },
  )
}
