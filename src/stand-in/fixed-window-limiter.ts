/** Outcome of asking the limiter for one request. */
export interface RateDecision {
  readonly allowed: boolean
  readonly limit: number
  readonly remaining: number
  /** End of the current window, UNIX seconds (what `X-RateLimit-Reset` carries). */
  readonly resetSeconds: number
  /** Milliseconds until the window ends. */
  readonly retryAfterMs: number
}

/**
 * A fixed-window rate limiter keyed on the token. Windows are aligned to the epoch, so a window
 * of whole seconds ends exactly at the second that `X-RateLimit-Reset` announces.
 */
export class FixedWindowLimiter {
  readonly #windows = new Map<string, { start: number; count: number }>()

  constructor(
    readonly limit: number,
    readonly windowMs: number,
    readonly now: () => number = Date.now,
  ) {}

  take(key: string): RateDecision {
    const now = this.now()
    const start = Math.floor(now / this.windowMs) * this.windowMs
    let window = this.#windows.get(key)
    if (!window || window.start !== start) this.#windows.set(key, (window = { start, count: 0 }))
    const allowed = window.count < this.limit
    if (allowed) window.count++
    const end = start + this.windowMs
    return {
      allowed,
      limit: this.limit,
      remaining: this.limit - window.count,
      resetSeconds: Math.ceil(end / 1000),
      retryAfterMs: end - now,
    }
  }
}
