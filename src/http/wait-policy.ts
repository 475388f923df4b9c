import { setTimeout as sleep } from 'node:timers/promises'
import { TerminalError } from '../errors.js'

/** A wait long enough to be logged: what the run is waiting for, and until when. */
export interface WaitEvent {
  /** Why, e.g. `rate limited by the API (429, Retry-After 3600 s)` or `retry 3 of 8 after HTTP 503`. */
  readonly reason: string
  /**
   * Seconds until it ends (rounded up): at the latest, for a wait that ends when something
   * else happens (a lock). Absent, with `until`, when such a wait has no limit.
   */
  readonly seconds?: number
  /** When it ends (at the latest, as above), when known. */
  readonly until?: Date
}

/** Waits shorter than this are not logged: retries and spacing that pass unnoticed. */
export const LOGGED_WAIT_MS = 5000

/** The setting that bounds every single wait of a run, as messages name it. */
export const MAX_WAIT_SETTING = 'http.maxWaitSeconds'

/**
 * A wait beyond `http.maxWaitSeconds`: the run stops instead of sleeping, with its committed
 * batches kept, and the next run resumes from them.
 */
export class WaitTooLongError extends TerminalError {
  /** `what` the run waits for, and `how` long that is, e.g. `a wait of 3600 s (until …)`. */
  constructor(what: string, how: string) {
    super(
      'wait_too_long',
      `${what}: ${how}, so the run stopped instead of waiting; the batches it committed are kept and the next run resumes from them (raise ${MAX_WAIT_SETTING}, or set it to 0, to wait it out)`,
    )
  }
}

/**
 * How a run waits: every wait ends at once when the run's signal fires, one longer than
 * `LOGGED_WAIT_MS` is reported (once, however many requests wait for the same moment), and
 * one longer than `maxWaitMs` is not made at all.
 */
export class WaitPolicy {
  /** End times already reported, so that requests waiting for one reset log it once. */
  #reported: number[] = []

  constructor(
    /** Longest single wait in ms; 0 = no limit. */
    readonly maxWaitMs: number,
    readonly onWait: (event: WaitEvent) => void = () => undefined,
  ) {}

  /** Throws `WaitTooLongError` when a wait of `ms` is beyond the limit. */
  check(ms: number, reason: string): void {
    if (this.maxWaitMs > 0 && ms > this.maxWaitMs)
      throw new WaitTooLongError(
        reason,
        `a wait of ${formatSeconds(ms)} (until ${untilText(Date.now() + ms)}) is longer than ${MAX_WAIT_SETTING} (${formatSeconds(this.maxWaitMs)})`,
      )
  }

  /** Sleeps `ms` for `reason`; rejects at once when `signal` fires. */
  async wait(ms: number, reason: string, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted()
    if (ms <= 0) return
    this.check(ms, reason)
    if (ms >= LOGGED_WAIT_MS) this.report(reason, ms)
    // Node fires a timer beyond 2^31-1 ms after 1 ms, so a longer wait sleeps in parts.
    for (let end = Date.now() + ms, left = ms; left > 0; left = end - Date.now())
      await sleep(Math.min(left, MAX_TIMER_MS), undefined, { signal })
  }

  /**
   * Reports a wait of `ms` from now, unless one ending within a second of it was reported; a
   * wait of unknown length (`undefined`) is always reported.
   */
  report(reason: string, ms: number | undefined): void {
    if (ms === undefined) return this.onWait({ reason })
    const now = Date.now()
    const until = now + ms
    this.#reported = this.#reported.filter((t) => t > now)
    if (this.#reported.some((t) => Math.abs(t - until) < 1000)) return
    this.#reported.push(until)
    this.onWait({
      reason,
      seconds: Math.ceil(ms / 1000),
      ...(until <= MAX_DATE_MS && { until: new Date(until) }),
    })
  }
}

const MAX_TIMER_MS = 2 ** 31 - 1
/** The last moment a Date can hold (year 275760). */
const MAX_DATE_MS = 8.64e15

/** `at` (epoch ms) in ISO form; a header can ask for a moment past any Date. */
const untilText = (at: number): string =>
  at <= MAX_DATE_MS ? new Date(at).toISOString() : 'after the year 275760'

export const formatSeconds = (ms: number): string => `${Math.ceil(ms / 1000)} s`
