/** Settings of the DuckDB destination. */
export interface DuckDbConfig {
  /** Database file; created when missing. `:memory:` for a throwaway database. */
  readonly path: string
  /** Schema (dataset) every table lands in. Default `thena`. */
  readonly schema?: string
  /** DuckDB buffer-pool limit (DuckDB size syntax). Default `64MB`: the file is the store, and
   * DuckDB spills to `<path>.tmp` beyond it. Below 64MB a checkpoint can fail. */
  readonly memoryLimit?: string
}

/** Catalog name the database file is attached under (see docs/decisions.md #2). */
export const DUCKDB_CATALOG = 'warehouse'
