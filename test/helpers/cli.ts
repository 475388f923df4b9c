import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { BIN } from './spawn-simulator.js'

export interface CliResult {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
}

/** Runs `thena-sync ...args` as a user would (its own process, no TTY). */
export function startCli(
  args: readonly string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv },
): {
  child: ChildProcess
  done: Promise<CliResult>
} {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: options.cwd,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (d) => (stdout += String(d)))
  child.stderr!.on('data', (d) => (stderr += String(d)))
  const done = new Promise<CliResult>((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr })),
  )
  return { child, done }
}

export const runCli = (
  args: readonly string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv },
) => startCli(args, options).done

/** Resolves when a CLI run has committed its first batch (its first structured log line). */
export const firstCommit = (child: ChildProcess): Promise<void> =>
  new Promise<void>((resolve) => {
    const onData = (d: Buffer) => {
      if (String(d).includes('"event":"batch"')) {
        child.stderr!.off('data', onData)
        resolve()
      }
    }
    child.stderr!.on('data', onData)
    child.once('close', () => resolve())
  })

/**
 * Starts `thena-sync ...args` once per delay and kills it (SIGKILL) that many ms after its
 * first commit: a run dying at different moments. Returns each run's result, in order.
 */
export async function killAfterFirstCommit(
  args: readonly string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv },
  delays: readonly number[],
): Promise<CliResult[]> {
  const results: CliResult[] = []
  for (const delay of delays) {
    const { child, done } = startCli(args, options)
    await firstCommit(child)
    await new Promise((r) => setTimeout(r, delay))
    child.kill('SIGKILL')
    results.push(await done)
  }
  return results
}
