import cron from 'node-cron'
import type { ResolvedPipeline } from '../config/resolve-pipeline.js'
import { jobsOf } from '../schedule/scheduler.js'

/** When `schedule` would next start each job of a pipeline (its `run` and `reconcile` crons). */
export interface NextRun {
  readonly mode: 'run' | 'reconcile'
  readonly cron: string
  readonly timezone: string
  /** Null when the expression never fires again (or is not one node-cron reads). */
  readonly at: Date | null
}

/**
 * The next start of each cron entry of `pipeline`'s schedule, as node-cron (which `schedule`
 * runs on) computes it; empty when no schedule is configured.
 */
export function nextRuns(pipeline: ResolvedPipeline): NextRun[] {
  return jobsOf(pipeline).map((job) => {
    const entry = { mode: job.mode, cron: job.cron, timezone: job.timezone }
    let task: ReturnType<typeof cron.createTask>
    try {
      // A task that is never started: it only answers when it would fire.
      task = cron.createTask(job.cron, () => undefined, { timezone: job.timezone })
    } catch {
      // `schedule` refuses such an expression at start; the dashboard still shows the rest.
      return { ...entry, at: null }
    }
    try {
      return { ...entry, at: task.getNextRun() }
    } finally {
      void task.destroy()
    }
  })
}
