import type { ColumnType, TableSchema } from './table-schema.js'

const LEAF: Readonly<Record<ColumnType, string>> = {
  text: 'z.string()',
  bigint: 'z.number().int()',
  double: 'z.number()',
  boolean: 'z.boolean()',
  // ISO text in the API, read back as a timestamp column when the schema is pinned.
  timestamp: 'z.iso.datetime({ offset: true })',
  json: 'z.unknown()',
}

/** A node of the record shape rebuilt from column paths. */
interface ShapeNode {
  types: ColumnType[]
  fields: Map<string, ShapeNode>
  element?: ShapeNode
}

const node = (): ShapeNode => ({ types: [], fields: new Map() })

function at(root: ShapeNode, path: readonly string[]): ShapeNode {
  let current = root
  for (const key of path) {
    let next = current.fields.get(key)
    if (!next) current.fields.set(key, (next = node()))
    current = next
  }
  return current
}

function fill(shape: ShapeNode, table: TableSchema, tables: readonly TableSchema[]): void {
  for (const column of table.columns) {
    if (column.path.length === 0) continue
    const leaf = at(shape, column.path)
    if (!leaf.types.includes(column.type)) leaf.types.push(column.type)
  }
  for (const child of tables) {
    if (child.parent !== table.name || !child.arrayPath) continue
    const element = node()
    fill(element, child, tables)
    at(shape, child.arrayPath).element = element
  }
}

const key = (name: string) => (/^[A-Za-z_$][\w$]*$/.test(name) ? name : JSON.stringify(name))

function render(shape: ShapeNode, indent: string, required?: string): string {
  const inner = indent + '  '
  const lines = [...shape.fields].map(([name, field]) => {
    const expression = expressionOf(field, inner)
    return `${inner}${key(name)}: ${name === required ? `${expression}.min(1)` : `${expression}.nullish()`},`
  })
  return `z.looseObject({\n${lines.join('\n')}\n${indent}})`
}

function expressionOf(field: ShapeNode, indent: string): string {
  const options: string[] = field.types.map((t) => LEAF[t])
  if (field.element) options.push(`z.array(${render(field.element, indent)})`)
  if (field.fields.size > 0) options.push(render(field, indent))
  if (options.length === 0) return 'z.unknown()'
  return options.length === 1 ? options[0]! : `z.union([${options.join(', ')}])`
}

const pascal = (name: string) =>
  name
    .split(/_+/)
    .filter(Boolean)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join('')

/**
 * The zod source of a root table's evolved record shape (its columns and child tables), to
 * paste into `schemas/` and pin it. Every field is `.nullish()` except the key: the warehouse
 * knows which fields exist and their types, not which are required. A field seen with several
 * types is a union whose first member is its main column's type, so that the pinned schema
 * gives the same columns and types again.
 */
export function zodSource(
  root: TableSchema,
  tables: readonly TableSchema[],
  now = new Date(),
): string {
  const shape = node()
  fill(shape, root, tables)
  const name = `${pascal(root.name)}Schema`
  const keyNode = shape.fields.get(root.primaryKey)
  const body =
    keyNode && keyNode.types.length === 1 && keyNode.types[0] === 'text'
      ? render(shape, '', root.primaryKey)
      : render(shape, '')
  return [
    `import { z } from 'zod'`,
    ``,
    `/** \`${root.resource}\` as the warehouse knows it (thena-sync schema --zod, ${now.toISOString().slice(0, 10)}). */`,
    `export const ${name} = ${body}`,
    ``,
    `export type ${pascal(root.name)} = z.infer<typeof ${name}>`,
    ``,
  ].join('\n')
}
