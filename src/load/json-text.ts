// JSON text that a warehouse's JSON type accepts, the one way every destination serializes.
import { redactor } from '../redactor.js'

/** A `\u` escape in JSON.stringify output, not itself escaped (an even run of backslashes before). */
const LONE_SURROGATE = /(?<!\\)((?:\\\\)*)\\ud[89a-f][0-9a-f]{2}/g
const NUL = /(?<!\\)((?:\\\\)*)\\u0000/g

/**
 * `JSON.stringify(value)`, storable: a lone UTF-16 surrogate (which JSON.stringify writes as a
 * `\udXXX` escape, and Postgres' jsonb and DuckDB's JSON refuse) becomes U+FFFD, and with
 * `dropNul` the U+0000 escapes, in keys as in values, are removed (Postgres cannot hold it).
 */
export function jsonText(value: unknown, dropNul = false): string {
  const text = JSON.stringify(value)
  // JSON.stringify writes \u escapes only for control characters and lone surrogates.
  if (!text.includes('\\u')) return text
  const wellFormed = text.replace(LONE_SURROGATE, '$1\\ufffd')
  return dropNul ? wellFormed.replace(NUL, '$1') : wellFormed
}

/**
 * A state document as stored: no secret in it, whatever an API put in a position (a next link
 * repeating the API key); the HTTP client sends the real credentials again on resume.
 */
export const stateText = (state: unknown, dropNul = false): string =>
  redactor.redact(jsonText(state, dropNul))
