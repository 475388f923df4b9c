import { TerminalError } from '../errors.js'
import type { Reject } from '../normalize/normalizer.js'
import type { ColumnType, Row, SchemaChange, TableSchema } from '../normalize/table-schema.js'
import type { ResourceState } from '../state/resource-state.js'

/** How a destination differs from the others, as data: the engine never branches on a name. */
export interface DestinationCapabilities {
  /** Longest identifier in bytes (Postgres: 63). Longer names are shortened with a hash. */
  readonly maxIdentifierLength: number
  /** SQL type of each logical column type: the one the destination's DDL writes. */
  readonly typeNames: Readonly<Record<ColumnType, string>>
  /**
   * The destination's one quoting function: `name` as an identifier SQL text can hold, whatever
   * it contains (quotes, dots, any Unicode), e.g. `"a""b"` on Postgres and DuckDB.
   */
  escapeIdentifier(name: string): string
  /**
   * SQL for the text of a JSON scalar held by `expr` (a `json` column): a string without its
   * quotes, a number or boolean as written; e.g. `(expr #>> '{}')` on Postgres. Views use it.
   */
  jsonText(expr: string): string
}

/** SQL-standard identifier quoting (Postgres, DuckDB): in double quotes, each `"` doubled. */
export const escapeSqlIdentifier = (name: string): string => `"${name.replace(/"/g, '""')}"`

/**
 * The error code a destination gives a statement that failed because of the values of a row
 * (a conversion, a range, a row too large): commitBatch then finds the records at fault,
 * quarantines them, and commits the rest.
 */
export const REJECTED_VALUE = 'destination_rejected_value'

/** Statuses of a run in `_thena_loads`. */
export const LOAD_STATUSES = ['running', 'success', 'failed', 'interrupted', 'aborted'] as const
export type LoadStatus = (typeof LOAD_STATUSES)[number]

/** One row of `_thena_loads`: what a run did. */
export interface LoadRecord {
  readonly loadId: string
  readonly pipeline: string
  readonly command: string
  readonly status: LoadStatus
  readonly startedAt: Date
  readonly finishedAt?: Date
  /** Records written (root rows), rejects, HTTP requests, retries and 429s so far. */
  readonly records: number
  readonly rejects: number
  readonly requests: number
  readonly retries: number
  readonly rateLimited: number
  /** Records re-read on pages unchanged since they were loaded, and so not written again. */
  readonly unchanged: number
  /** One-line error for failed runs (never contains a secret). */
  readonly error?: string
  /** What a command did beyond the counters (`reset`: the resources and tables). Default none. */
  readonly details?: Readonly<Record<string, unknown>>
}

/** A `_thena_loads` row read back (`readLoads`): a run as the warehouse recorded it. */
export interface StoredLoad extends Omit<LoadRecord, 'unchanged'> {
  /** Records not written again because their page was unchanged; null on rows from before. */
  readonly unchanged: number | null
  /** When the run last committed (it moves at every commit); null on rows from before. */
  readonly heartbeatAt: Date | null
}

/** Rows of one table (`countRows`). */
export interface TableCount {
  /** Every row, soft-deleted ones included. */
  readonly rows: number
  /** Rows with `_thena_deleted_at` set; 0 for a table without that column (a child table). */
  readonly softDeleted: number
}

/** One `_thena_schema_history` row read back (`readSchemaHistory`). */
export interface SchemaHistoryEntry {
  /** Position in the history, from 1. */
  readonly ordinal: number
  /** `create_table` (one entry per column of the new table) or `add_column`. */
  readonly event: string
  readonly table: string
  readonly column: string
  /** The logical column type (`ColumnType`), as recorded. */
  readonly columnType: string
  /** The source path the column holds; empty for thena-sync's own columns. */
  readonly sourcePath: readonly string[]
  /** The column this one is a type variant of, or null. */
  readonly variantOf: string | null
  readonly loadId: string
  readonly recordedAt: Date
}

/** The schema changes of one table and event, summed up (`readSchemaChanges`). */
export interface SchemaChangeSummary {
  readonly event: string
  readonly table: string
  /** Columns the event created or added in the table. */
  readonly columns: number
  /** The greatest load id and time among those changes. */
  readonly loadId: string
  readonly recordedAt: Date
}

/**
 * How a view's last build went: `built` (it holds the SQL of its hash), `failed` (the SQL
 * could not be computed or created), `skipped` (a table it requires is missing).
 */
export const VIEW_STATUSES = ['built', 'failed', 'skipped'] as const
export type ViewStatus = (typeof VIEW_STATUSES)[number]

/** A `_thena_views` row: how the last build of one of a pipeline's views went. */
export interface ViewRecord {
  readonly pipeline: string
  readonly name: string
  readonly status: ViewStatus
  /** Hash of the SQL of the last build attempt; null when no SQL was computed (skipped). */
  readonly sqlHash: string | null
  /** Why the view is not built (failed or skipped); no secret. */
  readonly error?: string
  /** When the view now in the warehouse was created; absent when there is none of ours. */
  readonly builtAt?: Date
  /** When this record was written. */
  readonly updatedAt: Date
  /** The load that wrote this record. */
  readonly loadId: string
}

/** A view record read back, with whether the view is in the warehouse now. */
export interface StoredView extends ViewRecord {
  readonly exists: boolean
}

/**
 * The error code of SQL that `query` refuses before running it: not exactly one statement, or,
 * in a read-only session, a statement that destination does not let through.
 */
export const QUERY_REFUSED = 'query_refused'

/** The refusal of SQL that is not exactly one statement, worded alike on every destination. */
export const notOneStatement = (found: 'none' | 'more'): TerminalError =>
  new TerminalError(
    QUERY_REFUSED,
    `query takes exactly one SQL statement (a trailing ";" is fine); this has ${found === 'none' ? 'none' : 'more than one'}`,
  )

/** How one `query()` statement of a read-only session is bounded. */
export interface QueryOptions {
  /**
   * Longest the statement may run, in ms: beyond, it is stopped and fails with `query_failed`
   * (`queryTimeLimit`). Default: no limit.
   */
  readonly maxMs?: number
}

/** The failure of a statement stopped at its `maxMs`, worded alike on every destination. */
export const queryTimeLimit = (maxMs: number): TerminalError =>
  new TerminalError(
    'query_failed',
    `the statement was stopped after ${maxMs / 1000} s, the longest a statement may run here`,
  )

/** Result of `query()`: column names and rows of JSON-safe values. */
export interface QueryResult {
  readonly columns: readonly string[]
  readonly rows: readonly Record<string, unknown>[]
}

/**
 * How dbt reaches a destination's warehouse, as data (`schema --dbt` writes it into the
 * `sources.yml` it prints).
 */
export interface DbtTarget {
  /** The dbt adapter's `type` in profiles.yml, e.g. `duckdb` (dbt-duckdb) or `postgres`. */
  readonly adapter: string
  /**
   * The source's `database`, for an adapter whose name for the warehouse is not the one the
   * profile connects to by default (dbt-duckdb: the file's stem). Default: left out.
   */
  readonly database?: string
  /** What the dbt profile sets to reach the warehouse, one line each; never a password. */
  readonly profile: readonly string[]
}

/**
 * A warehouse the pipeline loads into. An implementation is one folder in `destinations/` that
 * passes the conformance suite.
 *
 * @example
 * const session = await duckdbDestination({ path: './thena.duckdb' }).connect()
 */
export interface Destination {
  /** Short name, e.g. `duckdb`. For messages only: the engine never branches on it. */
  readonly name: string
  /** Where it writes, safe to print (no password). */
  readonly description: string
  readonly capabilities: DestinationCapabilities
  /** How dbt reaches this warehouse; a destination without a dbt adapter leaves it out. */
  readonly dbtTarget?: DbtTarget
  connect(options?: ConnectOptions): Promise<DestinationSession>
}

/** How to open a destination. */
export interface ConnectOptions {
  /** Open for reading only (query, status): never creates anything. Default false. */
  readonly readOnly?: boolean
  /** Create the warehouse when it does not exist; false fails with `warehouse_missing`. Default true. */
  readonly create?: boolean
  /**
   * For a destination that one process may open only once at a time (a DuckDB file): wait for
   * the other sessions of this process to close instead of failing as busy. Default false.
   */
  readonly wait?: boolean
  /** Gives up waiting (see `wait`) when aborted, with the signal's reason as the error. */
  readonly signal?: AbortSignal
  /** Called once when the session has to wait for its turn (see `wait`), before it waits. */
  readonly onQueued?: () => void
  /**
   * The run's stop (SIGTERM/SIGINT): from then on, a statement of the session that waits for a
   * lock another session holds is cancelled, so that the stop is not held up by that session.
   */
  readonly stop?: AbortSignal
  /**
   * The longest a statement of the session may wait for a lock another session holds, in ms
   * (`http.maxWaitSeconds`; 0 = no limit): beyond, it fails with `wait_too_long`.
   */
  readonly maxLockWaitMs?: number
}

/** An open connection to a destination. */
export interface DestinationSession {
  /** Creates the dataset schema and the system tables when missing. */
  prepare(): Promise<void>
  /** Tables and columns recorded in the schema history (the source-path-to-column mapping). */
  readTables(): Promise<TableSchema[]>
  /** Committed state of each resource of a pipeline. */
  readState(pipeline: string): Promise<Map<string, ResourceState>>
  /** Runs `fn` in one transaction: everything it writes commits together or not at all. */
  transaction<T>(fn: (tx: DestinationTransaction) => Promise<T>): Promise<T>
  /**
   * Takes the pipeline's run lock for this session, across processes: false when another
   * process holds it. Released by `unlock`, by `close`, and when the process dies.
   */
  tryLock(pipeline: string): Promise<boolean>
  unlock(pipeline: string): Promise<void>
  /**
   * Whether a session, in this process or another, holds the pipeline's run lock right now:
   * false means a `running` row of that pipeline was left by a process that is gone.
   */
  isLockHeld(pipeline: string): Promise<boolean>
  /**
   * Primary keys of the root rows of `table` already loaded, soft-deleted ones included (as
   * text); empty when the table does not exist yet.
   */
  readKeys(table: TableSchema): Promise<Set<string>>
  /** The pipeline's last `limit` runs, newest (by `startedAt`) first. */
  readLoads(pipeline: string, limit: number): Promise<StoredLoad[]>
  /** How many rows `table` holds, and how many of them are soft-deleted. */
  countRows(table: TableSchema): Promise<TableCount>
  /**
   * Open rejects of each of `resources` of the pipeline. A reject is open until its record is
   * written by a load that started after the last load that rejected it so (`last_load_id`);
   * rejects of one record alike in reason and content count once. A warehouse whose
   * `_thena_rejects` predates `pipeline`/`last_load_id` counts every row, by resource.
   */
  countOpenRejects(pipeline: string, resources: readonly string[]): Promise<Map<string, number>>
  /** Every schema-history row in order, or only those of one resource's tables. */
  readSchemaHistory(resource?: string): Promise<SchemaHistoryEntry[]>
  /** Schema changes by table and event, the latest `limit`, most recent first. */
  readSchemaChanges(limit: number): Promise<SchemaChangeSummary[]>
  /** The pipeline's `_thena_views` rows by name, each with whether the view exists now; empty before any. */
  readViews(pipeline: string): Promise<StoredView[]>
  /**
   * Runs exactly one SQL statement and returns its rows; anything else fails with
   * `query_refused` (see `notOneStatement`). In a read-only session the statement can change
   * neither the warehouse nor the file system: what it tries to is refused (`query_refused`)
   * or fails (`query_failed`). `options.maxMs` bounds its time in a read-only session.
   */
  query(sql: string, options?: QueryOptions): Promise<QueryResult>
  close(): Promise<void>
}

/** Writes inside one destination transaction. */
export interface DestinationTransaction {
  /** Creates tables and adds columns, and records each change in the schema history. */
  applySchema(changes: readonly SchemaChange[], loadId: string): Promise<void>
  /** Upserts root rows on the table's primary key. */
  merge(table: TableSchema, rows: readonly Row[]): Promise<void>
  /**
   * Versions root records in `history` (a table whose `historyOf` is `root`), idempotently: a
   * row of `rows` whose content hash differs from its key's current version opens a new one
   * (`_thena_valid_from` settled from the row's update time and the versions before it), closing
   * that one where the new begins; a soft-deleted record's current version closes at its
   * `_thena_deleted_at`, opening none; and without `rows`, every record `root` holds
   * soft-deleted has its current version closed so (after `markDeleted`).
   */
  writeHistory(root: TableSchema, history: TableSchema, rows?: readonly Row[]): Promise<void>
  /** Replaces the child rows of the given root records with `rows`. */
  replaceChildren(
    table: TableSchema,
    rootIds: readonly string[],
    rows: readonly Row[],
  ): Promise<void>
  writeState(
    pipeline: string,
    resource: string,
    state: ResourceState,
    loadId: string,
  ): Promise<void>
  /** Deletes a resource's committed state: its next run starts from the beginning. */
  clearState(pipeline: string, resource: string): Promise<void>
  /**
   * Drops tables (children before their parents) and their schema-history rows, so that the
   * next run creates them again. Tables that do not exist are skipped.
   */
  dropTables(tables: readonly string[]): Promise<void>
  /**
   * Records a pipeline's rejects. One identical to a reject already recorded for the pipeline
   * (same resource, record id, reason and raw content: `reject_key`) is not written again;
   * the recorded one gets `last_load_id = loadId`.
   */
  writeRejects(pipeline: string, loadId: string, rejects: readonly Reject[]): Promise<void>
  /** Inserts or updates the run's row in `_thena_loads`. */
  writeLoad(record: LoadRecord): Promise<void>
  /**
   * Soft delete: root rows of `table` whose key is not in `liveIds` and not yet marked get
   * `_thena_deleted_at = at`. Returns how many were marked.
   */
  markDeleted(table: TableSchema, liveIds: readonly string[], at: Date): Promise<number>
  /** Root rows of `table` not soft-deleted. */
  countLive(table: TableSchema): Promise<number>
  /** Marks runs left `running` by a process that died as `aborted`. */
  abortStaleLoads(pipeline: string, exceptLoadId: string): Promise<void>
  /** Drops the view `name` if it exists and creates it as `select` (`VIEW_STATEMENTS`). */
  replaceView(name: string, select: string): Promise<void>
  /** Drops the view `name` if it exists. */
  dropView(name: string): Promise<void>
  /** Inserts or replaces a view's `_thena_views` row (keyed by pipeline and name). */
  writeView(view: ViewRecord): Promise<void>
  /** Deletes a view's `_thena_views` row. */
  forgetView(pipeline: string, name: string): Promise<void>
}
