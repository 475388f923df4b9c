import cron from 'node-cron'
import type { ScheduledTask } from 'node-cron'
import type { ResolvedPipeline } from '../config/resolve-pipeline.js'
import { runPipeline } from '../pipeline/run-pipeline.js'
import type { RunMode, RunOptions, RunResult } from '../pipeline/run-pipeline.js'

/** One cron entry: a pipeline, what to run, and when. */
export interface ScheduledJob {
  readonly pipeline: ResolvedPipeline
  readonly mode: Extract<RunMode, 'run' | 'reconcile'>
  readonly cron: string
  readonly timezone: string
}

/** What the scheduler reports; the CLI turns it into log lines. */
export type SchedulerEvent =
  | { readonly kind: 'scheduled'; readonly job: ScheduledJob; readonly next: Date | null }
  | { readonly kind: 'skipped'; readonly job: ScheduledJob; readonly reason: string }
  | { readonly kind: 'finished'; readonly job: ScheduledJob; readonly result: RunResult }

/** Every job of a pipeline: the cron entries its schedule declares. */
export function jobsOf(pipeline: ResolvedPipeline): ScheduledJob[] {
  const { cron: run, reconcile, timezone } = pipeline.schedule
  return [
    ...(run ? [{ pipeline, mode: 'run' as const, cron: run, timezone }] : []),
    ...(reconcile ? [{ pipeline, mode: 'reconcile' as const, cron: reconcile, timezone }] : []),
  ]
}

/** Errors that mean "someone else is running this pipeline right now": skip, do not fail. */
const BUSY = new Set(['pipeline_busy', 'destination_busy'])

/**
 * Runs jobs on their cron expressions. A pipeline never runs twice at once: in this process a
 * tick that finds its pipeline running is skipped; across processes the destination's lock
 * refuses the second run before it sends any request, and that tick is skipped too.
 */
export class Scheduler {
  readonly #jobs: readonly ScheduledJob[]
  readonly #onEvent: (event: SchedulerEvent) => void
  readonly #runOptions: (job: ScheduledJob) => Omit<RunOptions, 'signal' | 'mode'>
  readonly #tasks: ScheduledTask[] = []
  readonly #running = new Map<string, Promise<void>>()
  readonly #stop = new AbortController()

  constructor(
    jobs: readonly ScheduledJob[],
    onEvent: (event: SchedulerEvent) => void,
    runOptions: (job: ScheduledJob) => Omit<RunOptions, 'signal' | 'mode'> = () => ({}),
  ) {
    this.#jobs = jobs
    this.#onEvent = onEvent
    this.#runOptions = runOptions
  }

  start(): void {
    for (const job of this.#jobs) {
      const task = cron.schedule(job.cron, () => this.#tick(job), {
        timezone: job.timezone,
        name: `${job.pipeline.name}:${job.mode}`,
      })
      this.#tasks.push(task)
      this.#onEvent({ kind: 'scheduled', job, next: task.getNextRun() })
    }
  }

  #tick(job: ScheduledJob): void {
    if (this.#stop.signal.aborted) return
    const name = job.pipeline.name
    if (this.#running.has(name)) {
      this.#onEvent({
        kind: 'skipped',
        job,
        reason: 'the previous run of this pipeline is still going',
      })
      return
    }
    const run = runPipeline(job.pipeline, {
      ...this.#runOptions(job),
      mode: job.mode,
      signal: this.#stop.signal,
    })
      .then((result) => {
        if (result.error && BUSY.has(result.error.code))
          this.#onEvent({ kind: 'skipped', job, reason: result.error.message })
        else this.#onEvent({ kind: 'finished', job, result })
      })
      .finally(() => this.#running.delete(name))
    this.#running.set(name, run)
  }

  /**
   * When `pipeline` ticks for the second time from now, in epoch ms: the earliest over its jobs
   * (as node-cron computes it, started or not); undefined for a pipeline without jobs or whose
   * crons do not fire twice again.
   */
  secondTickMs(pipeline: string): number | undefined {
    const ticks = this.#jobs.flatMap((job) => {
      if (job.pipeline.name !== pipeline) return []
      try {
        // A task that is never started: it only answers when it would fire.
        const task = cron.createTask(job.cron, () => undefined, { timezone: job.timezone })
        try {
          const second = task.getNextRuns(2)[1]
          return second ? [second.getTime()] : []
        } finally {
          void task.destroy()
        }
      } catch {
        return []
      }
    })
    return ticks.length > 0 ? Math.min(...ticks) : undefined
  }

  /** Stops scheduling; a run in progress finishes its current batch, commits, and ends. */
  async stop(): Promise<void> {
    this.#stop.abort()
    for (const task of this.#tasks) await task.destroy()
    await Promise.allSettled(this.#running.values())
  }
}
