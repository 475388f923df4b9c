import type { ColumnSchema, TableSchema } from '../normalize/table-schema.js'

/**
 * What `writeHistory` stages of every row first: the key, the content hash and the deletion
 * time. Only the rows the `changed` statement returns are staged whole: a batch of records
 * re-read unchanged stages three narrow columns.
 */
export const keyStageColumns = (history: TableSchema): ColumnSchema[] => [
  history.columns.find((c) => c.name === history.primaryKey)!,
  { name: '_thena_content_hash', type: 'text', path: [] },
  { name: '_thena_deleted_at', type: 'timestamp', path: [] },
]

/** How a session names the tables of one `writeHistory`: qualified, quoted, as its SQL takes them. */
export interface HistoryNames {
  /** The history table. */
  readonly history: string
  /** Its root table. */
  readonly root: string
  /** The session's staging table of the batch's keys (KEY_STAGE_COLUMNS of the history). */
  readonly keys: string
  /** The session's staging table of the versions to write (the history's columns). */
  readonly stage: string
  /** One identifier, quoted (the destination's `escapeIdentifier`). */
  readonly ident: (name: string) => string
}

/**
 * The set-based statements of `writeHistory`, the same SQL on DuckDB and Postgres (each stages
 * rows its own way: an appender, COPY). Stage the keys, select the `changed` ones, stage their
 * rows whole, then settle, close and open, in the transaction of the batch: idempotent, as a
 * replayed batch has no changed key.
 */
export function historyStatements(history: TableSchema, n: HistoryNames) {
  const key = n.ident(history.primaryKey)
  const columns = history.columns.map((c) => n.ident(c.name)).join(', ')
  return {
    /**
     * The keys (`k`, as the column holds them: the session compares `String(k)` with the rows'
     * keys, as `merge` does; a cast to text in SQL spells a DOUBLE `3` as `3.0` on DuckDB) with
     * something to write: a live record whose content is not its current version's, or a
     * deleted one that still has a current version.
     */
    changed: `SELECT s.${key} AS k FROM ${n.keys} AS s
      WHERE CASE WHEN s._thena_deleted_at IS NULL
        THEN NOT EXISTS (SELECT 1 FROM ${n.history} AS h WHERE h.${key} = s.${key}
          AND h._thena_is_current AND h._thena_content_hash = s._thena_content_hash)
        ELSE EXISTS (SELECT 1 FROM ${n.history} AS h WHERE h.${key} = s.${key} AND h._thena_is_current)
      END`,
    /**
     * Each new version's start: the record's update time when it has one that is after every
     * earlier version of the key and not after the run saw it, else the time the run saw it
     * (never before the end of the key's last version).
     */
    settleValidFrom: `UPDATE ${n.stage} AS s SET _thena_valid_from = CASE
        WHEN s._thena_valid_from IS NOT NULL AND s._thena_valid_from <= s._thena_synced_at
          AND (b.bound IS NULL OR s._thena_valid_from > b.bound) THEN s._thena_valid_from
        WHEN b.bound IS NULL OR s._thena_synced_at > b.bound THEN s._thena_synced_at
        ELSE b.bound END
      FROM (SELECT s2.${key} AS k, max(coalesce(h._thena_valid_to, h._thena_valid_from)) AS bound
            FROM ${n.stage} AS s2 LEFT JOIN ${n.history} AS h ON h.${key} = s2.${key}
            GROUP BY s2.${key}) AS b
      WHERE b.k = s.${key}`,
    /** The current versions of the staged keys end: where the new one begins, or at the deletion. */
    closeCurrent: `UPDATE ${n.history} AS h SET
        _thena_valid_to = CASE WHEN s._thena_deleted_at IS NULL THEN s._thena_valid_from
          ELSE greatest(s._thena_deleted_at, h._thena_valid_from) END,
        _thena_is_current = false
      FROM ${n.stage} AS s WHERE h.${key} = s.${key} AND h._thena_is_current`,
    /** The new versions; a record deleted in the source opens none. */
    openNew: `INSERT INTO ${n.history} (${columns})
      SELECT ${columns} FROM ${n.stage} WHERE _thena_deleted_at IS NULL`,
    /** Without rows (after a reconcile): every soft-deleted record's current version ends. */
    closeDeleted: `UPDATE ${n.history} AS h SET
        _thena_valid_to = greatest(r._thena_deleted_at, h._thena_valid_from),
        _thena_is_current = false
      FROM ${n.root} AS r
      WHERE r.${key} = h.${key} AND h._thena_is_current AND r._thena_deleted_at IS NOT NULL`,
  }
}
