import type { RunResult } from '../pipeline/run-stats.js'
import { spanMessage } from './run-trace.js'

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
 * fail and the time is not past its second tick after its last success (or, before any, the
 * daemon's start) plus twice its last run's duration. The ticks are counted from that moment,
 * not from now: the gap ahead of a weekday cron on a Saturday (Monday to Tuesday) says nothing
 * of how long ago Friday's run may be. Skipped ticks (a run still going, another process
 * holding the lock) are not runs: a pipeline whose ticks are all skipped goes overdue.
 */
export class ScheduleHealth {
  readonly #started: number
  readonly #pipelines: readonly string[]
  readonly #secondTick: (pipeline: string) => number | undefined
  readonly #last = new Map<string, LastRun>()
  readonly #lastSuccess = new Map<string, number>()
  /** Each pipeline's second tick after its last success (or the start), in epoch ms. */
  readonly #due = new Map<string, number | undefined>()

  /**
   * `secondTick` answers when a pipeline ticks for the second time from now (epoch ms; undefined
   * when it does not): it is asked at the start and at each success, as they happen.
   */
  constructor(
    pipelines: readonly string[],
    secondTick: (pipeline: string) => number | undefined,
    started: number = Date.now(),
  ) {
    this.#pipelines = pipelines
    this.#secondTick = secondTick
    this.#started = started
    for (const p of pipelines) this.#due.set(p, secondTick(p))
  }

  /** A run of `pipeline` finished (not a skipped tick). */
  finished(result: RunResult, at: number = Date.now()): void {
    this.#last.set(result.pipeline, {
      status: result.status,
      seconds: result.seconds,
      loadId: result.loadId,
      // As a span says it: one redacted line, no URL query string, no response body (an API's
      // error answer may echo a record; the log line and the load row keep it).
      ...(result.error && { error: spanMessage(result.error) }),
    })
    if (result.status === 'success') {
      this.#lastSuccess.set(result.pipeline, at)
      this.#due.set(result.pipeline, this.#secondTick(result.pipeline))
    }
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
    const due = this.#due.get(pipeline)
    // Not scheduled (any more): nothing is expected of it.
    if (due === undefined) return { pipeline, healthy: true, allowedSeconds: 0 }
    const since = success ?? this.#started
    const durationMs = (last?.seconds ?? 0) * 1000
    const allowedMs = Math.max(0, due - since) + 2 * durationMs
    const base = {
      pipeline,
      allowedSeconds: Math.round(allowedMs / 1000),
      ...(last && { lastStatus: last.status }),
      ...(success !== undefined && { lastSuccessAt: new Date(success).toISOString() }),
    }
    const sick = (reason: string): PipelineHealth => ({ ...base, healthy: false, reason })
    if (last?.status === 'failed')
      return sick(
        `${pipeline}: its last run failed${last.loadId ? ` (load ${last.loadId})` : ''}: ${last.error ?? 'no error recorded'}`,
      )
    const allowed = `allowed ${secondsText(allowedMs)}: until its second tick after then, ${new Date(due).toISOString()}, plus twice its last run's ${secondsText(durationMs)}`
    if (now - since > allowedMs)
      return sick(
        success === undefined
          ? `${pipeline}: no successful run since the daemon started ${secondsText(now - since)} ago (${allowed})`
          : `${pipeline}: overdue: its last successful run finished ${secondsText(now - since)} ago (${allowed})`,
      )
    return { ...base, healthy: true }
  }
}
