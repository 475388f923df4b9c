import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { TerminalError, TransientError } from '../../src/errors.js'
import type {
  ConnectOptions,
  Destination,
  DestinationCapabilities,
  DestinationSession,
} from '../../src/load/destination.js'
import type { DuckDbConfig } from './duckdb-config.js'
import { DUCKDB_CATALOG } from './duckdb-config.js'
import { DUCKDB_TYPE_NAMES } from './duckdb-type-mapper.js'

export const DUCKDB_CAPABILITIES: DestinationCapabilities = {
  // DuckDB has no practical limit; names stay readable up to this and are hashed beyond it.
  maxIdentifierLength: 120,
  typeNames: DUCKDB_TYPE_NAMES,
  transactionalDdl: true,
}

/**
 * Files this process has open. DuckDB keeps other processes out of an open file, but two
 * instances in one process could both write it: a second session on the same file is refused
 * as busy, like another process would be.
 */
const OPEN_FILES = new Set<string>()

/** The embedded default: one DuckDB file, opened only while a command needs it. */
export class DuckDbDestination implements Destination {
  readonly name = 'duckdb'
  readonly capabilities = DUCKDB_CAPABILITIES
  readonly #config: Required<DuckDbConfig>

  constructor(config: DuckDbConfig) {
    this.#config = { schema: 'thena', memoryLimit: '64MB', ...config }
  }

  get description(): string {
    return `duckdb:${this.#config.path}`
  }

  async connect(options: ConnectOptions = {}): Promise<DestinationSession> {
    if ((options.readOnly || options.create === false) && !existsSync(this.#config.path)) {
      throw new TerminalError(
        'warehouse_missing',
        `no warehouse at ${this.description} yet: run \`thena-sync run\` (or \`thena-sync demo\`) first`,
      )
    }
    // The file is attached under a fixed catalog name: opened directly, `thena.duckdb` would be
    // a catalog called `thena` and `thena.requests` would be ambiguous with the `thena` schema.
    const file = resolve(this.#config.path)
    if (OPEN_FILES.has(file)) throw this.#busy()
    // Loaded on first use: the native library costs ~60 MB that Postgres users and commands
    // that never open a DuckDB file (simulate) should not pay.
    const { DuckDBInstance } = await import('@duckdb/node-api')
    const { DuckDbSession } = await import('./duckdb-session.js')
    const instance = await DuckDBInstance.create(':memory:')
    const connection = await instance.connect()
    try {
      const mode = options.readOnly ? ' (READ_ONLY)' : ''
      await connection.run(`ATTACH ${quoteLiteral(this.#config.path)} AS ${DUCKDB_CATALOG}${mode}`)
      await connection.run(`USE ${DUCKDB_CATALOG}`)
      // Bounded buffer pool: the file is the store, so peak memory stays flat as data grows.
      // Beyond it DuckDB spills next to the file, as it does for a file it opens itself.
      if (this.#config.path !== ':memory:')
        await connection.run(`SET temp_directory = ${quoteLiteral(`${file}.tmp`)}`)
      await connection.run(`SET memory_limit = ${quoteLiteral(this.#config.memoryLimit)}`)
      // Fewer, larger checkpoints: at the default 16 MB a 100k-record load took 20% longer.
      await connection.run(`SET checkpoint_threshold = '256MB'`)
    } catch (error) {
      connection.closeSync()
      instance.closeSync()
      const message = error instanceof Error ? error.message : String(error)
      if (/\block\b/i.test(message)) throw this.#busy()
      throw new TransientError(
        'destination_unavailable',
        `cannot open ${this.description}: ${message}`,
      )
    }
    OPEN_FILES.add(file)
    return new DuckDbSession(instance, connection, this.#config.schema, () =>
      OPEN_FILES.delete(file),
    )
  }

  #busy(): TransientError {
    return new TransientError(
      'destination_busy',
      `${this.description} is in use by a run in progress: retry when it has finished (\`thena-sync status\` shows the last loads once it is free)`,
    )
  }
}

const quoteLiteral = (text: string): string => `'${text.replace(/'/g, "''")}'`
