import type { DestinationCapabilities } from '../load/destination.js'
import type { ColumnType } from '../normalize/table-schema.js'

/**
 * A table a view cannot be built without. When it is missing the view is not built, the run
 * goes on, and `status` shows the view as `skipped` with `hint` (e.g. a setting that makes
 * the table exist).
 */
export interface ViewRequirement {
  /** Table of the dataset, e.g. `requests_history`. */
  readonly table: string
  /** What makes the table exist, e.g. ``needs `resources.requests.history: true` ``. Default none. */
  readonly hint?: string
}

/**
 * A view kept in the pipeline's dataset, declared as data of its source (`views` of
 * `defineSource`): every successful run computes its SQL from the warehouse as it is, and
 * replaces the view only when that SQL changed (docs/decisions.md #65).
 */
export interface ViewDeclaration {
  /** View name in the dataset: snake_case, unique among the source's views and tables. */
  readonly name: string
  /** One sentence for people: what one row is. */
  readonly description: string
  /** Tables that must exist for the view to be built; default none. */
  readonly requires?: readonly ViewRequirement[]
  /**
   * The view's `SELECT`, written from `context` (the tables and columns that exist now, the
   * rows it needs to read, the destination's dialect). A throw marks the view `failed`.
   */
  readonly sql: (context: ViewContext) => string | Promise<string>
}

/** What a view's SQL is computed from: the warehouse now, and how to write SQL for it. */
export interface ViewContext {
  /** The pipeline's dataset (schema), e.g. `thena`. */
  readonly dataset: string
  /** The pipeline building the view. */
  readonly pipeline: string
  /** The destination's dialect as data: quoting, type names, JSON text. */
  readonly capabilities: DestinationCapabilities
  /** A table or view of the dataset, qualified and quoted: `"thena"."requests"`. */
  table(name: string): string
  /** One identifier, quoted. */
  ident(name: string): string
  /** A string literal: `'it''s'`. */
  literal(value: string): string
  /** Whether the dataset has this table now. */
  hasTable(name: string): boolean
  /** Whether the table has this column now (false when the table is missing). */
  hasColumn(table: string, column: string): boolean
  /** The table's columns now, in no particular order; empty when it is missing. */
  columns(table: string): readonly string[]
  /**
   * `alias."column"` when `table` has the column now, else `CAST(NULL AS type)`: a view does
   * not fail because a field has not appeared yet. `type` defaults to `text`.
   */
  column(alias: string, table: string, column: string, type?: ColumnType): string
  /** `CAST(expr AS type)` in the destination's type names. */
  cast(expr: string, type: ColumnType): string
  /** Rows of one `SELECT` on the warehouse (the custom field definitions, say). */
  rows(sql: string): Promise<readonly Record<string, unknown>[]>
}
