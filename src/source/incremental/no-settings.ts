import { ConfigError } from '../../errors.js'

/** Parses the declaration of a strategy that takes no settings: `'name'` or `{ type: 'name' }`. */
export function noSettings(declaration: unknown, field: string): Record<string, never> {
  const extra = Object.keys(declaration as object).filter((k) => k !== 'type')
  if (extra.length > 0)
    throw new ConfigError(`${field}.${extra[0]}: is not a setting of this strategy (it takes none)`)
  return {}
}
