import { redactor } from './redactor.js'

/**
 * One error hierarchy for the whole tool. Every error has a stable `code` that scripts and tests
 * can match on, and is either transient (retrying may help) or terminal (it will not).
 */
export abstract class ThenaSyncError extends Error {
  /** Stable, machine-readable identifier such as `http_unauthorized` or `config_invalid`. */
  abstract readonly code: string
  /** True when the same operation may succeed if retried later. */
  abstract readonly transient: boolean

  constructor(message: string, options?: { cause?: unknown }) {
    // Messages often quote what a server or the config said: no secret gets through.
    super(redactor.redact(message), options)
    this.name = new.target.name
  }
}

/** An error that may go away on retry: 429, 5xx, timeouts, dropped connections, lock waits. */
export class TransientError extends ThenaSyncError {
  readonly transient = true as const
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options)
  }
}

/** An error that retrying cannot fix: bad config, 401/403, contract violations, bugs. */
export class TerminalError extends ThenaSyncError {
  readonly transient = false as const
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options)
  }
}

/** Invalid configuration: the message names the field and the fix, on one line. */
export class ConfigError extends TerminalError {
  constructor(message: string) {
    super('config_invalid', message)
  }
}

export const isTransient = (error: unknown): boolean =>
  error instanceof ThenaSyncError && error.transient
