import { Command, Option } from 'commander'
import { selectPipeline } from './common.js'
import type { PipelineFlags } from './common.js'
import { OUTPUT_FORMATS, formatRows } from './output.js'
import type { OutputFormat } from './output.js'

/** `thena-sync query "SQL"`: runs SQL on the warehouse and prints the rows. */
export function queryCommand(): Command {
  return new Command('query')
    .description('run one read-only SQL statement on the loaded tables (schema `thena`)')
    .argument('<sql>', 'the query, e.g. "select status, count(*) from thena.requests group by 1"')
    .addOption(
      new Option('--format <format>', 'output format').choices(OUTPUT_FORMATS).default('table'),
    )
    .option('--pipeline <name>', 'whose warehouse to query (default: the first pipeline)')
    .option('--config <path>', 'config file (default ./pipelines.config.ts)')
    .action(async (sql: string, flags: PipelineFlags & { format: OutputFormat }) => {
      const pipeline = await selectPipeline(flags)
      const session = await pipeline.destination.connect({ readOnly: true })
      try {
        console.log(formatRows(await session.query(sql), flags.format))
      } finally {
        await session.close()
      }
    })
}
