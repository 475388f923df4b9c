import type { z } from 'zod'
import { ConfigError } from '../errors.js'

/**
 * The first problem with a stand-in's options as one line, naming the option (an unknown one
 * by its own name): `Invalid Platform simulator option \`tickts\`: Unrecognized key: "tickts"`.
 */
export function invalidOption(what: string, error: z.ZodError): ConfigError {
  const issue = error.issues[0]!
  const unknown = issue.code === 'unrecognized_keys' ? issue.keys.slice(0, 1) : []
  const path = [...issue.path, ...unknown].map(String).join('.')
  return new ConfigError(`Invalid ${what} option \`${path}\`: ${issue.message}`)
}
