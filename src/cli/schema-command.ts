import { Command } from 'commander'
import { ConfigError } from '../errors.js'
import type { SchemaHistoryEntry } from '../load/destination.js'
import { timestampText } from '../load/system-tables.js'
import { readRelations } from '../load/warehouse-relations.js'
import { zodSource } from '../normalize/zod-source.js'
import { selectPipeline } from './common.js'
import { dbtSources } from './dbt-sources.js'
import type { PipelineFlags } from './common.js'
import { formatRows } from './output.js'

interface SchemaFlags extends PipelineFlags {
  readonly resource?: string
  readonly history?: boolean
  readonly zod?: boolean
  readonly dbt?: boolean
}

/** The columns `schema --history` (and `show`'s resource page) print, in order. */
export const SCHEMA_HISTORY_COLUMNS = [
  'ordinal',
  'event',
  'table_name',
  'column_name',
  'column_type',
  'source_path',
  'variant_of',
  'load_id',
  'recorded_at',
] as const

/** One schema-history entry as `schema --history` prints it: the path as JSON, times as text. */
export const schemaHistoryRow = (h: SchemaHistoryEntry) => ({
  ordinal: h.ordinal,
  event: h.event,
  table_name: h.table,
  column_name: h.column,
  column_type: h.columnType,
  source_path: JSON.stringify(h.sourcePath),
  variant_of: h.variantOf,
  load_id: h.loadId,
  recorded_at: timestampText(h.recordedAt),
})

/**
 * `thena-sync schema`: the warehouse's tables with each column's source path (the mapping from
 * API field to column), the history of changes, the evolved schema as zod source, or a dbt
 * `sources.yml` of the dataset.
 */
export function schemaCommand(): Command {
  return new Command('schema')
    .description(
      'tables and the source path of each column; --history, --zod source to pin, or --dbt sources.yml',
    )
    .option('--resource <name>', 'only this resource and its child tables')
    .option('--history', 'every table and column change, with the load that made it')
    .option('--zod', 'print the evolved schema of each resource as zod source code')
    .option('--dbt', "print a dbt sources.yml of the pipeline's dataset (every table and view)")
    .option('--pipeline <name>', 'whose warehouse (default: the first pipeline)')
    .option('--config <path>', 'config file (default ./pipelines.config.ts)')
    .action(async (flags: SchemaFlags) => {
      if (flags.dbt) {
        const other = flags.zod ? '--zod' : flags.history ? '--history' : undefined
        if (other)
          throw new ConfigError(`--dbt: prints the whole dataset on its own; drop ${other}`)
        if (flags.resource)
          throw new ConfigError(
            '--dbt: describes the whole dataset as one dbt source; drop --resource',
          )
      }
      const pipeline = await selectPipeline(flags)
      const session = await pipeline.destination.connect({ readOnly: true })
      try {
        const all = await session.readTables()
        if (flags.dbt) {
          const relations = await readRelations(session, pipeline.dataset)
          process.stdout.write(dbtSources(pipeline, { relations, tables: all }))
          return
        }
        const resources = [...new Set(all.map((t) => t.resource))]
        if (flags.resource && !resources.includes(flags.resource))
          throw new ConfigError(
            `--resource: no table for \`${flags.resource}\` in the warehouse; loaded: ${resources.join(', ') || '(none)'}`,
          )
        const tables = all.filter((t) => !flags.resource || t.resource === flags.resource)
        if (flags.zod) {
          for (const root of tables.filter((t) => !t.parent && !t.historyOf))
            console.log(zodSource(root, all))
          return
        }
        if (flags.history) {
          const rows = (await session.readSchemaHistory(flags.resource)).map(schemaHistoryRow)
          console.log(formatRows({ columns: SCHEMA_HISTORY_COLUMNS, rows }, 'table'))
          return
        }
        for (const table of tables) {
          const from = table.parent
            ? `child of ${table.parent} (array ${table.arrayPath!.join('.')})`
            : table.historyOf
              ? `versions of ${table.historyOf} (history), several rows per ${table.primaryKey}`
              : `resource ${table.resource}, key ${table.primaryKey}`
          console.log(`\n${table.name}: ${from}`)
          const rows = table.columns.map((c) => ({
            column: c.name,
            type: c.type,
            source: c.path.length > 0 ? c.path.join('.') : '(thena-sync)',
            variant_of: c.variantOf ?? '',
          }))
          console.log(
            formatRows({ columns: ['column', 'type', 'source', 'variant_of'], rows }, 'table'),
          )
        }
      } finally {
        await session.close()
      }
    })
}
