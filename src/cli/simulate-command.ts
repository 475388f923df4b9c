import { Command, InvalidArgumentError, Option } from 'commander'
import type { SimulatorOptions } from '../../sources/thena/simulator/index.js'
import { CURSOR_LOCATIONS, PAGING_MODES } from '../../sources/thena/simulator/simulator-options.js'

const integer = (name: string) => (value: string) => {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0)
    throw new InvalidArgumentError(`Expected \`${name}\` to be a whole number, got \`${value}\``)
  return n
}

function jsonOptions(value: string): SimulatorOptions {
  try {
    return JSON.parse(value) as SimulatorOptions
  } catch {
    throw new InvalidArgumentError('Expected `--options` to be a JSON object of simulator options')
  }
}

/** `thena-sync simulate`: serve a local Thena-compatible API until SIGINT/SIGTERM. */
export function simulateCommand(): Command {
  return new Command('simulate')
    .description('serve a local Thena-compatible API (no token or network needed)')
    .option('--port <n>', 'TCP port; 0 picks a free one (default 0)', integer('--port'))
    .option('--seed <s>', 'seed for every generated value (default 1)', integer('--seed'))
    .option('--records <n>', 'number of requests (default 1000)', integer('--records'))
    .option('--users <n>', 'number of users (default 40)', integer('--users'))
    .option('--token <token>', 'bearer token to accept (default sim-token)')
    .addOption(new Option('--paging <mode>', 'paging of the request lists').choices(PAGING_MODES))
    .addOption(
      new Option('--cursor-location <where>', 'where next_cursor sits').choices(CURSOR_LOCATIONS),
    )
    .option(
      '--rate-limit <n>',
      'requests per window (default 60 per minute)',
      integer('--rate-limit'),
    )
    .option('--rate-window-ms <ms>', 'rate-limit window', integer('--rate-window-ms'))
    .option('--no-rate-limit', 'serve without any rate limit')
    .option(
      '--options <json>',
      'any other simulator option, as JSON (see docs/simulator.md)',
      jsonOptions,
    )
    .option('--json', 'print the address as one JSON line (for scripts)')
    .action(async (flags: Record<string, unknown>) => {
      const extra = (flags.options as SimulatorOptions | undefined) ?? {}
      const given = (key: string) => (flags[key] === undefined ? {} : { [key]: flags[key] })
      const options: SimulatorOptions = {
        ...extra,
        ...given('port'),
        ...given('seed'),
        ...given('records'),
        ...given('token'),
        ...given('users'),
        paging: {
          ...extra.paging,
          ...(flags.paging !== undefined && { mode: flags.paging as 'cursor' | 'page' }),
          ...(flags.cursorLocation !== undefined && {
            cursorLocation: flags.cursorLocation as 'data' | 'top',
          }),
        },
      }
      if (flags.rateLimit === false) options.rateLimit = false
      else if (flags.rateLimit !== undefined || flags.rateWindowMs !== undefined) {
        options.rateLimit = {
          ...(typeof extra.rateLimit === 'object' ? extra.rateLimit : {}),
          ...(typeof flags.rateLimit === 'number' && { limit: flags.rateLimit }),
          ...(flags.rateWindowMs !== undefined && { windowMs: flags.rateWindowMs as number }),
        }
      }
      const { startSimulator } = await import('../../sources/thena/simulator/index.js')
      const sim = await startSimulator(options)
      if (flags.json) {
        console.log(JSON.stringify({ url: sim.url, token: sim.token, adminToken: sim.adminToken }))
      } else {
        console.log(
          `Thena simulator: ${sim.options.records} requests, seed ${sim.options.seed}, listening on ${sim.url}`,
        )
        console.log(`  export THENA_BASE_URL=${sim.url}`)
        console.log(`  export THENA_API_TOKEN=${sim.token}`)
        console.log(
          `  admin routes (/__admin/mutations, /__admin/truth, /__admin/counters): Bearer ${sim.adminToken}`,
        )
        console.log('Press Ctrl-C to stop.')
      }
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve)
        process.once('SIGTERM', resolve)
      })
      await sim.stop()
    })
}
