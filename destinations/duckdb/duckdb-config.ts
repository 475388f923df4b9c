/** Settings of the DuckDB destination. */
export interface DuckDbConfig {
  /** Database file; created when missing. `:memory:` for a throwaway database. */
  readonly path: string
  /** Schema (dataset) every table lands in. Default `thena`. */
  readonly schema?: string
  /**
   * DuckDB buffer-pool limit of a load, in DuckDB's size syntax (`512MB`, `2GB`). Default
   * {@link DUCKDB_DEFAULT_MEMORY_LIMIT}; beyond it DuckDB spills to `tempDirectory`. Readers
   * (`query`, `status`, `schema`) are not bounded by it. Below 64MB a checkpoint can fail.
   */
  readonly memoryLimit?: string
  /** Where DuckDB spills beyond the memory limit. Default `<path>.tmp`, next to the file. */
  readonly tempDirectory?: string
}

/** Catalog name the database file is attached under (see docs/decisions.md #2). */
export const DUCKDB_CATALOG = 'warehouse'

/** Memory limit of a load when none is configured (docs/decisions.md #30). */
export const DUCKDB_DEFAULT_MEMORY_LIMIT = '256MB'
