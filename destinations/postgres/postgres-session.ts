import { Readable } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import { pipeline } from 'node:stream/promises'
import { Kysely, PostgresDialect, sql } from 'kysely'
import type { PostgresPool, PostgresPoolClient } from 'kysely'
import pg from 'pg'
import { from as copyFrom } from 'pg-copy-streams'
import { TerminalError, ThenaSyncError, TransientError } from '../../src/errors.js'
import {
  QUERY_REFUSED,
  REJECTED_VALUE,
  notOneStatement,
  queryTimeLimit,
} from '../../src/load/destination.js'
import { jsonText, stateText } from '../../src/load/json-text.js'
import { historyStatements, keyStageColumns } from '../../src/load/history-sql.js'
import { MAX_WAIT_SETTING, WaitTooLongError } from '../../src/http/wait-policy.js'
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
import type { SystemReads, SystemTable } from '../../src/load/system-tables.js'
import { shortenIdentifier } from '../../src/normalize/naming.js'
import type { Reject } from '../../src/normalize/normalizer.js'
import type {
  ColumnSchema,
  Row,
  SchemaChange,
  TableSchema,
} from '../../src/normalize/table-schema.js'
import { parseResourceState } from '../../src/state/resource-state.js'
import type { ResourceState } from '../../src/state/resource-state.js'
import { POSTGRES_CAPABILITIES } from './postgres-destination.js'
import { copyTextChunks } from './postgres-values.js'

const { escapeIdentifier, typeNames, maxIdentifierLength: MAX_IDENTIFIER } = POSTGRES_CAPABILITIES
const columnType = (column: ColumnSchema) => sql.raw(typeNames[column.type])

/**
 * Kysely builds the metadata and DDL statements; all of them run on the session's one
 * connection, the same one that streams COPY data, so that they share its transaction.
 */
function singleClientPool(client: () => pg.Client): PostgresPool {
  return {
    connect: async () =>
      ({
        query: (...args: unknown[]) => (client().query as (...a: unknown[]) => unknown)(...args),
        release: () => undefined,
      }) as unknown as PostgresPoolClient,
    end: async () => undefined,
  }
}

// Timestamps and JSON come back as Postgres prints them (UTC, JSON text), as DuckDB does, so
// that `query` output looks the same on both; other types use pg's usual parsers.
const RAW_TEXT_TYPES = new Set([
  pg.types.builtins.DATE,
  pg.types.builtins.TIMESTAMP,
  pg.types.builtins.TIMESTAMPTZ,
  pg.types.builtins.JSON,
  pg.types.builtins.JSONB,
])
const typeParsers = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    RAW_TEXT_TYPES.has(oid)
      ? (value: string) => value
      : pg.types.getTypeParser(oid, format ?? 'text')) as typeof pg.types.getTypeParser,
}

/** Opens one connection in UTC (read-only when asked); failures name `where`, never the password. */
export async function openClient(
  config: pg.ClientConfig,
  readOnly: boolean,
  where: string,
): Promise<pg.Client> {
  const client = new pg.Client({ ...config, types: typeParsers })
  // Without a listener, a server-side disconnect while idle would crash the process; the
  // session notices the broken connection on its next statement instead.
  client.on('error', () => undefined)
  try {
    await client.connect()
    await client.query(`SET TIME ZONE 'UTC'`)
    if (readOnly) await client.query('SET default_transaction_read_only = on')
  } catch (error) {
    await client.end().catch(() => undefined)
    throw toThenaSyncError(error, 'connect', where)
  }
  return client
}

/** Statements a read-only session lets `query` run: they read, and cannot run other SQL. */
const READING_STATEMENTS = new Set(['select', 'with', 'values', 'table', 'explain', 'show'])

/**
 * Functions a read-only `query` refuses by name, as they act outside its transaction or role:
 * `set_config` can take back the role given up, the `*_to_xml` family, `ts_stat` and
 * `ts_rewrite` run SQL given as text (past these checks), dblink opens a connection that is
 * not read-only, and the others write server files or stop other sessions (a load).
 * `pg_logical_emit_message` writes WAL that the rollback leaves for every logical decoder, and
 * an advisory lock (even a transaction's, while the statement runs) can hold a load's
 * pipeline or DDL lock: a commit would wait on it past SIGTERM.
 */
const ESCAPING_FUNCTIONS =
  /\b(set_config|query_to_xml\w*|cursor_to_xml\w*|ts_stat|ts_rewrite|dblink\w*|lo_export|lo_import|pg_file_\w+|pg_terminate_backend|pg_cancel_backend|pg_logical_emit_message|pg_(?:try_)?advisory_\w+)\b/

/**
 * The first word of each statement in `text` (lowercased; a non-word first token as itself),
 * read as Postgres reads it: past blanks, comments (nested), string and dollar-quoted literals,
 * quoted identifiers and parentheses, so that only a `;` outside them ends a statement. It only
 * chooses the message: Postgres itself takes one statement (see `#statement`).
 */
function statementHeads(text: string): string[] {
  const heads: string[] = []
  let inStatement = false
  let i = 0
  while (i < text.length) {
    const c = text[i]!
    if (c === ';') {
      inStatement = false
      i++
      continue
    }
    const next = skipUnquoted(text, i)
    if (next > i) {
      i = next
      continue
    }
    const word = /^[\p{L}_][\p{L}\p{N}_$]*/u.exec(text.slice(i, i + 64))?.[0]
    const token = /^[eE]'/.test(text.slice(i, i + 2)) ? "e'" : (word ?? c)
    if (!inStatement) heads.push(token.toLowerCase())
    inStatement = true
    i = word && token !== "e'" ? i + word.length : skipLiteral(text, i)
  }
  return heads
}

/** Past blanks, comments and `(` from `i` (nested comments and line breaks as Postgres reads them). */
function skipUnquoted(text: string, i: number): number {
  if (/[ \t\n\r\f\v(]/.test(text[i]!)) return i + 1
  if (text.startsWith('--', i)) {
    const end = text.slice(i).search(/[\n\r]/)
    return end < 0 ? text.length : i + end + 1
  }
  if (!text.startsWith('/*', i)) return i
  let depth = 0
  do {
    if (text.startsWith('/*', i)) depth++
    else if (text.startsWith('*/', i)) depth--
    else {
      i++
      continue
    }
    i += 2
  } while (depth > 0 && i < text.length)
  return i
}

/** Past the literal or quoted identifier at `i` (or its one character when it is neither). */
function skipLiteral(text: string, i: number): number {
  const dollar = /^\$([\p{L}_][\p{L}\p{N}_]*)?\$/u.exec(text.slice(i, i + 64))?.[0]
  const escaped = /^[eE]'/.test(text.slice(i, i + 2))
  const quote = escaped ? "'" : (dollar ?? (text[i] === "'" || text[i] === '"' ? text[i]! : ''))
  if (quote === '') return i + 1
  let j = i + (escaped ? 2 : quote.length)
  while (j < text.length) {
    if (escaped && text[j] === '\\') j += 2
    else if (!text.startsWith(quote, j)) j++
    // A doubled quote is one quote character of the literal; a dollar tag does not double.
    else if (!dollar && text.startsWith(quote, j + 1)) j += 2
    else return j + quote.length
  }
  return text.length
}

/** Refuses, before it runs, SQL that a read-only session must not run (see the constants above). */
function refuseUnlessReading(text: string, first: string): void {
  if (!READING_STATEMENTS.has(first))
    throw new TerminalError(
      QUERY_REFUSED,
      `query is read-only: on Postgres it runs one SELECT, WITH, VALUES, TABLE, EXPLAIN or SHOW statement, not ${first.toUpperCase()}`,
    )
  // A U&"..." identifier could spell a refused name with escapes.
  if (/u&"/i.test(text))
    throw new TerminalError(
      QUERY_REFUSED,
      'query is read-only: U&"..." identifiers are refused on Postgres',
    )
  const escaping = ESCAPING_FUNCTIONS.exec(text.toLowerCase().replace(/"/g, ''))
  if (escaping)
    throw new TerminalError(
      QUERY_REFUSED,
      `query is read-only: on Postgres it refuses ${escaping[1]}, which could act outside its read-only transaction`,
    )
}

/** One connection to a Postgres database. All writes go through `transaction()`. */
export class PostgresSession implements DestinationSession {
  #client: pg.Client
  readonly #reconnect: () => Promise<pg.Client>
  readonly #schema: string
  readonly #where: string
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- table names are only known at run time
  readonly #root: Kysely<any>
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- as above
  readonly #db: Kysely<any>
  #stageSeq = 0
  readonly #locks = new Set<string>()
  /** Set when the server closed the connection; the next transaction reconnects. */
  #broken = false
  readonly #readOnly: boolean
  #closed = false
  /** The connection that ends lock waits after a stop (see `#cancelLockWaits`). */
  #canceller: pg.Client | undefined
  readonly #reads: SystemReads

  constructor(
    client: pg.Client,
    reconnect: () => Promise<pg.Client>,
    schema: string,
    where: string,
    readOnly = false,
    stop?: AbortSignal,
  ) {
    this.#readOnly = readOnly
    if (stop?.aborted) void this.#cancelLockWaits()
    else stop?.addEventListener('abort', () => void this.#cancelLockWaits(), { once: true })
    this.#client = this.#watch(client)
    this.#reconnect = reconnect
    this.#schema = schema
    this.#where = where
    this.#root = new Kysely({
      dialect: new PostgresDialect({ pool: singleClientPool(() => this.#client) }),
    })
    this.#db = this.#root.withSchema(schema)
    this.#reads = sqlSystemReads(
      async (text, params) =>
        (
          await this.#guard('read system tables', () =>
            this.#client.query<Record<string, unknown>>(text, params ? [...params] : undefined),
          )
        ).rows,
      { table: (name) => this.#t(name), ident: escapeIdentifier },
      schema,
    )
  }

  #t(name: string): string {
    return `${escapeIdentifier(this.#schema)}.${escapeIdentifier(name)}`
  }

  readonly #names = { table: (name: string) => this.#t(name), ident: escapeIdentifier }

  /** Replaces a connection the server dropped (restart, terminated backend) before using it. */
  async #ensureConnected(): Promise<void> {
    if (!this.#broken) return
    this.#client = this.#watch(await this.#reconnect())
    // Advisory locks die with their connection: take them again, or stop if another process
    // took over meanwhile.
    for (const pipeline of this.#locks) {
      if (!(await this.#lock(pipeline)))
        throw new TerminalError(
          'pipeline_busy',
          `lost the lock of pipeline ${pipeline} when the connection to ${this.#where} dropped, and another process holds it now`,
        )
    }
  }

  async #guard<T>(context: string, fn: () => Promise<T>): Promise<T> {
    try {
      await this.#ensureConnected()
      return await fn()
    } catch (error) {
      throw toThenaSyncError(error, context, this.#where)
    }
  }

  /**
   * Serializes DDL on this schema across sessions until the transaction ends: two pipelines
   * creating the same schema or table at once would otherwise collide in Postgres' catalog
   * (`pg_type_typname_nsp_index`), and number their schema-history rows alike.
   */
  async #lockDdl(): Promise<void> {
    await this.#client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [
      `thena-sync-ddl:${this.#schema}`,
    ])
  }

  async prepare(): Promise<void> {
    await this.transaction(async () => {
      await this.#lockDdl()
      await this.#root.schema.createSchema(this.#schema).ifNotExists().execute()
      for (const table of SYSTEM_TABLES) {
        let create = this.#db.schema.createTable(table.name).ifNotExists()
        for (const column of table.columns)
          create = create.addColumn(column.name, columnType(column))
        if (table.key.length > 0) {
          create = create.addPrimaryKeyConstraint(
            shortenIdentifier(`${table.name}_pkey`, MAX_IDENTIFIER),
            table.key as never,
          )
        }
        await create.execute()
        // Warehouses from an older version get the columns added since (always at the end).
        for (const column of table.columns)
          await sql`ALTER TABLE ${sql.raw(this.#t(table.name))} ADD COLUMN IF NOT EXISTS ${sql.ref(column.name)} ${columnType(column)}`.execute(
            this.#db,
          )
      }
      for (const table of SYSTEM_TABLES)
        for (const statement of table.migrations?.((name) => this.#t(name)) ?? [])
          await sql.raw(statement).execute(this.#db)
    })
  }

  async readTables(): Promise<TableSchema[]> {
    const rows = await this.#guard('read schema history', () =>
      this.#db.selectFrom(SCHEMA_HISTORY_TABLE.name).selectAll().orderBy('ordinal').execute(),
    )
    return tablesFromHistory(rows)
  }

  async readState(pipeline: string): Promise<Map<string, ResourceState>> {
    const rows = await this.#guard('read state', () =>
      this.#db
        .selectFrom(STATE_TABLE.name)
        .select(['resource', 'state'])
        .where('pipeline', '=', pipeline)
        .execute(),
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
    try {
      // A connection dropped during a transaction fails it, and the server rolls it back.
      await this.#ensureConnected()
      await this.#client.query('BEGIN')
      const result = await fn(this.#tx)
      await this.#client.query('COMMIT')
      return result
    } catch (error) {
      if (!this.#broken) await this.#client.query('ROLLBACK').catch(() => undefined)
      throw toThenaSyncError(error, 'transaction', this.#where)
    }
  }

  #watch(client: pg.Client): pg.Client {
    this.#broken = false
    client.once('end', () => {
      if (this.#client === client) this.#broken = true
    })
    return client
  }

  /** A session-level advisory lock, keyed by schema and pipeline. */
  async tryLock(pipeline: string): Promise<boolean> {
    const taken = await this.#guard('lock', () => this.#lock(pipeline))
    if (taken) this.#locks.add(pipeline)
    return taken
  }

  async #lock(pipeline: string): Promise<boolean> {
    const { rows } = await this.#client.query<{ taken: boolean }>(
      'SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS taken',
      [`thena-sync:${this.#schema}:${pipeline}`],
    )
    return rows[0]!.taken
  }

  async isLockHeld(pipeline: string): Promise<boolean> {
    // A bigint advisory key is held as (classid, objid) = its high and low 32 bits.
    const { rows } = await this.#guard('lock check', () =>
      this.#client.query<{ held: boolean }>(
        `SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1
           AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
           AND ((classid::bigint << 32) | objid::bigint) = hashtextextended($1, 0)) AS held`,
        [`thena-sync:${this.#schema}:${pipeline}`],
      ),
    )
    return rows[0]!.held
  }

  async unlock(pipeline: string): Promise<void> {
    if (!this.#locks.delete(pipeline)) return
    await this.#client
      .query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [
        `thena-sync:${this.#schema}:${pipeline}`,
      ])
      .catch(() => undefined)
  }

  async query(text: string, options: QueryOptions = {}): Promise<QueryResult> {
    const heads = statementHeads(text)
    if (heads.length !== 1) throw notOneStatement(heads.length === 0 ? 'none' : 'more')
    if (this.#readOnly) refuseUnlessReading(text, heads[0]!)
    const { maxMs } = options
    try {
      await this.#ensureConnected()
      if (!this.#readOnly) return await this.#statement(text)
      await this.#client.query('BEGIN READ ONLY')
      try {
        // Once a snapshot is taken, nothing in the transaction can make it read-write again.
        await this.#client.query('SELECT 1')
        await this.#dropPrivileges()
        // For this transaction only; the statement cannot change it back (set_config is refused).
        if (maxMs !== undefined)
          await this.#client.query(
            `SET LOCAL statement_timeout = ${Math.max(1, Math.round(maxMs))}`,
          )
        return await this.#statement(text)
      } finally {
        // Whatever the statement did inside the transaction (a SET too) is undone.
        if (!this.#broken) await this.#client.query('ROLLBACK').catch(() => undefined)
      }
    } catch (error) {
      if (/cannot insert multiple commands/i.test((error as Error).message ?? ''))
        throw notOneStatement('more')
      // 57014: query_canceled, here by the statement_timeout set above.
      if (
        maxMs !== undefined &&
        (error as { code?: string }).code === '57014' &&
        /statement timeout/i.test((error as Error).message ?? '')
      )
        throw queryTimeLimit(maxMs)
      const mapped = toThenaSyncError(error, 'query', this.#where)
      if (mapped.code !== 'destination_error' && mapped.code !== REJECTED_VALUE) throw mapped
      throw new TerminalError('query_failed', (error as Error).message.split('\n')[0]!)
    }
  }

  /** Runs `text` with the extended protocol, in which Postgres takes exactly one statement. */
  async #statement(text: string): Promise<QueryResult> {
    const result = await this.#client.query({ text, queryMode: 'extended' } as pg.QueryConfig)
    return { columns: (result.fields ?? []).map((f) => f.name), rows: result.rows ?? [] }
  }

  /**
   * For the rest of the transaction, takes the role `pg_read_all_data` (Postgres 14+) when this
   * login may: a superuser could otherwise write server files (COPY TO, lo_export) or run
   * programs from a read-only transaction. Left as is when the login may not, and then has
   * only the rights it was given.
   */
  async #dropPrivileges(): Promise<void> {
    await this.#client.query('SAVEPOINT thena_sync_read_role')
    try {
      await this.#client.query(
        `SELECT set_config('role', 'pg_read_all_data', true) WHERE to_regrole('pg_read_all_data') IS NOT NULL AND pg_has_role('pg_read_all_data', 'MEMBER')`,
      )
      await this.#client.query('RELEASE SAVEPOINT thena_sync_read_role')
    } catch {
      // A membership without the SET option (Postgres 16+) cannot switch.
      await this.#client.query('ROLLBACK TO SAVEPOINT thena_sync_read_role')
    }
  }

  /**
   * After a stop: cancels, on a second connection, every statement of this session that waits
   * for a lock (a table another client holds in a long transaction, an advisory lock) until the
   * session closes. The batch it would commit rolls back, as a kill would; statements that run
   * go on, so the batch in progress still commits when nothing blocks it.
   */
  async #cancelLockWaits(): Promise<void> {
    try {
      this.#canceller = await this.#reconnect()
      while (!this.#closed) {
        const pid = (this.#client as unknown as { processID: number }).processID
        await this.#canceller.query(
          `SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE pid = $1 AND wait_event_type = 'Lock'`,
          [pid],
        )
        await sleep(100)
      }
    } catch {
      // Closed meanwhile, or the server is gone: there is no wait left to end.
    } finally {
      await this.#canceller?.end().catch(() => undefined)
    }
  }

  async close(): Promise<void> {
    this.#closed = true
    await this.#canceller?.end().catch(() => undefined)
    await this.#client.end().catch(() => undefined)
  }

  /** Streams rows into `target` with COPY FROM STDIN in text format. */
  async #copy(
    target: string,
    columns: readonly ColumnSchema[],
    rows: readonly Row[],
  ): Promise<void> {
    if (rows.length === 0) return
    const names = columns.map((c) => escapeIdentifier(c.name)).join(', ')
    const stream = this.#client.query(copyFrom(`COPY ${target} (${names}) FROM STDIN`))
    await pipeline(Readable.from(copyTextChunks(columns, rows)), stream)
  }

  /** `rows` in a new temporary table of `columns`, dropped at the latest on commit. */
  async #stage(
    name: string,
    columns: readonly ColumnSchema[],
    rows: readonly Row[],
  ): Promise<void> {
    let create = this.#root.schema.createTable(name).temporary().onCommit('drop')
    for (const column of columns) create = create.addColumn(column.name, columnType(column))
    await create.execute()
    await this.#copy(escapeIdentifier(name), columns, rows)
  }

  /** System-table rows as Kysely values: epoch ms as Date, JSON serialized. */
  #values(table: SystemTable, row: Row): Record<string, unknown> {
    const out: Record<string, unknown> = {}
    for (const column of table.columns) {
      const value = row[column.name]
      out[column.name] =
        value == null
          ? null
          : column.type === 'timestamp'
            ? new Date(value as number)
            : column.type === 'json'
              ? jsonText(value, true)
              : value
    }
    return out
  }

  readonly #tx: DestinationTransaction = {
    applySchema: async (changes: readonly SchemaChange[], loadId: string) => {
      if (changes.length === 0) return
      await this.#lockDdl()
      const { next } = await this.#db
        .selectFrom(SCHEMA_HISTORY_TABLE.name)
        .select(sql<string>`coalesce(max(ordinal), 0) + 1`.as('next'))
        .executeTakeFirstOrThrow()
      for (const change of changes) {
        if (change.kind === 'create_table') {
          const table = change.table
          let create = this.#db.schema.createTable(table.name).ifNotExists()
          // A history table holds several versions per key: no primary key.
          for (const column of table.columns) {
            create = create.addColumn(column.name, columnType(column), (c) =>
              column.name === table.primaryKey && !table.historyOf ? c.primaryKey() : c,
            )
          }
          await create.execute()
          if (table.historyOf) {
            // Each batch finds its keys' versions, the current one first.
            await this.#db.schema
              .createIndex(shortenIdentifier(`${table.name}__thena_key_idx`, MAX_IDENTIFIER))
              .ifNotExists()
              .on(table.name)
              .columns([table.primaryKey, '_thena_is_current'])
              .execute()
          }
          if (table.parent) {
            // Child rows are replaced by root id on every merge: without this index each
            // replacement would scan the whole child table.
            await this.#db.schema
              .createIndex(shortenIdentifier(`${table.name}__thena_root_idx`, MAX_IDENTIFIER))
              .ifNotExists()
              .on(table.name)
              .column('_thena_root_id')
              .execute()
          }
        } else {
          await sql`ALTER TABLE ${sql.raw(this.#t(change.table))} ADD COLUMN IF NOT EXISTS ${sql.ref(change.column.name)} ${columnType(change.column)}`.execute(
            this.#db,
          )
        }
      }
      const history = historyRows(changes, Number(next), loadId)
      // In chunks: one statement takes at most 65,535 parameters (13 per row).
      for (let start = 0; start < history.length; start += 1000)
        await this.#db
          .insertInto(SCHEMA_HISTORY_TABLE.name)
          .values(
            history
              .slice(start, start + 1000)
              .map((row) => this.#values(SCHEMA_HISTORY_TABLE, row)),
          )
          .execute()
    },

    merge: async (table: TableSchema, rows: readonly Row[]) => {
      if (rows.length === 0) return
      const stage = `_thena_stage_${this.#stageSeq++}`
      let create = this.#root.schema.createTable(stage).temporary().onCommit('drop')
      for (const column of table.columns) create = create.addColumn(column.name, columnType(column))
      await create.execute()
      await this.#copy(escapeIdentifier(stage), table.columns, rows)
      const names = table.columns.map((c) => c.name)
      const updates = Object.fromEntries(
        names
          .filter((name) => name !== table.primaryKey)
          .map((name) => [name, sql.ref(`excluded.${name}`)]),
      )
      await this.#db
        .insertInto(table.name)
        .columns(names)
        .expression(
          sql`SELECT ${sql.join(names.map((n) => sql.ref(n)))} FROM ${sql.raw(escapeIdentifier(stage))}`,
        )
        .onConflict((oc) => oc.column(table.primaryKey).doUpdateSet(updates))
        .execute()
      await sql`DROP TABLE ${sql.raw(escapeIdentifier(stage))}`.execute(this.#db)
    },

    writeHistory: async (root: TableSchema, history: TableSchema, rows?: readonly Row[]) => {
      const keys = `_thena_stage_${this.#stageSeq++}`
      const stage = `_thena_stage_${this.#stageSeq++}`
      const statements = historyStatements(history, {
        history: this.#t(history.name),
        root: this.#t(root.name),
        keys: escapeIdentifier(keys),
        stage: escapeIdentifier(stage),
        ident: escapeIdentifier,
      })
      if (rows === undefined) return void (await sql.raw(statements.closeDeleted).execute(this.#db))
      if (rows.length === 0) return
      await this.#stage(keys, keyStageColumns(history), rows)
      const found = await sql.raw<{ k: unknown }>(statements.changed).execute(this.#db)
      const changed = new Set(found.rows.map((r) => String(r.k)))
      await sql`DROP TABLE ${sql.raw(escapeIdentifier(keys))}`.execute(this.#db)
      // A batch re-read unchanged stops here.
      if (changed.size === 0) return
      await this.#stage(
        stage,
        history.columns,
        rows.filter((r) => changed.has(String(r[history.primaryKey]))),
      )
      await sql.raw(statements.settleValidFrom).execute(this.#db)
      await sql.raw(statements.closeCurrent).execute(this.#db)
      await sql.raw(statements.openNew).execute(this.#db)
      await sql`DROP TABLE ${sql.raw(escapeIdentifier(stage))}`.execute(this.#db)
    },

    replaceChildren: async (
      table: TableSchema,
      rootIds: readonly string[],
      rows: readonly Row[],
    ) => {
      if (rootIds.length > 0) {
        await this.#db
          .deleteFrom(table.name)
          .where('_thena_root_id', '=', sql<string>`ANY(${[...rootIds]}::text[])`)
          .execute()
      }
      await this.#copy(this.#t(table.name), table.columns, rows)
    },

    writeState: async (
      pipeline: string,
      resource: string,
      state: ResourceState,
      loadId: string,
    ) => {
      await this.#db
        .insertInto(STATE_TABLE.name)
        .values({
          pipeline,
          resource,
          state: stateText(state, true),
          load_id: loadId,
          updated_at: sql`now()`,
        })
        .onConflict((oc) =>
          oc.columns(['pipeline', 'resource']).doUpdateSet({
            state: sql.ref('excluded.state'),
            load_id: sql.ref('excluded.load_id'),
            updated_at: sql.ref('excluded.updated_at'),
          }),
        )
        .execute()
    },

    clearState: async (pipeline: string, resource: string) => {
      await this.#db
        .deleteFrom(STATE_TABLE.name)
        .where('pipeline', '=', pipeline)
        .where('resource', '=', resource)
        .execute()
    },

    dropTables: async (tables: readonly string[]) => {
      if (tables.length === 0) return
      await this.#lockDdl()
      // No CASCADE: a view someone built on a table makes the reset fail rather than vanish.
      for (const table of tables) await this.#db.schema.dropTable(table).ifExists().execute()
      await this.#db
        .deleteFrom(SCHEMA_HISTORY_TABLE.name)
        .where('table_name', 'in', [...tables])
        .execute()
    },

    writeRejects: async (pipeline: string, loadId: string, rejects: readonly Reject[]) => {
      const rows = rejectRows(pipeline, loadId, rejects)
      if (rows.length === 0) return
      const keys = rows.map((r) => r.reject_key as string)
      const seen = await sql<{ reject_key: string }>`
        UPDATE ${sql.raw(this.#t(REJECTS_TABLE.name))} SET last_load_id = ${loadId}
        WHERE pipeline = ${pipeline} AND reject_key = ANY(${keys}::text[]) RETURNING reject_key`.execute(
        this.#db,
      )
      const recorded = new Set(seen.rows.map((r) => r.reject_key))
      await this.#copy(
        this.#t(REJECTS_TABLE.name),
        REJECTS_TABLE.columns,
        rows.filter((r) => !recorded.has(r.reject_key as string)),
      )
    },

    writeLoad: async (load: LoadRecord) => {
      const values = this.#values(LOADS_TABLE, loadRow(load))
      const { load_id: _key, ...rest } = values
      await this.#db
        .insertInto(LOADS_TABLE.name)
        .values(values)
        .onConflict((oc) =>
          oc
            .column('load_id')
            .doUpdateSet(
              Object.fromEntries(Object.keys(rest).map((k) => [k, sql.ref(`excluded.${k}`)])),
            ),
        )
        .execute()
    },

    markDeleted: async (table: TableSchema, liveIds: readonly string[], at: Date) => {
      // The live ids go to a temp table so that the anti-join is hashed; `<> ALL(array)`
      // would compare every row with every id.
      const live = `_thena_live_${this.#stageSeq++}`
      // Of the key column's type: a resource keyed by a number compares no text.
      const type = table.columns.find((c) => c.name === table.primaryKey)?.type ?? 'text'
      const key: ColumnSchema = { name: 'id', type, path: [] }
      await this.#root.schema
        .createTable(live)
        .temporary()
        .onCommit('drop')
        .addColumn('id', columnType(key))
        .execute()
      await this.#copy(
        escapeIdentifier(live),
        [key],
        liveIds.map((id) => ({ id: type === 'text' ? id : Number(id) })),
      )
      const result =
        await sql`UPDATE ${sql.raw(this.#t(table.name))} AS t SET _thena_deleted_at = ${at}
        WHERE _thena_deleted_at IS NULL
          AND NOT EXISTS (SELECT 1 FROM ${sql.raw(escapeIdentifier(live))} AS l WHERE l.id = t.${sql.ref(table.primaryKey)})`.execute(
          this.#db,
        )
      await sql`DROP TABLE ${sql.raw(escapeIdentifier(live))}`.execute(this.#db)
      return Number(result.numAffectedRows ?? 0)
    },

    countLive: async (table: TableSchema) => {
      const { n } = await this.#db
        .selectFrom(table.name)
        .select(sql<string>`count(*)`.as('n'))
        .where('_thena_deleted_at', 'is', null)
        .executeTakeFirstOrThrow()
      return Number(n)
    },

    abortStaleLoads: async (pipeline: string, exceptLoadId: string) => {
      await this.#db
        .updateTable(LOADS_TABLE.name)
        .set({ status: 'aborted' })
        .where('pipeline', '=', pipeline)
        .where('status', '=', 'running')
        .where('load_id', '<>', exceptLoadId)
        .execute()
    },

    replaceView: async (name: string, select: string) => {
      // Two pipelines replacing a view of one schema at once would collide in the catalog.
      await this.#lockDdl()
      await this.#client.query(VIEW_STATEMENTS.drop(this.#names, name))
      await this.#client.query(VIEW_STATEMENTS.create(this.#names, name, select))
    },

    dropView: async (name: string) => {
      await this.#lockDdl()
      await this.#client.query(VIEW_STATEMENTS.drop(this.#names, name))
    },

    writeView: async (view: ViewRecord) => {
      await this.#client.query(VIEW_STATEMENTS.deleteRecord(this.#names), [
        view.pipeline,
        view.name,
      ])
      await this.#db
        .insertInto(VIEWS_TABLE.name)
        .values(this.#values(VIEWS_TABLE, viewRow(view)))
        .execute()
    },

    forgetView: async (pipeline: string, name: string) => {
      await this.#client.query(VIEW_STATEMENTS.deleteRecord(this.#names), [pipeline, name])
    },
  }
}

// SQLSTATE classes and socket errors that mean the connection, not the statement, failed.
const CONNECTION_LOST = /^(08|57P0)/
const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
])

/** Maps a pg error to the tool's error taxonomy (the one place that knows Postgres' errors). */
export function toThenaSyncError(error: unknown, context: string, where: string): ThenaSyncError {
  if (error instanceof ThenaSyncError) return error
  const e = error as { code?: string; message?: string }
  const message = (e.message ?? String(error)).split('\n')[0]!
  const code = e.code ?? ''
  if (UNREACHABLE.has(code) || /timeout expired/i.test(message)) {
    return new TransientError(
      'destination_unavailable',
      `cannot reach Postgres at ${where}: ${message}`,
      {
        cause: error,
      },
    )
  }
  if (code === '28P01' || code === '28000') {
    return new TerminalError(
      'destination_auth',
      `Postgres at ${where} refused the login (${message}): check the user and password in THENA_DESTINATION`,
      { cause: error },
    )
  }
  if (code === '3D000') {
    return new TerminalError('destination_error', `Postgres at ${where}: ${message}`, {
      cause: error,
    })
  }
  // The session's lock_timeout (http.maxWaitSeconds): another session holds a lock that long.
  if (code === '55P03' && /lock timeout/i.test(message))
    return new WaitTooLongError(
      `Postgres at ${where}: waiting for a lock another session holds (during ${context})`,
      `the wait reached ${MAX_WAIT_SETTING}`,
    )
  // Deadlock, serialization failure, lock not available: the transaction can simply run again.
  if (code === '40P01' || code === '40001' || code === '55P03') {
    return new TransientError('destination_busy', `Postgres at ${where}: ${message}`, {
      cause: error,
    })
  }
  if (
    CONNECTION_LOST.test(code) ||
    /Connection terminated|ECONNRESET|not queryable|EPIPE/i.test(`${code} ${message}`)
  ) {
    return new TransientError(
      'destination_connection_lost',
      `the connection to Postgres at ${where} was lost during ${context} (${message}); the open transaction was rolled back`,
      { cause: error },
    )
  }
  // Data exceptions, integrity violations, a row too big: the values of a row, which the
  // commit finds and quarantines. So is a value this module could not encode for COPY.
  const refused =
    /^(22|23)/.test(code) ||
    code === '54000' ||
    (code === '' && (error instanceof TypeError || error instanceof RangeError))
  return new TerminalError(
    refused ? REJECTED_VALUE : 'destination_error',
    `Postgres at ${where}: ${message} (during ${context})`,
    {
      cause: error,
    },
  )
}
