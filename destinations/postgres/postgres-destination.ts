import pg from 'pg'
import { TerminalError } from '../../src/errors.js'
import type {
  ConnectOptions,
  Destination,
  DestinationCapabilities,
  DestinationSession,
} from '../../src/load/destination.js'
import type { PostgresConfig } from './postgres-config.js'
import { PostgresSession, toThenaSyncError } from './postgres-session.js'
import { POSTGRES_TYPE_NAMES } from './postgres-type-mapper.js'

export const POSTGRES_CAPABILITIES: DestinationCapabilities = {
  // NAMEDATALEN - 1: Postgres silently truncates longer names, so they are shortened first.
  maxIdentifierLength: 63,
  typeNames: POSTGRES_TYPE_NAMES,
  transactionalDdl: true,
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

/** A Postgres database; everything lands in one schema. Selected by a `postgres://` URL. */
export class PostgresDestination implements Destination {
  readonly name = 'postgres'
  readonly capabilities = POSTGRES_CAPABILITIES
  readonly #config: Required<PostgresConfig>
  readonly #url: URL

  constructor(config: PostgresConfig) {
    this.#config = { schema: 'thena', applicationName: 'thena-sync', ...config }
    this.#url = new URL(config.url)
  }

  /** The URL without its password. */
  get description(): string {
    const url = new URL(this.#url)
    url.password = ''
    return url.toString()
  }

  /** `host:port`, for messages. */
  get #where(): string {
    return `${this.#url.hostname}:${this.#url.port || '5432'}`
  }

  async #open(readOnly: boolean): Promise<pg.Client> {
    const client = new pg.Client({
      connectionString: this.#config.url,
      application_name: this.#config.applicationName,
      connectionTimeoutMillis: 15_000,
      types: typeParsers,
    })
    // Without a listener, a server-side disconnect while idle would crash the process; the
    // session notices the broken connection on its next statement instead.
    client.on('error', () => undefined)
    try {
      await client.connect()
      await client.query(`SET TIME ZONE 'UTC'`)
      if (readOnly) await client.query('SET default_transaction_read_only = on')
    } catch (error) {
      await client.end().catch(() => undefined)
      throw toThenaSyncError(error, 'connect', this.#where)
    }
    return client
  }

  async connect(options: ConnectOptions = {}): Promise<DestinationSession> {
    const readOnly = options.readOnly ?? false
    const client = await this.#open(readOnly)
    if (readOnly) {
      const { rows } = await client.query<{ found: string | null }>(
        'SELECT to_regclass($1) AS found',
        [`"${this.#config.schema.replace(/"/g, '""')}"._thena_loads`],
      )
      if (rows[0]?.found == null) {
        await client.end()
        throw new TerminalError(
          'warehouse_missing',
          `no warehouse at ${this.description} (schema ${this.#config.schema}) yet: run \`thena-sync run\` first`,
        )
      }
    }
    return new PostgresSession(client, () => this.#open(readOnly), this.#config.schema, this.#where)
  }
}
