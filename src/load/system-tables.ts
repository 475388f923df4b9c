import { createHash } from 'node:crypto'
import type { Reject } from '../normalize/normalizer.js'
import type {
  ColumnSchema,
  ColumnType,
  Row,
  SchemaChange,
  TableSchema,
} from '../normalize/table-schema.js'
import type { LoadRecord } from './destination.js'
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

export const SYSTEM_TABLES: readonly SystemTable[] = [
  LOADS_TABLE,
  STATE_TABLE,
  SCHEMA_HISTORY_TABLE,
  REJECTS_TABLE,
]

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
