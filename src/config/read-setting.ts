import { ConfigError } from '../errors.js'
import { isEnvRef } from './env.js'
import type { Setting } from './env.js'

/** Throws the one-line ConfigError `field: problem`. */
export const fail = (field: string, problem: string): never => {
  throw new ConfigError(`${field}: ${problem}`)
}

/** A setting's value and the name its problems are reported under: the variable, or the field. */
export interface SettingValue {
  /** The value read. */
  readonly value: string
  /** The environment variable it came from, else the config field. */
  readonly field: string
}

/**
 * Reads a setting. An `env()` reference whose variable is unset (or empty) takes its default;
 * without one it is an error naming the variable, even where the field itself is optional.
 */
export function readSetting(
  setting: Setting | undefined,
  field: string,
  env: NodeJS.ProcessEnv,
  fallback?: string,
): SettingValue {
  if (setting === undefined)
    return fallback === undefined ? fail(field, 'is required') : { value: fallback, field }
  if (!isEnvRef(setting)) return { value: setting, field }
  const value = env[setting.name]
  if (value !== undefined && value !== '') return { value, field: setting.name }
  if (setting.default !== undefined) return { value: setting.default, field }
  return fail(
    setting.name,
    `is not set (${field} reads it): export ${setting.name}=...` +
      (field.endsWith('.token') ? ' (or try `thena-sync demo`, which needs none)' : ''),
  )
}

/**
 * Checks a secret that goes into a header or a query string: printable ASCII, not blank. The
 * problem is reported under `field` (the variable it was read from, or the config field).
 */
export function checkSecret({ value, field }: SettingValue): string {
  // A header value cannot hold a line break: undici would fail every request as a network error.
  if ([...value].some((c) => c < ' ' || c === '\x7f'))
    fail(
      field,
      'contains a line break or another control character; copy the token again without it',
    )
  const foreign = [...value].find((c) => c > '\x7f')
  if (foreign)
    fail(
      field,
      `contains U+${foreign.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}, which a token cannot hold (it is ASCII); copy the token again without it`,
    )
  if (value.trim() === '') fail(field, 'is empty')
  return value
}
