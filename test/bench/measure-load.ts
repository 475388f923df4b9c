/** Pieces the load benchmarks share: a measured run in its own process, and the truth as NDJSON. */
import { spawnSync } from 'node:child_process'
import { createWriteStream } from 'node:fs'
import { once } from 'node:events'
import { request } from 'undici'
import type { SpawnedSimulator } from '../helpers/spawn-simulator.js'

const LOAD_CHILD = new URL('./load-child.ts', import.meta.url).pathname

/** Figures of one measured run. */
export interface Measured {
  /** Requests merged. */
  requests: number
  /** Requests re-read on pages unchanged since they were loaded, so not merged. */
  unchanged?: number
  records: number
  seconds: number
  /** CPU seconds of the loading process (user + system) while the clock ran. */
  cpuSeconds: number
  /** CPU seconds the loading process spent before the clock started: Node, tsx, the modules. */
  startupCpuSeconds: number
  /** CPU seconds the simulator spent serving the run. */
  simulatorCpuSeconds: number
  peakRssMb: number
}

/** Loads the simulator's requests into `destination` in a fresh process; its figures. */
export function measureLoad(sim: SpawnedSimulator, destination: string): Measured {
  const simulatorBefore = sim.cpuSeconds()
  const run = spawnSync(
    process.execPath,
    ['--import', 'tsx', LOAD_CHILD, sim.url, sim.token, destination],
    { encoding: 'utf8' },
  )
  if (run.status !== 0) throw new Error(`bench child failed: ${run.stderr}`)
  const figures = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as Omit<
    Measured,
    'simulatorCpuSeconds'
  >
  return { ...figures, simulatorCpuSeconds: sim.cpuSeconds() - simulatorBefore }
}

/**
 * The ceiling of any load through this HTTP engine: the same walk with the pages decoded and
 * parsed, and nothing else (no validation, normalization or load).
 */
export const measureFetchOnly = (sim: SpawnedSimulator): Measured => measureLoad(sim, 'fetch-only')

/**
 * The line that says where the CPU went, against what the cores offer in the wall time;
 * `serverCpuSeconds` is the database server's share, when it is a process of its own.
 */
export function cpuLine(m: Measured, cores: number, serverCpuSeconds?: number): string {
  const parts = [
    `${m.cpuSeconds.toFixed(1)} s in the loader (+${m.startupCpuSeconds.toFixed(1)} s starting up, before the clock)`,
    `${m.simulatorCpuSeconds.toFixed(1)} s in the simulator`,
  ]
  let total = m.cpuSeconds + m.simulatorCpuSeconds
  if (serverCpuSeconds !== undefined) {
    parts.push(`${serverCpuSeconds.toFixed(1)} s in the Postgres server`)
    total += serverCpuSeconds
  }
  return (
    `CPU ${parts.join(' + ')}${serverCpuSeconds === undefined ? '' : ` = ${total.toFixed(1)} s`}, ` +
    `of ${(cores * m.seconds).toFixed(1)} s that ${cores} cores offer in ${m.seconds.toFixed(2)} s`
  )
}

/** Writes the simulator's current requests, one JSON object per line, to `file`. */
export async function writeTruthNdjson(sim: SpawnedSimulator, file: string): Promise<void> {
  const truth = await request(`${sim.url}/__admin/truth?resource=requests`, {
    headers: { authorization: `Bearer ${sim.adminToken}` },
  })
  const out = createWriteStream(file)
  for await (const chunk of truth.body) if (!out.write(chunk)) await once(out, 'drain')
  await new Promise<void>((resolve, reject) =>
    out.end((error?: Error | null) => (error ? reject(error) : resolve())),
  )
}
