import type { z } from 'zod'
import type { ColumnType } from './table-schema.js'

/** What a zod schema says about the shape of a record: the source of column types. */
export type Shape =
  | { readonly kind: 'scalar'; readonly type: ColumnType }
  | { readonly kind: 'object'; readonly fields: ReadonlyMap<string, Shape> }
  | { readonly kind: 'array'; readonly element: Shape }

interface Def {
  type: string
  format?: string
  innerType?: z.ZodType
  in?: z.ZodType
  shape?: Record<string, z.ZodType>
  element?: z.ZodType
  options?: readonly z.ZodType[]
  checks?: { _zod: { def: { format?: string } } }[]
}

const defOf = (schema: z.ZodType): Def => (schema as unknown as { _zod: { def: Def } })._zod.def

/** Reads the shape of a zod schema (objects, arrays, and the column type of each scalar). */
export function shapeOf(schema: z.ZodType): Shape {
  const def = defOf(schema)
  switch (def.type) {
    case 'optional':
    case 'nullable':
    case 'default':
    case 'readonly':
    case 'nonoptional':
      return shapeOf(def.innerType!)
    case 'pipe':
      return shapeOf(def.in!)
    // A field seen with several types: its first member is the main column's.
    case 'union':
      return def.options?.[0] ? shapeOf(def.options[0]) : { kind: 'scalar', type: 'json' }
    case 'object': {
      const fields = new Map<string, Shape>()
      for (const [key, value] of Object.entries(def.shape ?? {})) fields.set(key, shapeOf(value))
      return { kind: 'object', fields }
    }
    case 'array':
      return { kind: 'array', element: shapeOf(def.element!) }
    case 'string':
      return { kind: 'scalar', type: def.format === 'datetime' ? 'timestamp' : 'text' }
    case 'number': {
      const integer =
        def.format === 'safeint' ||
        def.format === 'int32' ||
        (def.checks ?? []).some((c) => c._zod.def.format === 'safeint')
      return { kind: 'scalar', type: integer ? 'bigint' : 'double' }
    }
    case 'bigint':
      return { kind: 'scalar', type: 'bigint' }
    case 'boolean':
      return { kind: 'scalar', type: 'boolean' }
    case 'enum':
    case 'literal':
      return { kind: 'scalar', type: 'text' }
    default:
      return { kind: 'scalar', type: 'json' }
  }
}
