/** CPU time of other processes, read from Linux's /proc: what the benchmarks account for. */
import { readFileSync, readdirSync } from 'node:fs'

/** Linux's USER_HZ: /proc reports CPU time in these ticks. */
const CLOCK_TICKS = 100

/** Fields of /proc/PID/stat after the parenthesised command name (field 3 is index 0). */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  } catch {
    return undefined // gone meanwhile
  }
}

/** CPU seconds (user + system) process `pid` has used so far; 0 once it is gone. */
export function processCpuSeconds(pid: number): number {
  const f = statFields(pid)
  return f ? (Number(f[11]) + Number(f[12])) / CLOCK_TICKS : 0
}

/**
 * CPU seconds of a server process and its workers: its own, that of the workers it has already
 * reaped (cutime, cstime), and that of the workers still running.
 */
export function processTreeCpuSeconds(pid: number): number {
  const f = statFields(pid)
  if (!f) return 0
  let ticks = Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    const child = statFields(Number(entry))
    if (child && Number(child[1]) === pid) ticks += Number(child[11]) + Number(child[12])
  }
  return ticks / CLOCK_TICKS
}
