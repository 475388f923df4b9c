export { PostgresDestination, POSTGRES_CAPABILITIES } from './postgres-destination.js'
export type { PostgresConfig } from './postgres-config.js'
