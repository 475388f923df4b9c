import { shortenIdentifier, snakeCase } from '../normalize/naming.js'

/** A custom field definition as a view sees it: what identifies its values, and its name. */
export interface CustomFieldDefinition {
  /** What a value carries to say which field it is of (an id, or the name itself). */
  readonly key: string
  /** The definition's name, as people know it: `Product Area`. */
  readonly name: string
}

/** A definition with the column it gets in a view. */
export interface CustomFieldColumn extends CustomFieldDefinition {
  /** `cf_product_area`: the prefix, then the name in snake_case; unique in the view. */
  readonly column: string
}

/**
 * One column per definition: `prefix` + the name in snake_case, fit to `maxLength`, never one
 * of `taken` (the view's other columns); names that come out alike get `_2`, `_3`, … in order
 * of name then key. Definitions with the same key are one column. The order (by name, then
 * key) does not depend on the order the warehouse returned them in, so the same definitions
 * always give the same SQL.
 */
export function customFieldColumns(
  definitions: readonly CustomFieldDefinition[],
  options: {
    readonly prefix: string
    readonly taken: Iterable<string>
    readonly maxLength: number
  },
): CustomFieldColumn[] {
  const byKey = new Map<string, CustomFieldDefinition>()
  for (const d of definitions) if (!byKey.has(d.key)) byKey.set(d.key, d)
  const sorted = [...byKey.values()].sort(
    (a, b) => compare(a.name, b.name) || compare(a.key, b.key),
  )
  const used = new Set(options.taken)
  return sorted.map((d) => {
    const base = `${options.prefix}${snakeCase(d.name)}`
    let column = shortenIdentifier(base, options.maxLength)
    for (let n = 2; used.has(column); n++)
      column = shortenIdentifier(`${base}_${n}`, options.maxLength)
    used.add(column)
    return { ...d, column }
  })
}

// Code-point order: the same on every machine, whatever its locale.
const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)
