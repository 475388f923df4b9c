import { existsSync, realpathSync } from 'node:fs'
import { basename, dirname, join, resolve } from 'node:path'
import { TerminalError, TransientError } from '../../src/errors.js'
import { escapeSqlIdentifier } from '../../src/load/destination.js'
import type {
  ConnectOptions,
  DbtTarget,
  Destination,
  DestinationCapabilities,
  DestinationSession,
} from '../../src/load/destination.js'
import type { DuckDbConfig } from './duckdb-config.js'
import { DUCKDB_CATALOG, DUCKDB_DEFAULT_MEMORY_LIMIT } from './duckdb-config.js'
import { DUCKDB_TYPE_NAMES } from './duckdb-type-mapper.js'

export const DUCKDB_CAPABILITIES: DestinationCapabilities = {
  // DuckDB has no practical limit; names stay readable up to this and are hashed beyond it.
  maxIdentifierLength: 120,
  typeNames: DUCKDB_TYPE_NAMES,
  escapeIdentifier: escapeSqlIdentifier,
  jsonText: (expr) => `json_extract_string(${expr}, '$')`,
}

/**
 * The session queue of each file this process has open, by absolute path: the promise that
 * settles when the last session in line has closed. DuckDB keeps other processes out of an
 * open file, but two instances in one process would both write it and corrupt it, so a file is
 * open at most once per process. The queue is read and extended synchronously, before any
 * `await`, so two callers in the same tick cannot both take the file.
 */
const FILE_QUEUES = new Map<string, Promise<void>>()

/** How long a writer retries a file another process has open (a reader's moment), in ms. */
const READER_GRACE_MS = 3_000

/** Pause between those tries, in ms. */
const READER_RETRY_MS = 50

/** The embedded default: one DuckDB file, opened only while a command needs it. */
export class DuckDbDestination implements Destination {
  readonly name = 'duckdb'
  readonly capabilities = DUCKDB_CAPABILITIES
  readonly #config: DuckDbConfig & { readonly schema: string; readonly memoryLimit: string }

  constructor(config: DuckDbConfig) {
    this.#config = {
      ...config,
      schema: config.schema ?? 'thena',
      memoryLimit: config.memoryLimit ?? DUCKDB_DEFAULT_MEMORY_LIMIT,
    }
  }

  get description(): string {
    return `duckdb:${this.#config.path}`
  }

  /** dbt-duckdb opens the file by its absolute path and names its catalog after the file's stem. */
  get dbtTarget(): DbtTarget {
    const inMemory = this.#config.path === ':memory:'
    const file = inMemory ? ':memory:' : resolve(this.#config.path)
    return {
      adapter: 'duckdb',
      database: inMemory ? 'memory' : basename(file).replace(/\.[^.]*$/, ''),
      profile: ['type: duckdb', `path: ${file}`],
    }
  }

  async connect(options: ConnectOptions = {}): Promise<DestinationSession> {
    if ((options.readOnly || options.create === false) && !existsSync(this.#config.path)) {
      throw new TerminalError(
        'warehouse_missing',
        `no warehouse at ${this.description} yet: run \`thena-sync run\` (or \`thena-sync demo\`) first`,
      )
    }
    const inMemory = this.#config.path === ':memory:'
    const file = resolve(this.#config.path)
    const release = inMemory ? () => undefined : await this.#turn(canonicalPath(file), options)
    try {
      return await this.#openPastReaders(file, options, release)
    } catch (error) {
      release()
      throw error
    }
  }

  /**
   * Opens the file; a writer that finds it held by readers of another process (`query`,
   * `status`, `show`: a moment each) tries again for up to `READER_GRACE_MS`, so that they never
   * fail a run that starts meanwhile. Held by a writer (a run), it is refused as busy at once.
   */
  async #openPastReaders(
    file: string,
    options: ConnectOptions,
    release: () => void,
  ): Promise<DestinationSession> {
    const until = Date.now() + (options.readOnly ? 0 : READER_GRACE_MS)
    for (;;) {
      try {
        return await this.#open(file, options, release)
      } catch (error) {
        const busy = error instanceof TransientError && error.code === 'destination_busy'
        if (!busy || Date.now() >= until || options.signal?.aborted) throw error
        if (!(await this.#heldByReadersOnly(file))) throw error
        await new Promise((resolve) => setTimeout(resolve, READER_RETRY_MS))
      }
    }
  }

  async #open(
    file: string,
    options: ConnectOptions,
    release: () => void,
  ): Promise<DestinationSession> {
    // Loaded on first use: the native library costs ~60 MB that Postgres users and commands
    // that never open a DuckDB file (simulate) should not pay.
    const { DuckDBInstance } = await import('@duckdb/node-api')
    const { DuckDbSession } = await import('./duckdb-session.js')
    const instance = await DuckDBInstance.create(':memory:')
    const connection = await instance.connect()
    try {
      // The file is attached under a fixed catalog name: opened directly, `thena.duckdb` would
      // be a catalog called `thena` and `thena.requests` would be ambiguous with the schema.
      const mode = options.readOnly ? ' (READ_ONLY)' : ''
      await connection.run(`ATTACH ${quoteLiteral(this.#config.path)} AS ${DUCKDB_CATALOG}${mode}`)
      await connection.run(`USE ${DUCKDB_CATALOG}`)
      // Beyond the memory limit DuckDB spills here, as it does next to a file it opens itself.
      const temp =
        this.#config.tempDirectory ?? (this.#config.path === ':memory:' ? undefined : `${file}.tmp`)
      if (temp !== undefined) await connection.run(`SET temp_directory = ${quoteLiteral(temp)}`)
      // Only loads are bounded: a reader (query, status, schema) gets DuckDB's own default, so a
      // query over large rows never fails where plain DuckDB would answer.
      if (!options.readOnly) {
        await connection.run(`SET memory_limit = ${quoteLiteral(this.#config.memoryLimit)}`)
        // Fewer, larger checkpoints: at the default 16 MB a 100k-record load took 20% longer.
        await connection.run(`SET checkpoint_threshold = '256MB'`)
      } else {
        // A reader reaches nothing beyond the file attached above: no other file (COPY TO,
        // ATTACH, read_text), no extension, no network; and locked, so SQL cannot undo it.
        await connection.run('SET enable_external_access = false')
        await connection.run('SET lock_configuration = true')
      }
    } catch (error) {
      connection.closeSync()
      instance.closeSync()
      const message = error instanceof Error ? error.message : String(error)
      if (/\block\b/i.test(message)) throw this.#busy()
      throw new TransientError(
        'destination_unavailable',
        `cannot open ${this.description}: ${message.split('\n')[0]}`,
      )
    }
    return new DuckDbSession(
      instance,
      connection,
      this.#config.schema,
      release,
      options.readOnly === true,
    )
  }

  /**
   * Whether the processes that hold `file` only read it: then it opens read-only (DuckDB shares
   * a file among readers, and refuses even a reader while a writer has it).
   */
  async #heldByReadersOnly(file: string): Promise<boolean> {
    try {
      await (await this.#open(file, { readOnly: true }, () => undefined)).close()
      return true
    } catch {
      return false
    }
  }

  /**
   * Takes this process's turn on `file`: at once when no session of this process has it open;
   * otherwise busy, or (with `wait`) after the sessions ahead have closed. Resolves to the
   * function that gives the turn back.
   */
  async #turn(file: string, options: ConnectOptions): Promise<() => void> {
    const ahead = FILE_QUEUES.get(file)
    if (ahead && !options.wait) throw this.#busy()
    let release!: () => void
    const mine = new Promise<void>((resolve) => (release = resolve))
    const tail = (ahead ?? Promise.resolve()).then(() => mine)
    FILE_QUEUES.set(file, tail)
    const giveBack = () => {
      release()
      if (FILE_QUEUES.get(file) === tail) FILE_QUEUES.delete(file)
    }
    if (!ahead) return giveBack
    const signal = options.signal
    try {
      options.onQueued?.()
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => reject(signal!.reason)
        if (signal?.aborted) return onAbort()
        signal?.addEventListener('abort', onAbort, { once: true })
        void ahead.then(() => {
          signal?.removeEventListener('abort', onAbort)
          resolve()
        })
      })
    } catch (error) {
      // Those queued behind still wait for the sessions ahead, then pass straight through; if
      // none is, the queue ends with the sessions ahead again, which still hold the file.
      release()
      if (FILE_QUEUES.get(file) === tail) FILE_QUEUES.set(file, ahead)
      throw error
    }
    return giveBack
  }

  #busy(): TransientError {
    return new TransientError(
      'destination_busy',
      `${this.description} is in use by a run in progress: retry when it has finished (\`thena-sync status\` shows the last loads once it is free)`,
    )
  }
}

/**
 * One key per file, however it is named: through a symlink, or a directory that is one. A file
 * not created yet is named by its directory's real path.
 */
function canonicalPath(file: string): string {
  try {
    return realpathSync(file)
  } catch {
    try {
      return join(realpathSync(dirname(file)), basename(file))
    } catch {
      return file
    }
  }
}

const quoteLiteral = (text: string): string => `'${text.replace(/'/g, "''")}'`
