import { createHash } from 'node:crypto'
import type { Reject } from '../normalize/normalizer.js'
import type {
  ColumnSchema,
  ColumnType,
  Row,
  SchemaChange,
  TableSchema,
} from '../normalize/table-schema.js'
import type {
  DestinationSession,
  LoadRecord,
  LoadStatus,
  SchemaChangeSummary,
  ViewRecord,
  ViewStatus,
  SchemaHistoryEntry,
  StoredLoad,
} from './destination.js'
import { redactor } from '../redactor.js'

/** A `_thena_` table every destination keeps next to the data, described as data. */
export interface SystemTable {
  readonly name: string
  readonly columns: readonly ColumnSchema[]
  /** Columns that identify a row (a primary key where the destination enforces one). */
  readonly key: readonly string[]
  /**
   * Statements `prepare` runs after adding the columns a table from an older version lacks,
   * to fill them (the same SQL on every destination; `t` gives a table's qualified name).
   * Each must be idempotent. Default: none.
   */
  readonly migrations?: (t: (name: string) => string) => readonly string[]
}

const col = (name: string, type: ColumnType): ColumnSchema => ({ name, type, path: [] })

/**
 * One row per run: what it did and how it ended. A `running` row is also the run's lock record:
 * `heartbeat_at` moves at every commit, and the next run that holds the pipeline's lock marks a
 * `running` row left by a dead process `aborted` (stale takeover).
 */
export const LOADS_TABLE: SystemTable = {
  name: '_thena_loads',
  key: ['load_id'],
  columns: [
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
    col('heartbeat_at', 'timestamp'),
    col('unchanged', 'bigint'),
    col('details', 'json'),
  ],
}

/** The committed position of each resource of each pipeline. */
export const STATE_TABLE: SystemTable = {
  name: '_thena_state',
  key: ['pipeline', 'resource'],
  columns: [
    col('pipeline', 'text'),
    col('resource', 'text'),
    col('state', 'json'),
    col('load_id', 'text'),
    col('updated_at', 'timestamp'),
  ],
}

/** Every table and column ever created, in order, with the source path it holds. */
export const SCHEMA_HISTORY_TABLE: SystemTable = {
  name: '_thena_schema_history',
  key: ['ordinal'],
  columns: [
    col('ordinal', 'bigint'),
    col('event', 'text'),
    col('table_name', 'text'),
    col('column_name', 'text'),
    col('column_type', 'text'),
    col('source_path', 'json'),
    col('variant_of', 'text'),
    col('resource', 'text'),
    col('parent_table', 'text'),
    col('array_path', 'json'),
    col('primary_key', 'text'),
    col('load_id', 'text'),
    col('recorded_at', 'timestamp'),
    col('history_of', 'text'),
  ],
}

/**
 * Records that failed their contract: raw JSON and the reason. A record rejected again for the
 * same reason with the same content is one row: `load_id` and `rejected_at` say when it was
 * first recorded, `last_load_id` the last load that rejected it so (`reject_key` identifies
 * it). Rows from before `pipeline` existed get theirs from their load.
 */
export const REJECTS_TABLE: SystemTable = {
  name: '_thena_rejects',
  key: [],
  columns: [
    col('load_id', 'text'),
    col('resource', 'text'),
    col('record_id', 'text'),
    col('reason', 'text'),
    col('raw_json', 'text'),
    col('rejected_at', 'timestamp'),
    col('pipeline', 'text'),
    col('reject_key', 'text'),
    col('last_load_id', 'text'),
  ],
  migrations: (t) => [
    `UPDATE ${t('_thena_rejects')} SET pipeline = (SELECT l.pipeline FROM ${t('_thena_loads')} AS l WHERE l.load_id = ${t('_thena_rejects')}.load_id) WHERE pipeline IS NULL`,
    `UPDATE ${t('_thena_rejects')} SET last_load_id = load_id WHERE last_load_id IS NULL`,
  ],
}

/**
 * One row per view a pipeline keeps (docs/decisions.md #65): the hash of the SQL it was last
 * built from (a run that computes the same SQL leaves the view alone), and the last build's
 * outcome. `built_at` is when the view now in the warehouse was created; a failed rebuild
 * keeps it.
 */
export const VIEWS_TABLE: SystemTable = {
  name: '_thena_views',
  key: ['pipeline', 'name'],
  columns: [
    col('pipeline', 'text'),
    col('name', 'text'),
    col('status', 'text'),
    col('sql_hash', 'text'),
    col('error', 'text'),
    col('built_at', 'timestamp'),
    col('updated_at', 'timestamp'),
    col('load_id', 'text'),
  ],
}

export const SYSTEM_TABLES: readonly SystemTable[] = [
  LOADS_TABLE,
  STATE_TABLE,
  SCHEMA_HISTORY_TABLE,
  REJECTS_TABLE,
  VIEWS_TABLE,
]

/** The `_thena_views` row of a view record (its error redacted). */
export const viewRow = (view: ViewRecord): Row => ({
  pipeline: view.pipeline,
  name: view.name,
  status: view.status,
  sql_hash: view.sqlHash,
  error: view.error === undefined ? null : redactor.redact(view.error),
  built_at: view.builtAt?.getTime() ?? null,
  updated_at: view.updatedAt.getTime(),
  load_id: view.loadId,
})

/** A `_thena_views` row as the session reads it back. */
export function viewRecordFromRow(row: Record<string, unknown>): ViewRecord {
  const builtAt = parseTimestamp(row.built_at)
  return {
    pipeline: String(row.pipeline),
    name: String(row.name),
    status: String(row.status) as ViewStatus,
    sqlHash: row.sql_hash == null ? null : String(row.sql_hash),
    ...(row.error != null && { error: String(row.error) }),
    ...(builtAt && { builtAt }),
    updatedAt: parseTimestamp(row.updated_at)!,
    loadId: String(row.load_id),
  }
}

/**
 * The statements that replace a view, the same SQL on every SQL destination: run in one
 * transaction, so readers see the old view or the new one. No CASCADE: a view someone built
 * on ours makes the rebuild fail (and say so) rather than vanish.
 */
export const VIEW_STATEMENTS = {
  drop: (n: SqlNames, name: string): string => `DROP VIEW IF EXISTS ${n.table(name)}`,
  create: (n: SqlNames, name: string, select: string): string =>
    `CREATE VIEW ${n.table(name)} AS\n${select}`,
  /** `$1` the pipeline, `$2` the view. */
  deleteRecord: (n: SqlNames): string =>
    `DELETE FROM ${n.table(VIEWS_TABLE.name)} WHERE pipeline = $1 AND name = $2`,
} as const

/** Schema-history rows for `changes`, numbered from `firstOrdinal` (timestamps in epoch ms). */
export function historyRows(
  changes: readonly SchemaChange[],
  firstOrdinal: number,
  loadId: string,
  now = Date.now(),
): Row[] {
  const rows: Row[] = []
  const record = (event: string, table: TableSchema, column: ColumnSchema) =>
    rows.push({
      ordinal: firstOrdinal + rows.length,
      event,
      table_name: table.name,
      column_name: column.name,
      column_type: column.type,
      source_path: column.path,
      variant_of: column.variantOf ?? null,
      resource: table.resource,
      parent_table: table.parent ?? null,
      array_path: table.arrayPath ?? null,
      primary_key: table.primaryKey,
      load_id: loadId,
      recorded_at: now,
      history_of: table.historyOf ?? null,
    })
  for (const change of changes) {
    if (change.kind === 'create_table') {
      for (const column of change.table.columns) record('create_table', change.table, column)
    } else {
      // Only the table name is recorded for an added column; the rest comes from its creation.
      record('add_column', { name: change.table } as TableSchema, change.column)
    }
  }
  return rows
}

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
        ...(row.history_of != null && { historyOf: row.history_of as string }),
        primaryKey: row.primary_key as string,
        columns: [],
      }
      tables.set(name, table)
    }
    // A commit retried after its COMMIT was in fact applied records its changes twice.
    if (table.columns.some((c) => c.name === row.column_name)) continue
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

/** The `_thena_loads` row of a load record. */
export const loadRow = (load: LoadRecord): Row => ({
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
  error: load.error === undefined ? null : redactor.redact(load.error),
  heartbeat_at: Date.now(),
  unchanged: load.unchanged,
  details: load.details ?? null,
})

/**
 * The `_thena_rejects` rows of a batch's rejects (secrets an API may echo are redacted), each
 * identical reject once. `reject_key` is a hash of what makes two rejects the same: resource,
 * record id, reason and raw content (the pipeline is a column of its own).
 */
export function rejectRows(
  pipeline: string,
  loadId: string,
  rejects: readonly Reject[],
  now = Date.now(),
): Row[] {
  const rows = new Map<string, Row>()
  for (const r of rejects) {
    const reason = redactor.redact(r.reason)
    const raw = redactor.redact(r.raw)
    // An unusable id is whatever the API sent, so it may echo a secret as well.
    const recordId = r.recordId === null ? null : redactor.redact(r.recordId)
    const key = createHash('sha256')
      .update(JSON.stringify([r.resource, recordId, reason, raw]))
      .digest('hex')
    rows.set(key, {
      load_id: loadId,
      resource: r.resource,
      record_id: recordId,
      reason,
      raw_json: raw,
      rejected_at: now,
      pipeline,
      reject_key: key,
      last_load_id: loadId,
    })
  }
  return [...rows.values()]
}

/** How a session writes names into the read statements of `SYSTEM_READS`. */
export interface SqlNames {
  /** A table of the dataset, qualified and quoted. */
  readonly table: (name: string) => string
  /** One identifier, quoted (the destination's `escapeIdentifier`). */
  readonly ident: (name: string) => string
}

const limitText = (limit: number): string => {
  if (!Number.isSafeInteger(limit) || limit < 0)
    throw new RangeError(`limit must be a non-negative integer, got ${limit}`)
  return String(limit)
}

/**
 * The statements behind the session's typed reads, the same SQL on every SQL destination
 * (parameters are `$1`, `$2`, which Postgres and DuckDB both bind). Their rows go through the
 * `*FromRow` functions below.
 */
export const SYSTEM_READS = {
  /** Whether a table exists: `$1` the dataset, `$2` the table. */
  tableExists: `SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = $1 AND table_name = $2`,
  /** The columns of a table: `$1` the dataset, `$2` the table. */
  columns: `SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2`,
  keys: (n: SqlNames, table: TableSchema): string =>
    `SELECT ${n.ident(table.primaryKey)} AS id FROM ${n.table(table.name)}`,
  /** `$1` the pipeline. */
  loads: (n: SqlNames, limit: number): string =>
    `SELECT * FROM ${n.table(LOADS_TABLE.name)} WHERE pipeline = $1 ORDER BY started_at DESC LIMIT ${limitText(limit)}`,
  countRows: (n: SqlNames, table: TableSchema): string => {
    const soft = table.columns.some((c) => c.name === '_thena_deleted_at')
    return `SELECT count(*) AS n, ${soft ? 'count(_thena_deleted_at)' : '0'} AS deleted FROM ${n.table(table.name)}`
  },
  legacyRejects: (n: SqlNames): string =>
    `SELECT resource, count(*) AS n FROM ${n.table(REJECTS_TABLE.name)} GROUP BY resource`,
  /** `$1` the pipeline, `$2` the resource; `root` is the resource's root table when it has one. */
  openRejects: (n: SqlNames, root: TableSchema | undefined): string => {
    const fixed = root
      ? `AND NOT EXISTS (SELECT 1 FROM ${n.table(root.name)} AS r JOIN ${n.table(LOADS_TABLE.name)} AS lr ON lr.load_id = r._thena_load_id
           WHERE CAST(r.${n.ident(root.primaryKey)} AS TEXT) = j.record_id AND lr.started_at > lj.started_at)`
      : ''
    return `SELECT count(*) AS n FROM (
         SELECT DISTINCT j.record_id, j.reason, j.raw_json
         FROM ${n.table(REJECTS_TABLE.name)} AS j LEFT JOIN ${n.table(LOADS_TABLE.name)} AS lj ON lj.load_id = j.last_load_id
         WHERE j.pipeline = $1 AND j.resource = $2 ${fixed}
       ) AS open_rejects`
  },
  /** With `byResource`, `$1` is the resource. */
  schemaHistory: (n: SqlNames, byResource: boolean): string =>
    `SELECT * FROM ${n.table(SCHEMA_HISTORY_TABLE.name)}${byResource ? ' WHERE resource = $1' : ''} ORDER BY ordinal`,
  /** `$1` the dataset: the views that exist in it. */
  views: `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_type = 'VIEW'`,
  /** `$1` the pipeline. */
  viewRecords: (n: SqlNames): string =>
    `SELECT * FROM ${n.table(VIEWS_TABLE.name)} WHERE pipeline = $1 ORDER BY name`,
  schemaChanges: (n: SqlNames, limit: number): string =>
    `SELECT event, table_name, count(*) AS columns, max(load_id) AS load_id, max(recorded_at) AS recorded_at
       FROM ${n.table(SCHEMA_HISTORY_TABLE.name)} GROUP BY event, table_name ORDER BY max(ordinal) DESC LIMIT ${limitText(limit)}`,
} as const

/**
 * A timestamp as a database prints it, `2024-01-02 03:04:05.12+00` (DuckDB in the local time
 * zone, `+01` or `+05:30`), or epoch ms; null for NULL.
 */
export function parseTimestamp(value: unknown): Date | null {
  if (value === null || value === undefined) return null
  if (value instanceof Date) return value
  if (typeof value === 'number') return new Date(value)
  const iso = String(value)
    .replace(' ', 'T')
    .replace(/([+-]\d\d)$/, '$1:00')
  const ms = Date.parse(iso)
  if (Number.isNaN(ms)) throw new RangeError(`not a timestamp: ${String(value).slice(0, 40)}`)
  return new Date(ms)
}

/**
 * A timestamp in UTC as Postgres and DuckDB print one: `2024-01-02 03:04:05.12+00`, trailing
 * zeros of the fraction dropped, no fraction for a whole second.
 */
export function timestampText(date: Date): string {
  const iso = date.toISOString()
  const fraction = iso.slice(20, 23).replace(/0+$/, '')
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${fraction ? `.${fraction}` : ''}+00`
}

const count = (value: unknown): number | null => (value == null ? null : Number(value))

/** A `_thena_loads` row as the session reads it back. */
export function storedLoadFromRow(row: Record<string, unknown>): StoredLoad {
  const finishedAt = parseTimestamp(row.finished_at)
  const details = row.details == null ? undefined : parseJson(row.details)
  return {
    loadId: String(row.load_id),
    pipeline: String(row.pipeline),
    command: String(row.command),
    status: String(row.status) as LoadStatus,
    startedAt: parseTimestamp(row.started_at)!,
    ...(finishedAt && { finishedAt }),
    heartbeatAt: parseTimestamp(row.heartbeat_at),
    records: count(row.records) ?? 0,
    rejects: count(row.rejects) ?? 0,
    requests: count(row.requests) ?? 0,
    retries: count(row.retries) ?? 0,
    rateLimited: count(row.rate_limited) ?? 0,
    unchanged: count(row.unchanged),
    ...(row.error != null && { error: String(row.error) }),
    ...(details !== undefined && { details: details as Record<string, unknown> }),
  }
}

/** A `_thena_schema_history` row as the session reads it back. */
export const historyEntryFromRow = (row: Record<string, unknown>): SchemaHistoryEntry => ({
  ordinal: Number(row.ordinal),
  event: String(row.event),
  table: String(row.table_name),
  column: String(row.column_name),
  columnType: String(row.column_type),
  sourcePath: (parseJson(row.source_path) as string[] | null) ?? [],
  variantOf: row.variant_of == null ? null : String(row.variant_of),
  loadId: String(row.load_id),
  recordedAt: parseTimestamp(row.recorded_at)!,
})

/** A row of `SYSTEM_READS.schemaChanges`. */
export const schemaChangeFromRow = (row: Record<string, unknown>): SchemaChangeSummary => ({
  event: String(row.event),
  table: String(row.table_name),
  columns: Number(row.columns),
  loadId: String(row.load_id),
  recordedAt: parseTimestamp(row.recorded_at)!,
})

/** Runs one SQL statement with `$n` parameters and returns its rows (a session's own runner). */
export type SqlReader = (
  sql: string,
  params?: readonly (string | number)[],
) => Promise<Record<string, unknown>[]>

/** The session reads that the system tables answer, identical on every SQL destination. */
export type SystemReads = Pick<
  DestinationSession,
  | 'readKeys'
  | 'readLoads'
  | 'countRows'
  | 'countOpenRejects'
  | 'readSchemaHistory'
  | 'readSchemaChanges'
  | 'readViews'
>

/**
 * The typed reads of `DestinationSession` for a SQL destination, written once: `read` runs the
 * statements on the session's connection, `names` quotes as the destination does.
 */
export function sqlSystemReads(read: SqlReader, names: SqlNames, dataset: string): SystemReads {
  const exists = async (table: string) =>
    Number((await read(SYSTEM_READS.tableExists, [dataset, table]))[0]?.n ?? 0) > 0
  return {
    readKeys: async (table) => {
      const keys = new Set<string>()
      if (!(await exists(table.name))) return keys
      for (const row of await read(SYSTEM_READS.keys(names, table))) keys.add(String(row.id))
      return keys
    },
    readLoads: async (pipeline, limit) =>
      (await read(SYSTEM_READS.loads(names, limit), [pipeline])).map(storedLoadFromRow),
    countRows: async (table) => {
      const [row] = await read(SYSTEM_READS.countRows(names, table))
      return { rows: Number(row?.n ?? 0), softDeleted: Number(row?.deleted ?? 0) }
    },
    countOpenRejects: async (pipeline, resources) => {
      const columns = (await read(SYSTEM_READS.columns, [dataset, REJECTS_TABLE.name])).map(
        (r) => r.column_name,
      )
      const out = new Map<string, number>()
      // A warehouse not yet migrated (opened read-only, `prepare` never ran on it).
      if (!columns.includes('last_load_id') || !columns.includes('pipeline')) {
        for (const r of await read(SYSTEM_READS.legacyRejects(names)))
          out.set(String(r.resource), Number(r.n))
        return out
      }
      const tables = tablesFromHistory(await read(SYSTEM_READS.schemaHistory(names, false)))
      for (const resource of resources) {
        const root = tables.find(
          (table) => table.resource === resource && !table.parent && !table.historyOf,
        )
        const [row] = await read(SYSTEM_READS.openRejects(names, root), [pipeline, resource])
        out.set(resource, Number(row?.n ?? 0))
      }
      return out
    },
    readSchemaHistory: async (resource) =>
      (
        await read(
          SYSTEM_READS.schemaHistory(names, resource !== undefined),
          resource === undefined ? [] : [resource],
        )
      ).map(historyEntryFromRow),
    readSchemaChanges: async (limit) =>
      (await read(SYSTEM_READS.schemaChanges(names, limit))).map(schemaChangeFromRow),
    readViews: async (pipeline) => {
      const existing = new Set((await read(SYSTEM_READS.views, [dataset])).map((r) => r.table_name))
      // A warehouse from before views (opened read-only, `prepare` never ran on it).
      if (!(await exists(VIEWS_TABLE.name))) return []
      return (await read(SYSTEM_READS.viewRecords(names), [pipeline])).map((row) => ({
        ...viewRecordFromRow(row),
        exists: existing.has(row.name),
      }))
    },
  }
}
