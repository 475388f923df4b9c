import type { ResolvedPipeline } from '../config/resolve-pipeline.js'
import type { Destination } from '../load/destination.js'
import { SYSTEM_TABLES } from '../load/system-tables.js'
import type { WarehouseColumn, WarehouseRelation } from '../load/warehouse-relations.js'
import type { TableSchema } from '../normalize/table-schema.js'
import { describedShape, shapeAt } from '../normalize/zod-descriptions.js'
import type { DescribedShape } from '../normalize/zod-descriptions.js'
import { yamlText } from './yaml-text.js'
import type { YamlValue } from './yaml-text.js'

/** What of a pipeline `dbtSources` reads besides the warehouse. */
export type DbtPipeline = Pick<ResolvedPipeline, 'name' | 'dataset' | 'source' | 'resources'> & {
  readonly destination: Pick<Destination, 'description' | 'dbtTarget'>
}

/** What `dbtSources` describes: the dataset's relations and the tables thena-sync recorded. */
export interface DbtWarehouse {
  /** Every table and view of the dataset (`readRelations`). */
  readonly relations: readonly WarehouseRelation[]
  /** The tables of the schema history (`readTables`): roots and children, with source paths. */
  readonly tables: readonly TableSchema[]
}

/** The fixed description of each column thena-sync adds to the rows it writes. */
export const SYSTEM_COLUMN_DESCRIPTIONS: Readonly<Record<string, string>> = {
  _thena_load_id: 'The run that last wrote this row (`_thena_loads.load_id`).',
  _thena_synced_at: 'When thena-sync last wrote this row.',
  _thena_deleted_at:
    'When thena-sync found the record gone from the source (soft delete); null while it exists.',
  _thena_id: "This row's key: its parent row's key, `#`, and its position in the array.",
  _thena_parent_id:
    "The parent row's key: the record's key for an array of the record, else the parent element's `_thena_id`.",
  _thena_root_id: "The key of the record (in the resource's table) this row belongs to.",
  _thena_list_idx: 'The position of the element in its array, from 0.',
  _thena_content_hash:
    "SHA-256 of the record's content (null fields left out): a new version is written when it changes.",
  _thena_valid_from: 'When this version began: the record’s update time, or when a run read it.',
  _thena_valid_to:
    'When this version ended (the next version began, or the record was deleted); null while current.',
  _thena_is_current: 'Whether this is the current version of the record.',
  _thena_children: "The record's arrays of objects in this version, as JSON keyed by child table.",
}

const OTHER_SYSTEM_COLUMN = 'A column thena-sync maintains.'

/** What each of thena-sync's own tables holds. */
const SYSTEM_TABLE_DESCRIPTIONS: Readonly<Record<string, string>> = {
  _thena_loads: "thena-sync's runs: one row per run, with its status and counters.",
  _thena_state: "thena-sync's committed position in each resource, per pipeline.",
  _thena_schema_history: 'Every table and column thena-sync created, with the run that did.',
  _thena_rejects: 'Records thena-sync could not load, with the reason.',
  _thena_views:
    'The views thena-sync keeps in this dataset: built, failed (with the error) or skipped.',
}

const KEY_TESTS = ['unique', 'not_null'] as const

// dbt quotes a column in its tests only when told: any name SQL would fold or misread.
const needsQuoting = (name: string): boolean => !/^[a-z_][a-z0-9_]*$/.test(name)

interface ColumnEntry {
  readonly column: WarehouseColumn
  readonly description?: string
  readonly tests?: readonly string[]
}

const columnYaml = ({ column, description, tests }: ColumnEntry): YamlValue => ({
  name: column.name,
  data_type: column.dataType,
  description,
  quote: needsQuoting(column.name) ? true : undefined,
  data_tests: tests && tests.length > 0 ? tests : undefined,
})

const tableYaml = (
  relation: WarehouseRelation,
  description: string,
  columns: readonly ColumnEntry[],
): YamlValue => ({
  name: relation.name,
  description,
  columns: columns.map(columnYaml),
})

const sentence = (...parts: (string | undefined)[]): string | undefined => {
  const text = parts.filter((p) => p !== undefined && p.trim() !== '').join(' ')
  return text === '' ? undefined : text
}

/** A resource's documentation: the record's shape and the fields thena-sync fills itself. */
interface ResourceDocs {
  readonly path: string
  readonly description?: string
  readonly shape: DescribedShape
  readonly filled: ReadonlyMap<string, string>
}

function resourceDocs(pipeline: DbtPipeline): Map<string, ResourceDocs> {
  const docs = new Map<string, ResourceDocs>()
  for (const resource of pipeline.resources) {
    const declared = pipeline.source.resources.find((r) => r.name === resource.name)
    const filled = new Map<string, string>()
    if (resource.single)
      filled.set(resource.primaryKey, 'When the run that took this snapshot started (its key).')
    for (const binding of resource.resolvedParent?.bindings ?? [])
      filled.set(
        binding.field,
        `The \`${binding.from}\` of the \`${resource.resolvedParent!.resource}\` record this one was read for.`,
      )
    if (resource.childKey?.composite)
      filled.set(
        resource.childKey.composite,
        `The row's key: the parent's values and the record's \`${resource.childKey.field}\`, as JSON text.`,
      )
    // `.extend` (a parent's fields, a snapshot's key) drops the record's own description.
    const shape = describedShape(resource.schema)
    docs.set(resource.name, {
      path: resource.path,
      description: shape.description ?? (declared && describedShape(declared.schema).description),
      shape,
      filled,
    })
  }
  return docs
}

/**
 * The shape of a table's rows in its resource's record: the record for a root table, an
 * array's element for a child (the parents' array paths in turn).
 */
function rowShape(
  table: TableSchema,
  tables: ReadonlyMap<string, TableSchema>,
  root: DescribedShape | undefined,
): DescribedShape | undefined {
  if (!table.parent || !table.arrayPath) return root
  const parent = tables.get(table.parent)
  return parent && shapeAt(rowShape(parent, tables, root), table.arrayPath)?.element
}

/** Each column of `columns` (a relation's) with its description, read as a column of `table`. */
function tableColumns(
  columns: readonly WarehouseColumn[],
  table: TableSchema,
  tables: ReadonlyMap<string, TableSchema>,
  docs: ResourceDocs | undefined,
): ColumnEntry[] {
  const shape = rowShape(table, tables, docs?.shape)
  const byName = new Map(table.columns.map((c) => [c.name, c]))
  return columns.map((column): ColumnEntry => {
    const tests = column.name === table.primaryKey ? KEY_TESTS : undefined
    if (column.name.startsWith('_thena_'))
      return {
        column,
        tests,
        description: SYSTEM_COLUMN_DESCRIPTIONS[column.name] ?? OTHER_SYSTEM_COLUMN,
      }
    const known = byName.get(column.name)
    if (!known || known.path.length === 0) return { column, tests }
    const filled =
      !table.parent && known.path.length === 1 ? docs?.filled.get(known.path[0]!) : undefined
    const variant = known.variantOf
      ? `Values of \`${known.path.join('.')}\` whose type is not \`${known.variantOf}\`'s.`
      : undefined
    return {
      column,
      tests,
      description: sentence(filled ?? shapeAt(shape, known.path)?.description, variant),
    }
  })
}

/** A root or child table's description: its record's or array's text, and what a row is. */
function tableDescription(
  table: TableSchema,
  tables: ReadonlyMap<string, TableSchema>,
  docs: ResourceDocs | undefined,
): string {
  if (!table.parent || !table.arrayPath)
    return (
      docs?.description ??
      sentence(
        docs && `Records of \`${docs.path}\` (resource \`${table.resource}\`).`,
        `One row per \`${table.primaryKey}\`.`,
      )!
    )
  const parent = tables.get(table.parent)
  const array = parent && shapeAt(rowShape(parent, tables, docs?.shape), table.arrayPath)
  return sentence(
    array?.description ?? array?.element?.description,
    `One row per element of \`${table.arrayPath.join('.')}\` in \`${table.parent}\`.`,
  )!
}

/**
 * A dbt `sources.yml` for the pipeline's dataset, as YAML text: one source named after the
 * dataset with every table and view the warehouse holds, each column's SQL type, descriptions
 * from the resources' zod schemas (`.describe()`) and thena-sync's own columns, and `unique` +
 * `not_null` tests on keys (a root table's resource key, a child table's `_thena_id`; a
 * `_history` table's key is `not_null` only). Comments first say how dbt reaches the warehouse.
 */
export function dbtSources(pipeline: DbtPipeline, warehouse: DbtWarehouse): string {
  const docs = resourceDocs(pipeline)
  const tables = new Map(warehouse.tables.map((t) => [t.name, t]))
  const system = new Map(SYSTEM_TABLES.map((t) => [t.name, t]))
  // The data first, thena-sync's own tables last; by name within each.
  const ordered = [...warehouse.relations].sort(
    (a, b) =>
      Number(a.name.startsWith('_thena_')) - Number(b.name.startsWith('_thena_')) ||
      (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
  )
  const relations = ordered.map((relation): YamlValue => {
    const table = tables.get(relation.name)
    // A history table names its root; one whose schema history is gone, by its name.
    const of = table
      ? table.historyOf && tables.get(table.historyOf)
      : relation.name.endsWith('_history')
        ? tables.get(relation.name.slice(0, -'_history'.length))
        : undefined
    if (of && relation.kind === 'table')
      // Same-named columns mean what they mean in the table whose versions these are; a key
      // repeats there, once per version.
      return tableYaml(
        relation,
        `Every version of the rows of \`${of.name}\`, kept by thena-sync: several rows per \`${of.primaryKey}\`.`,
        tableColumns(relation.columns, of, tables, docs.get(of.resource)).map((entry) => ({
          ...entry,
          tests: entry.tests && ['not_null'],
        })),
      )
    if (table && relation.kind === 'table') {
      const own = docs.get(table.resource)
      return tableYaml(
        relation,
        tableDescription(table, tables, own),
        tableColumns(relation.columns, table, tables, own),
      )
    }
    const own = system.get(relation.name)
    if (own || relation.name.startsWith('_thena_'))
      return tableYaml(
        relation,
        SYSTEM_TABLE_DESCRIPTIONS[relation.name] ?? 'A table thena-sync keeps for its own use.',
        relation.columns.map((column) => ({
          column,
          tests:
            own && own.key.includes(column.name)
              ? own.key.length === 1
                ? KEY_TESTS
                : ['not_null']
              : undefined,
        })),
      )
    return tableYaml(
      relation,
      relation.kind === 'view'
        ? (pipeline.source.views?.find((v) => v.name === relation.name)?.description ??
            'A view over the tables, built after each run.')
        : 'A table in the dataset that thena-sync does not load.',
      relation.columns.map((column) => ({
        column,
        description: SYSTEM_COLUMN_DESCRIPTIONS[column.name],
      })),
    )
  })
  const target = pipeline.destination.dbtTarget
  const comment = [
    `thena-sync schema --dbt: pipeline ${pipeline.name}, dataset ${pipeline.dataset} in ${pipeline.destination.description}.`,
    `Save it under your dbt project's models/ (e.g. models/${pipeline.dataset}/sources.yml) and select from {{ source('${pipeline.dataset}', 'TABLE') }}.`,
    ...(target
      ? [
          `The dbt profile (profiles.yml, outputs.TARGET) reaches the warehouse with dbt-${target.adapter}:`,
          ...target.profile.map((line) => `  ${line}`),
        ]
      : []),
  ].join('\n')
  return yamlText(
    {
      version: 2,
      sources: [
        {
          name: pipeline.dataset,
          description: `Data thena-sync loads from the ${pipeline.source.name} API (pipeline \`${pipeline.name}\`).`,
          database: target?.database,
          schema: pipeline.dataset,
          tables: relations,
        },
      ],
    },
    comment,
  )
}
