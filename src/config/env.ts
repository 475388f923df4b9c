/** A value read from an environment variable when a run starts, not when the config loads. */
export interface EnvRef {
  readonly kind: 'env'
  readonly name: string
  readonly default?: string
}

/**
 * Refers to an environment variable. A missing variable without a default fails the run
 * before any request, with a message naming the variable.
 *
 * @example token: env('THENA_API_TOKEN')
 */
export const env = (name: string, defaultValue?: string): EnvRef =>
  defaultValue === undefined ? { kind: 'env', name } : { kind: 'env', name, default: defaultValue }

export const isEnvRef = (value: unknown): value is EnvRef =>
  typeof value === 'object' && value !== null && (value as EnvRef).kind === 'env'

/** A setting given directly or read from an environment variable at run time. */
export type Setting = string | EnvRef
