import type { z } from 'zod'

/**
 * The descriptions a zod schema carries (`.describe(text)` or `.meta({ description })`), laid
 * out as the record is: a field's description, its object fields, its array's element.
 */
export interface DescribedShape {
  /** The description of this field (or of the record at the root); undefined when it has none. */
  readonly description?: string
  readonly fields: ReadonlyMap<string, DescribedShape>
  /** The element of an array field. */
  readonly element?: DescribedShape
}

interface MutableShape {
  description?: string
  fields: Map<string, MutableShape>
  element?: MutableShape
}

interface Def {
  type: string
  innerType?: z.ZodType
  in?: z.ZodType
  shape?: Record<string, z.ZodType>
  element?: z.ZodType
  options?: readonly z.ZodType[]
}

const defOf = (schema: z.ZodType): Def => (schema as unknown as { _zod: { def: Def } })._zod.def

// `description` reads the registry of the zod copy that built the schema, so a schema from
// another zod install (a user's config) is read too.
const descriptionOf = (schema: z.ZodType): string | undefined => {
  const text = (schema as { description?: unknown }).description
  return typeof text === 'string' && text.trim() !== '' ? text : undefined
}

const emptyShape = (): MutableShape => ({ fields: new Map() })

function fill(shape: MutableShape, schema: z.ZodType, depth: number): void {
  // The outermost description wins: `text.describe(...)` describes the optional wrapper.
  shape.description ??= descriptionOf(schema)
  if (depth > 64) return
  const def = defOf(schema)
  switch (def.type) {
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'catch':
    case 'readonly':
    case 'nonoptional':
      if (def.innerType) fill(shape, def.innerType, depth + 1)
      return
    case 'pipe':
      if (def.in) fill(shape, def.in, depth + 1)
      return
    // A field of several shapes: what each member documents, the first member's text first.
    case 'union':
      for (const option of def.options ?? []) fill(shape, option, depth + 1)
      return
    case 'object':
      for (const [key, value] of Object.entries(def.shape ?? {})) {
        let field = shape.fields.get(key)
        if (!field) shape.fields.set(key, (field = emptyShape()))
        fill(field, value, depth + 1)
      }
      return
    case 'array':
      if (def.element) fill((shape.element ??= emptyShape()), def.element, depth + 1)
      return
    default:
      return
  }
}

/** Reads the descriptions of a zod schema and of every field in it, nested objects and arrays included. */
export function describedShape(schema: z.ZodType): DescribedShape {
  const shape = emptyShape()
  fill(shape, schema, 0)
  return shape
}

/**
 * The shape of the field at `path` (object keys, from `shape`), or undefined where the schema
 * declares none; an array's element is its `element`.
 */
export function shapeAt(
  shape: DescribedShape | undefined,
  path: readonly string[],
): DescribedShape | undefined {
  let current = shape
  for (const key of path) current = current?.fields.get(key)
  return current
}
