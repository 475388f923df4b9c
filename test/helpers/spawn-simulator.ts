import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { processCpuSeconds } from './process-cpu.js'

export const BIN = fileURLToPath(new URL('../../src/cli/bin.js', import.meta.url))

/** A simulator running in its own process, as a user would start it. */
export interface SpawnedSimulator {
  readonly url: string
  readonly token: string
  readonly adminToken: string
  readonly child: ChildProcess
  /** Peak resident memory of the simulator process so far, in MB (Linux VmHWM). */
  peakRssMb(): number
  /** CPU seconds (user + system) the simulator process has used so far (Linux). */
  cpuSeconds(): number
  stop(): Promise<void>
}

export async function spawnSimulator(args: readonly string[]): Promise<SpawnedSimulator> {
  const child = spawn(process.execPath, [BIN, 'simulate', '--json', ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const lines = createInterface({ input: child.stdout! })
  const first = await new Promise<string>((resolve, reject) => {
    lines.once('line', resolve)
    child.once('exit', (code) => reject(new Error(`simulator exited with ${code}`)))
  })
  const info = JSON.parse(first) as { url: string; token: string; adminToken: string }
  return {
    ...info,
    child,
    peakRssMb() {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8')
      const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0)
      return kb / 1024
    },
    cpuSeconds: () => processCpuSeconds(child.pid!),
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve()
        child.once('exit', () => resolve())
        child.kill('SIGTERM')
      }),
  }
}
