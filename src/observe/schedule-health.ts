import type { RunResult } from '../pipeline/run-stats.js'

/** How one scheduled pipeline is doing, as `/healthz` reports it. */
export interface PipelineHealth {
  readonly pipeline: string
  readonly healthy: boolean
  /** Why it is not healthy (one line); absent when it is. */
  readonly reason?: string
  /** The status of its last finished run since the daemon started; absent before the first. */
  readonly lastStatus?: RunResult['status']
  /** When its last successful run finished (ISO); absent before the first. */
  readonly lastSuccessAt?: string
  /** How long after the last success (or the daemon's start) it counts as overdue, in seconds. */
  readonly allowedSeconds: number
}

/** The `/healthz` body: healthy when every scheduled pipeline is. */
export interface HealthReport {
  readonly status: 'ok' | 'unhealthy'
  /** The first unhealthy pipeline's reason; absent when healthy. */
  readonly reason?: string
  readonly pipelines: readonly PipelineHealth[]
}

interface LastRun {
  readonly status: RunResult['status']
  readonly seconds: number
  readonly error?: string
  readonly loadId: string
}

const secondsText = (ms: number) => `${Math.round(ms / 1000)} s`

/**
 * The health rule of `schedule`: a pipeline is healthy while its last finished run did not
 * fail and its last success (or, before any, the daemon's start) is no older than twice the
 * gap between its next two ticks (its most frequent job) plus its last run's duration.
 * Skipped ticks (a run still going, another process holding the lock) are not runs: a
 * pipeline whose ticks are all skipped goes overdue.
 */
export class ScheduleHealth {
  readonly #started: number
  readonly #pipelines: readonly string[]
  readonly #gapMs: (pipeline: string) => number | undefined
  readonly #last = new Map<string, LastRun>()
  readonly #lastSuccess = new Map<string, number>()

  constructor(
    pipelines: readonly string[],
    gapMs: (pipeline: string) => number | undefined,
    started: number = Date.now(),
  ) {
    this.#pipelines = pipelines
    this.#gapMs = gapMs
    this.#started = started
  }

  /** A run of `pipeline` finished (not a skipped tick). */
  finished(result: RunResult, at: number = Date.now()): void {
    this.#last.set(result.pipeline, {
      status: result.status,
      seconds: result.seconds,
      loadId: result.loadId,
      ...(result.error && { error: result.error.message }),
    })
    if (result.status === 'success') this.#lastSuccess.set(result.pipeline, at)
  }

  check(now: number = Date.now()): HealthReport {
    const pipelines = this.#pipelines.map((p) => this.#checkOne(p, now))
    const sick = pipelines.find((p) => !p.healthy)
    return sick
      ? { status: 'unhealthy', reason: sick.reason!, pipelines }
      : { status: 'ok', pipelines }
  }

  #checkOne(pipeline: string, now: number): PipelineHealth {
    const last = this.#last.get(pipeline)
    const success = this.#lastSuccess.get(pipeline)
    const gap = this.#gapMs(pipeline)
    // Not scheduled (yet): nothing is expected of it.
    if (gap === undefined) return { pipeline, healthy: true, allowedSeconds: 0 }
    const allowedMs = 2 * gap + (last?.seconds ?? 0) * 1000
    const base = {
      pipeline,
      allowedSeconds: Math.round(allowedMs / 1000),
      ...(last && { lastStatus: last.status }),
      ...(success !== undefined && { lastSuccessAt: new Date(success).toISOString() }),
    }
    const sick = (reason: string): PipelineHealth => ({ ...base, healthy: false, reason })
    if (last?.status === 'failed')
      return sick(
        `${pipeline}: its last run failed${last.loadId ? ` (load ${last.loadId})` : ''}: ${(last.error ?? 'no error recorded').replace(/\s+/g, ' ')}`,
      )
    const since = success ?? this.#started
    const allowed = `allowed ${secondsText(allowedMs)}: twice the ${secondsText(gap)} between its ticks plus its last run's ${secondsText((last?.seconds ?? 0) * 1000)}`
    if (now - since > allowedMs)
      return sick(
        success === undefined
          ? `${pipeline}: no successful run since the daemon started ${secondsText(now - since)} ago (${allowed})`
          : `${pipeline}: overdue: its last successful run finished ${secondsText(now - since)} ago (${allowed})`,
      )
    return { ...base, healthy: true }
  }
}
