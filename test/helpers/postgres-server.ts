/**
 * A throwaway Postgres server for tests and benchmarks: binaries found on the machine, a fresh
 * data directory, a random free port, password auth over TCP, removed on `stop()`.
 * `initdb` refuses root, so as root every server command runs as the `postgres` user.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { processTreeCpuSeconds } from './process-cpu.js'

/** A running throwaway server. */
export interface PostgresServer {
  /** Superuser URL with its password, database `postgres`. */
  readonly url: string
  readonly host: string
  readonly port: number
  readonly password: string
  /** Directory of the server binaries (pg_dump, psql, ...). */
  readonly binDir: string
  /** CPU seconds (user + system) the server and its backends have used so far (Linux). */
  cpuSeconds(): number
  stop(): Promise<void>
}

/** Directory of the newest installed server binaries, or a clear error saying how to get them. */
export function findPostgresBinDir(): string {
  const root = '/usr/lib/postgresql'
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : []
  if (versions[0]) return join(root, versions[0], 'bin')
  const onPath = spawnSync('pg_config', ['--bindir'], { encoding: 'utf8' })
  if (onPath.status === 0 && existsSync(join(onPath.stdout.trim(), 'initdb')))
    return onPath.stdout.trim()
  throw new Error(
    'Postgres server binaries not found: install them (`apt-get install -y postgresql`); .ci/run does this itself',
  )
}

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

const asRoot = process.getuid?.() === 0

/** Runs a server binary, as the `postgres` user when we are root. */
function runAsServerUser(bin: string, args: readonly string[]): void {
  const [cmd, argv] = asRoot
    ? ['runuser', ['-u', 'postgres', '--', bin, ...args]]
    : [bin, [...args]]
  execFileSync(cmd, argv, { stdio: ['ignore', 'ignore', 'pipe'] })
}

export async function startPostgres(): Promise<PostgresServer> {
  const binDir = findPostgresBinDir()
  const dir = mkdtempSync(join(tmpdir(), 'thena-sync-pg-'))
  const password = randomBytes(12).toString('hex')
  const pwfile = join(dir, 'pw')
  writeFileSync(pwfile, password)
  chmodSync(pwfile, 0o600)
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim())
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim())
    chownSync(dir, uid, gid)
    chownSync(pwfile, uid, gid)
  }
  const data = join(dir, 'data')
  runAsServerUser(join(binDir, 'initdb'), [
    '-D',
    data,
    '-U',
    'postgres',
    '--auth-local=trust',
    '--auth-host=scram-sha-256',
    `--pwfile=${pwfile}`,
    '-E',
    'UTF8',
    '--locale=C',
  ])
  rmSync(pwfile)
  const port = await freePort()
  // Durability is pointless for a throwaway server; turning it off makes the tests faster.
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off`
  runAsServerUser(join(binDir, 'pg_ctl'), [
    '-D',
    data,
    '-l',
    join(dir, 'server.log'),
    '-o',
    options,
    '-w',
    'start',
  ])
  const url = `postgres://postgres:${password}@127.0.0.1:${port}/postgres`
  const postmaster = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0])
  return {
    url,
    host: '127.0.0.1',
    port,
    password,
    binDir,
    cpuSeconds: () => processTreeCpuSeconds(postmaster),
    async stop() {
      try {
        runAsServerUser(join(binDir, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop'])
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    },
  }
}

/** A new, empty database on the server; returns its URL. Each test gets its own. */
export async function createDatabase(serverUrl: string): Promise<string> {
  const name = `t_${randomBytes(6).toString('hex')}`
  const client = new pg.Client({ connectionString: serverUrl })
  await client.connect()
  try {
    await client.query(`CREATE DATABASE ${name}`)
  } finally {
    await client.end()
  }
  const url = new URL(serverUrl)
  url.pathname = `/${name}`
  return url.toString()
}
