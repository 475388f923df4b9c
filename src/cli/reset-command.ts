import { Command } from 'commander'
import { ConfigError } from '../errors.js'
import { selectPipelines } from './common.js'
import type { PipelineFlags } from './common.js'

interface ResetFlags extends PipelineFlags {
  readonly resource?: string[]
  readonly all?: boolean
  readonly dropTables?: boolean
  readonly yes?: boolean
}

/**
 * `thena-sync reset`: named resources (or `--all`) start over at their next run; with
 * `--drop-tables --yes` their tables are dropped and created again. Never prompts.
 */
export function resetCommand(): Command {
  return new Command('reset')
    .description(
      'make resources start over: forget their saved cursor (and with --drop-tables, their tables)',
    )
    .option('--pipeline <name>', 'reset only this pipeline (default: all)')
    .option('--config <path>', 'config file (default ./pipelines.config.ts)')
    .option('--resource <name...>', 'the resources to reset')
    .option('--all', 'reset every resource of the pipeline')
    .option(
      '--drop-tables',
      "also drop the resources' tables and child tables, with their rows (needs --yes)",
    )
    .option('--yes', 'confirm --drop-tables (reset never asks)')
    .action(async (flags: ResetFlags) => {
      // A reset needs the warehouse, not the API.
      const pipelines = await selectPipelines(flags, { secrets: false })
      const namesOf = (p: (typeof pipelines)[number]) => p.resources.map((r) => r.name)
      if (flags.all && flags.resource)
        throw new ConfigError(
          '--all: name resources with --resource or reset all with --all, not both',
        )
      if (!flags.all && !flags.resource)
        throw new ConfigError(
          `--resource: say which resources to reset (known: ${[...new Set(pipelines.flatMap(namesOf))].join(', ')}), or --all for every one`,
        )
      for (const pipeline of pipelines) {
        const known = namesOf(pipeline)
        for (const name of flags.resource ?? [])
          if (!known.includes(name))
            throw new ConfigError(
              `--resource: no resource \`${name}\` in ${pipeline.name}; known: ${known.join(', ')}`,
            )
      }
      if (flags.dropTables && !flags.yes)
        throw new ConfigError(
          '--drop-tables: deletes the tables of the reset resources and every row in them; add --yes to confirm (reset never asks)',
        )
      // Loaded here: `--help` starts without the engine.
      const { resetPipeline } = await import('../pipeline/reset-pipeline.js')
      for (const pipeline of pipelines) {
        const result = await resetPipeline(pipeline, {
          resources: flags.resource ?? namesOf(pipeline),
          dropTables: flags.dropTables === true,
        })
        const dropped = result.droppedTables
        console.log(
          `${pipeline.name}: reset ${result.resources.join(', ')}` +
            ` (${result.cleared.length > 0 ? `saved state cleared: ${result.cleared.join(', ')}` : 'no saved state'})` +
            (flags.dropTables
              ? dropped.length > 0
                ? `, dropped ${dropped.length} tables: ${dropped.join(', ')}`
                : ', no tables to drop'
              : '') +
            ` [load ${result.loadId}] -> ${pipeline.destination.description}; the next run loads them from the start`,
        )
      }
    })
}
