/** Settings of the Postgres destination. */
export interface PostgresConfig {
  /** Connection URL, `postgres://user:password@host:port/database`; the password is never printed. */
  readonly url: string
  /** Schema (dataset) every table lands in; created when missing. Default `thena`. */
  readonly schema?: string
  /** `application_name` the connection shows in `pg_stat_activity`. Default `thena-sync`. */
  readonly applicationName?: string
}
