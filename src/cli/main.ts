import { Command, CommanderError } from 'commander'
import { ThenaSyncError } from '../errors.js'
import { EXIT_CODES } from './exit-codes.js'
import { simulateCommand } from './simulate-command.js'

/** Builds the `thena-sync` command tree. */
export function buildProgram(): Command {
  return new Command('thena-sync')
    .description('Load Thena support data into DuckDB or Postgres and keep it fresh.')
    .exitOverride()
    .showHelpAfterError('(run `thena-sync --help` for the commands)')
    .addCommand(simulateCommand())
}

/** Runs the CLI and resolves to its exit code; errors become one line on stderr. */
export async function main(argv: readonly string[]): Promise<number> {
  try {
    await buildProgram().parseAsync([...argv])
    return EXIT_CODES.ok
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? EXIT_CODES.ok : EXIT_CODES.usage
    }
    if (error instanceof ThenaSyncError) {
      console.error(`thena-sync: ${error.message}`)
      return error.code === 'config_invalid' ? EXIT_CODES.usage : EXIT_CODES.failed
    }
    console.error(`thena-sync: ${error instanceof Error ? error.message : String(error)}`)
    return EXIT_CODES.internal
  }
}
