import { WaitPolicy } from './wait-policy.js'

const HOUR_MS = 3_600_000

/** What the API last said about the rate-limit window. */
interface WindowInfo {
  remaining: number
  /** Epoch ms when the window resets. */
  resetAt: number
  /** Why nothing is left, for the log (the 429 that said so, or the headers). */
  reason?: string
}

/**
 * Reads `X-RateLimit-Remaining` / `X-RateLimit-Reset` and holds back a request it knows would
 * be refused: when the requests in flight would use up what is left of the window, the next
 * one waits for the reset. Without those headers it only spaces requests by `minIntervalMs`
 * and keeps to `requestsPerHour` in any sliding hour.
 */
export class RateGate {
  #window: WindowInfo | undefined
  #inFlight = 0
  #nextSlot = 0
  /** Total time spent waiting for a window to reset, in ms (reported in the run summary). */
  waitedMs = 0

  constructor(
    /** Safety margin added to the announced reset time, for clock skew. */
    readonly marginMs = 50,
    /** Minimum spacing between request starts when no headers are known (0 = none). */
    readonly minIntervalMs = 0,
    /** Bounds, reports and aborts the waits (default: no limit, not reported). */
    readonly waits = new WaitPolicy(0),
    /** The `http.requestsPerMinute` behind `minIntervalMs`, for the log. */
    readonly requestsPerMinute = 0,
    /** At most this many request starts in any hour (a sliding window); 0 = none. */
    readonly requestsPerHour = 0,
  ) {}

  /** Start times (epoch ms) of the requests in the last hour, oldest first (per-hour budget only). */
  readonly #hourStarts: number[] = []

  async acquire(signal?: AbortSignal): Promise<void> {
    for (;;) {
      const now = Date.now()
      const w = this.#window
      if (w && now >= w.resetAt) this.#window = undefined
      else if (w && w.remaining - this.#inFlight <= 0) {
        const wait = w.resetAt - now + this.marginMs
        const reason =
          w.reason ??
          `the API's rate-limit window is used up (X-RateLimit-Remaining ${w.remaining}, resets ${new Date(w.resetAt).toISOString()})`
        this.waits.check(wait, reason)
        this.waitedMs += wait
        await this.waits.wait(wait, reason, signal)
        continue
      }
      if (this.minIntervalMs > 0 && now < this.#nextSlot) {
        await this.waits.wait(
          this.#nextSlot - now,
          `spacing requests to http.requestsPerMinute (${this.requestsPerMinute})`,
          signal,
        )
        continue
      }
      if (this.requestsPerHour > 0) {
        while (this.#hourStarts.length > 0 && this.#hourStarts[0]! <= now - HOUR_MS)
          this.#hourStarts.shift()
        if (this.#hourStarts.length >= this.requestsPerHour) {
          const wait = this.#hourStarts[0]! + HOUR_MS - now
          const reason = `keeping to the budget of ${this.requestsPerHour} requests per hour`
          this.waits.check(wait, reason)
          this.waitedMs += wait
          await this.waits.wait(wait, reason, signal)
          continue
        }
        this.#hourStarts.push(now)
      }
      this.#nextSlot = now + this.minIntervalMs
      this.#inFlight++
      return
    }
  }

  /** Called once per acquired request with the response headers (or none, on a network error). */
  release(headers?: Record<string, string | string[] | undefined>): void {
    this.#inFlight--
    if (!headers) return
    const remaining = Number(headers['x-ratelimit-remaining'])
    const reset = Number(headers['x-ratelimit-reset'])
    if (!Number.isFinite(remaining) || !Number.isFinite(reset)) return
    // X-RateLimit-Reset is UNIX seconds; values that look like a delta are treated as one.
    const resetAt = reset > 1e9 ? reset * 1000 : Date.now() + reset * 1000
    const current = this.#window
    // Responses can arrive out of order: keep the most pessimistic view of the newest window.
    if (!current || resetAt > current.resetAt) this.#window = { remaining, resetAt }
    else if (resetAt === current.resetAt) current.remaining = Math.min(current.remaining, remaining)
  }

  /** A 429 arrived: nothing is left until `resetAt` (epoch ms); `reason` says which. */
  exhausted(resetAt: number, reason?: string): void {
    this.#window = { remaining: 0, resetAt, ...(reason !== undefined && { reason }) }
  }
}
