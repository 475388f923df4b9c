import { Command, CommanderError } from 'commander'
import { ThenaSyncError } from '../errors.js'
import { EXIT_CODES } from './exit-codes.js'
import { dropOutputOfClosedReaders, outputFailure, redactProcessOutput, visible } from './output.js'
import { limitHeapGrowth } from './limit-heap-growth.js'
import { startTracing } from '../observe/start-tracing.js'
import { packageVersion } from '../version.js'

import type { ExitCode } from './exit-codes.js'
import { demoCommand } from './demo-command.js'
import { queryCommand } from './query-command.js'
import { resetCommand } from './reset-command.js'
import { backfillCommand, reconcileCommand, runCommand } from './run-command.js'
import { scheduleCommand } from './schedule-command.js'
import { schemaCommand } from './schema-command.js'
import { showCommand } from './show-command.js'
import { simulateCommand } from './simulate-command.js'
import { statusCommand } from './status-command.js'

/** Builds the `thena-sync` command tree. */
export function buildProgram(setExitCode: (code: ExitCode) => void = () => undefined): Command {
  const program = new Command('thena-sync')
    .description('Load Thena support data into DuckDB or Postgres and keep it fresh.')
    .version(packageVersion(), '-v, --version')
    .exitOverride()
    .showHelpAfterError('(run `thena-sync --help` for the commands)')
    .addCommand(runCommand(setExitCode))
    .addCommand(backfillCommand(setExitCode))
    .addCommand(reconcileCommand(setExitCode))
    .addCommand(resetCommand())
    .addCommand(scheduleCommand(setExitCode))
    .addCommand(queryCommand())
    .addCommand(statusCommand())
    .addCommand(schemaCommand())
    .addCommand(showCommand())
    .addCommand(simulateCommand())
    .addCommand(demoCommand(setExitCode))
  for (const command of program.commands) throwUsageErrors(command, 'thena-sync')
  return program
}

/**
 * `addCommand` does not pass `exitOverride` or the help hint on to subcommands: without this,
 * commander itself would exit 1 on their usage errors instead of main returning 2.
 */
function throwUsageErrors(command: Command, parent: string): void {
  const name = `${parent} ${command.name()}`
  command.exitOverride().showHelpAfterError(`(run \`${name} --help\` for its options)`)
  for (const sub of command.commands) throwUsageErrors(sub, name)
}

/** Runs the CLI and resolves to its exit code; errors become one line on stderr. */
export async function main(argv: readonly string[]): Promise<number> {
  limitHeapGrowth()
  redactProcessOutput()
  dropOutputOfClosedReaders()
  // After the output is redacted (the collector's headers are secrets too); before any span.
  const tracing = await startTracing()
  const code = await runProgram(argv)
  // Every command's spans leave before the process does: after a failure, after SIGTERM.
  await tracing?.shutdown()
  // A failed write reports its error on a later tick.
  await new Promise((resolve) => setImmediate(resolve))
  const failure = outputFailure()
  if (failure === undefined || code !== EXIT_CODES.ok) return code
  console.error(`thena-sync: ${failure}`)
  return EXIT_CODES.failed
}

async function runProgram(argv: readonly string[]): Promise<number> {
  let code: ExitCode = EXIT_CODES.ok
  try {
    await buildProgram((c) => (code = c)).parseAsync([...argv])
    return code
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? EXIT_CODES.ok : EXIT_CODES.usage
    }
    if (error instanceof ThenaSyncError) {
      // A message may quote data from the API or the database: no control reaches the terminal.
      console.error(`thena-sync: ${visible(error.message)}`)
      return error.code === 'config_invalid' ? EXIT_CODES.usage : EXIT_CODES.failed
    }
    console.error(`thena-sync: ${visible(error instanceof Error ? error.message : String(error))}`)
    return EXIT_CODES.internal
  }
}
