import { z } from 'zod'
import { closestMatch } from '../../config/closest-match.js'
import { ConfigError } from '../../errors.js'
import type { Paginator, PaginatorContext, PaginatorType } from './paginator.js'

const TYPES = new Map<string, PaginatorType>()
const ALIASES = new Map<string, string>()

/** Makes a paginator declarable by its type name (and by `aliases`). */
export function registerPaginator(type: PaginatorType, aliases: readonly string[] = []): void {
  TYPES.set(type.type, type)
  for (const alias of aliases) ALIASES.set(alias, type.type)
}

/** The registered type of that name, or undefined. */
export const paginatorType = (name: string): PaginatorType | undefined =>
  TYPES.get(ALIASES.get(name) ?? name)

/** Names a declaration may use, aliases included. */
export const paginatorTypeNames = (): string[] => [...TYPES.keys(), ...ALIASES.keys()]

/**
 * Builds the paginator a declaration describes; a problem is one `ConfigError` line naming
 * `field` and the sub-field, with the fix.
 */
export function createPaginator(
  declaration: unknown,
  field: string,
  context?: PaginatorContext,
): Paginator {
  const name =
    typeof declaration === 'object' && declaration !== null
      ? (declaration as { type?: unknown }).type
      : undefined
  const type = typeof name === 'string' ? paginatorType(name) : undefined
  if (!type) {
    const known = paginatorTypeNames()
    const near = typeof name === 'string' ? closestMatch(name, known) : undefined
    throw new ConfigError(
      `${field}.type: expected one of ${known.map((k) => `\`${k}\``).join(', ')}${near ? `; did you mean \`${near}\`?` : ''}, got ${JSON.stringify(name ?? declaration)}`,
    )
  }
  const input = { ...(declaration as object), type: type.type }
  const parsed = type.schema.safeParse(input)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!
    const at = issue.path.length ? `.${issue.path.join('.')}` : ''
    throw new ConfigError(`${field}${at}: ${issue.message}`)
  }
  return type.create(parsed.data, context)
}

/**
 * A schema accepting any registered declaration (for the config schema), read when a config
 * is checked, so that a paginator registered by the config file itself is known.
 */
export const paginatorDeclarationSchema = (): z.ZodType =>
  z.lazy(() => {
    const options: z.ZodObject[] = []
    for (const type of TYPES.values()) options.push(type.schema as unknown as z.ZodObject)
    for (const [alias, name] of ALIASES) {
      const schema = TYPES.get(name)?.schema as unknown as z.ZodObject | undefined
      if (schema) options.push(schema.extend({ type: z.literal(alias) }))
    }
    return z.discriminatedUnion('type', options as [z.ZodObject, ...z.ZodObject[]])
  })
