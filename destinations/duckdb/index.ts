export { DuckDbDestination, DUCKDB_CAPABILITIES } from './duckdb-destination.js'
export type { DuckDbConfig } from './duckdb-config.js'
