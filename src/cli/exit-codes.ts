/** Process exit codes of the `thena-sync` CLI. Scripts may rely on them; they never change. */
export const EXIT_CODES = {
  /** Everything asked for was done. */
  ok: 0,
  /** Unexpected failure (a bug): the message says what failed. */
  internal: 1,
  /** Bad command line or bad configuration: fix the named field and run again. */
  usage: 2,
  /** The API refused the token (401/403); batches committed before the refusal stay. */
  auth: 3,
  /** The source or destination failed after retries; the warehouse is at its last checkpoint. */
  failed: 4,
  /** Interrupted by SIGINT/SIGTERM after the current batch was committed. */
  interrupted: 130,
} as const

export type ExitCode = (typeof EXIT_CODES)[keyof typeof EXIT_CODES]
