import { TerminalError } from '../../src/errors.js'
import { escapeSqlIdentifier } from '../../src/load/destination.js'
import type {
  ConnectOptions,
  DbtTarget,
  Destination,
  DestinationCapabilities,
  DestinationSession,
} from '../../src/load/destination.js'
import { LOADS_TABLE } from '../../src/load/system-tables.js'
import type { PostgresConfig } from './postgres-config.js'
import type * as SessionModuleNamespace from './postgres-session.js'
import { POSTGRES_TYPE_NAMES } from './postgres-type-mapper.js'

export const POSTGRES_CAPABILITIES: DestinationCapabilities = {
  // NAMEDATALEN - 1: Postgres silently truncates longer names, so they are shortened first.
  maxIdentifierLength: 63,
  typeNames: POSTGRES_TYPE_NAMES,
  escapeIdentifier: escapeSqlIdentifier,
  jsonText: (expr) => `(${expr} #>> '{}')`,
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

  /**
   * `postgres://USER@HOST:PORT/DATABASE`: never the password, and no query parameter (one of
   * them may be `password=`).
   */
  get description(): string {
    const user = this.#url.username ? `${this.#url.username}@` : ''
    return `postgres://${user}${this.#where}${this.#url.pathname}`
  }

  /** dbt-postgres connects to the URL's database; the password stays in the user's environment. */
  get dbtTarget(): DbtTarget {
    const params = this.#url.searchParams
    const user = params.get('user') ?? decodeURIComponent(this.#url.username)
    return {
      adapter: 'postgres',
      profile: [
        'type: postgres',
        `host: ${params.get('host') ?? this.#url.hostname}`,
        `port: ${params.get('port') ?? (this.#url.port || '5432')}`,
        ...(user ? [`user: ${user}`] : []),
        // No database in the URL: pg connects to the user's.
        `dbname: ${decodeURIComponent(this.#url.pathname.slice(1)) || user}`,
        'password: "{{ env_var(\'PGPASSWORD\') }}"',
      ],
    }
  }

  /** `host:port` as pg connects to it (a `host` or `port` parameter wins over the URL's). */
  get #where(): string {
    const params = this.#url.searchParams
    return `${params.get('host') ?? this.#url.hostname}:${params.get('port') ?? (this.#url.port || '5432')}`
  }

  async #open(readOnly: boolean, maxLockWaitMs = 0): Promise<PostgresClient> {
    const session = await loadSession()
    return session.openClient(
      {
        ...(maxLockWaitMs > 0 && { lock_timeout: maxLockWaitMs }),
        // The URL as parsed here, so that pg connects exactly where messages say it does.
        connectionString: this.#url.href,
        application_name: this.#config.applicationName,
        connectionTimeoutMillis: 15_000,
      },
      readOnly,
      this.#where,
    )
  }

  async connect(options: ConnectOptions = {}): Promise<DestinationSession> {
    const readOnly = options.readOnly ?? false
    const client = await this.#open(readOnly, options.maxLockWaitMs)
    // The warehouse is the schema's system tables (the database always exists): reading, or
    // a run's first connect before its key is checked, creates nothing.
    if (readOnly || options.create === false) {
      const { rows } = await client.query<{ found: string | null }>(
        'SELECT to_regclass($1) AS found',
        [`${this.capabilities.escapeIdentifier(this.#config.schema)}.${LOADS_TABLE.name}`],
      )
      if (rows[0]?.found == null) {
        await client.end()
        throw new TerminalError(
          'warehouse_missing',
          `no warehouse at ${this.description} (schema ${this.#config.schema}) yet: run \`thena-sync run\` first`,
        )
      }
    }
    const { PostgresSession } = await loadSession()
    return new PostgresSession(
      client,
      () => this.#open(readOnly, options.maxLockWaitMs),
      this.#config.schema,
      this.#where,
      readOnly,
      options.stop,
    )
  }
}

type PostgresClient = Awaited<ReturnType<SessionModule['openClient']>>
type SessionModule = typeof SessionModuleNamespace

// Loaded on first use: pg and Kysely cost ~35 MB that DuckDB users should not pay.
const loadSession = (): Promise<SessionModule> => import('./postgres-session.js')
