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
    const base = `${options.prefix}${columnWord(d.name)}`
    let column = shortenIdentifier(base, options.maxLength)
    for (let n = 2; used.has(column); n++)
      column = shortenIdentifier(`${base}_${n}`, options.maxLength)
    used.add(column)
    return { ...d, column }
  })
}

/**
 * A definition's name as a column: snake_case, accents folded (`Réponse client` is
 * `reponse_client`). A name with letters or digits outside the Latin alphabet keeps them,
 * lower-cased (`優先度 (P1)` is `優先度_p1`, `Приоритет` is `приоритет`): snake_case alone
 * would turn every such name into `field`, and their columns into `cf_field`, `cf_field_2`, …
 * numbered in name order, so that a new definition would silently shift which field a column
 * holds. The view quotes every identifier; both databases hold these names.
 */
function columnWord(name: string): string {
  const letters = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^\p{L}\p{N}]/gu, '')
  if (!/[^a-z0-9]/i.test(letters)) return snakeCase(name)
  return name
    .normalize('NFC')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\p{M}]+/gu, '_')
    .replace(/^_+|_+$/g, '')
}

// Code-point order: the same on every machine, whatever its locale.
const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)
