import { Command, InvalidArgumentError, Option } from 'commander'
import type { SimulatorOptions } from '../../sources/thena/simulator/index.js'
import { CURSOR_LOCATIONS, PAGING_MODES } from '../../sources/thena/simulator/simulator-options.js'
import type { PlatformSimulatorOptions } from '../../sources/thena-platform/simulator/index.js'
import type { WorkflowsSimulatorOptions } from '../../sources/thena-workflows/simulator/index.js'

const integer = (name: string) => (value: string) => {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0)
    throw new InvalidArgumentError(`Expected \`${name}\` to be a whole number, got \`${value}\``)
  return n
}

/** A JSON object of one simulator's options (`--options`, `--platform-options`, ...). */
const jsonOptions = (flag: string) => (value: string) => {
  let parsed: unknown
  try {
    parsed = JSON.parse(value)
  } catch {
    parsed = undefined
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new InvalidArgumentError(`Expected \`${flag}\` to be a JSON object of simulator options`)
  return parsed as Record<string, unknown>
}

interface SimulateFlags {
  port?: number
  seed?: number
  records?: number
  users?: number
  token?: string
  tickets?: number
  apiKey?: string
  paging?: 'cursor' | 'page'
  cursorLocation?: 'data' | 'top'
  rateLimit?: number | false
  rateWindowMs?: number
  options?: SimulatorOptions
  platformOptions?: PlatformSimulatorOptions
  workflowsOptions?: WorkflowsSimulatorOptions
  json?: boolean
}

/** The rate limit the flags ask for, over the JSON options' own (`false`: none). */
function rateLimitOf(
  flags: SimulateFlags,
  own: unknown,
): { rateLimit?: false | Record<string, unknown> } {
  if (flags.rateLimit === false) return { rateLimit: false }
  if (flags.rateLimit === undefined && flags.rateWindowMs === undefined) return {}
  return {
    rateLimit: {
      ...(typeof own === 'object' && own !== null ? own : {}),
      ...(typeof flags.rateLimit === 'number' && { limit: flags.rateLimit }),
      ...(flags.rateWindowMs !== undefined && { windowMs: flags.rateWindowMs }),
    },
  }
}

/**
 * `thena-sync simulate`: the three Thena APIs on local ports until SIGINT/SIGTERM: bolt on
 * `--port`, the Platform API on the next port and the Workflows API on the one after (free
 * ports when `--port` is 0), each with its own switches.
 */
export function simulateCommand(): Command {
  return new Command('simulate')
    .description(
      'serve local Thena-compatible APIs: bolt, Platform and Workflows (no token or network needed)',
    )
    .option(
      '--port <n>',
      'TCP port of bolt; Platform and Workflows take the next two; 0 picks free ones (default 0)',
      integer('--port'),
    )
    .option('--seed <s>', 'seed for every generated value (default 1)', integer('--seed'))
    .option('--records <n>', 'number of bolt requests (default 1000)', integer('--records'))
    .option('--users <n>', 'number of bolt users (default 40)', integer('--users'))
    .option('--token <token>', 'bolt bearer token to accept (default sim-token)')
    .option('--tickets <n>', 'number of Platform tickets (default 200)', integer('--tickets'))
    .option(
      '--api-key <key>',
      'Platform and Workflows x-api-key to accept (default sim-platform-key)',
    )
    .addOption(
      new Option('--paging <mode>', 'paging of the bolt request lists').choices(PAGING_MODES),
    )
    .addOption(
      new Option('--cursor-location <where>', 'where bolt next_cursor sits').choices(
        CURSOR_LOCATIONS,
      ),
    )
    .option(
      '--rate-limit <n>',
      'requests per window, each API (default 60 per minute)',
      integer('--rate-limit'),
    )
    .option('--rate-window-ms <ms>', 'rate-limit window', integer('--rate-window-ms'))
    .option('--no-rate-limit', 'serve without any rate limit')
    .option(
      '--options <json>',
      'any other bolt simulator option, as JSON (see docs/simulator.md)',
      jsonOptions('--options'),
    )
    .option(
      '--platform-options <json>',
      'any Platform simulator option, as JSON (see docs/simulator-platform.md)',
      jsonOptions('--platform-options'),
    )
    .option(
      '--workflows-options <json>',
      'any Workflows simulator option, as JSON (see docs/simulator-workflows.md)',
      jsonOptions('--workflows-options'),
    )
    .option('--json', 'print the addresses as one JSON line (for scripts)')
    .action(async (flags: SimulateFlags) => {
      const extra = flags.options ?? {}
      const given = <K extends keyof SimulateFlags>(key: K, as: string = key) =>
        flags[key] === undefined ? {} : { [as]: flags[key] }
      const bolt: SimulatorOptions = {
        ...extra,
        ...given('port'),
        ...given('seed'),
        ...given('records'),
        ...given('token'),
        ...given('users'),
        paging: {
          ...extra.paging,
          ...(flags.paging !== undefined && { mode: flags.paging }),
          ...(flags.cursorLocation !== undefined && { cursorLocation: flags.cursorLocation }),
        },
        ...rateLimitOf(flags, extra.rateLimit),
      }
      // Ports after bolt's, when one is asked for.
      const port = (n: number) => (flags.port ? { port: flags.port + n } : {})
      const platformOptions = flags.platformOptions ?? {}
      const platform = {
        ...platformOptions,
        ...port(1),
        ...given('seed'),
        ...given('tickets'),
        ...given('apiKey'),
        ...rateLimitOf(flags, platformOptions.rateLimit),
      } as PlatformSimulatorOptions
      const workflowsOptions = flags.workflowsOptions ?? {}
      const workflows = {
        ...workflowsOptions,
        ...port(2),
        ...given('seed'),
        ...given('apiKey'),
        ...rateLimitOf(flags, workflowsOptions.rateLimit),
      } as WorkflowsSimulatorOptions
      const [{ startSimulator }, { startPlatformSimulator }, { startWorkflowsSimulator }] =
        await Promise.all([
          import('../../sources/thena/simulator/index.js'),
          import('../../sources/thena-platform/simulator/index.js'),
          import('../../sources/thena-workflows/simulator/index.js'),
        ])
      const sim = await startSimulator(bolt)
      const started: { close(): Promise<void> }[] = [{ close: () => sim.stop() }]
      try {
        const p = await startPlatformSimulator(platform)
        started.push(p)
        const w = await startWorkflowsSimulator(workflows)
        started.push(w)
        if (flags.json) {
          console.log(
            JSON.stringify({
              url: sim.url,
              token: sim.token,
              adminToken: sim.adminToken,
              platform: { url: p.url, apiKey: p.apiKey, adminToken: p.adminToken },
              workflows: { url: w.url, apiKey: w.apiKey, adminToken: w.adminToken },
            }),
          )
        } else {
          console.log(
            `Thena simulators, seed ${sim.options.seed}: bolt (${sim.options.records} requests) on ${sim.url}, Platform (${p.options.tickets} tickets) on ${p.url}, Workflows on ${w.url}`,
          )
          console.log(`  export THENA_BASE_URL=${sim.url}`)
          console.log(`  export THENA_API_TOKEN=${sim.token}`)
          console.log(`  export THENA_PLATFORM_BASE_URL=${p.url}`)
          console.log(`  export THENA_WORKFLOWS_BASE_URL=${w.url}`)
          console.log(`  export THENA_PLATFORM_API_KEY=${p.apiKey}`)
          console.log(
            `  admin routes (/__admin/mutations, /__admin/truth): bolt Bearer ${sim.adminToken}; Platform and Workflows Bearer ${p.adminToken}`,
          )
          console.log('Press Ctrl-C to stop.')
        }
        await new Promise<void>((resolve) => {
          process.once('SIGINT', resolve)
          process.once('SIGTERM', resolve)
        })
      } finally {
        for (const s of started.reverse()) await s.close()
      }
    })
}
