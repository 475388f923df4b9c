import { Command } from 'commander'
import type { ResolvedPipeline } from '../config/resolve-pipeline.js'
import { runPipeline } from '../pipeline/run-pipeline.js'
import type { RunResult } from '../pipeline/run-pipeline.js'
import { exitCodeOf, interruptSignal, selectPipelines } from './common.js'
import type { PipelineFlags } from './common.js'
import { EXIT_CODES } from './exit-codes.js'
import type { ExitCode } from './exit-codes.js'
import { redact } from './output.js'
import { createReporter } from './reporter.js'

/** Prints a run's summary on stdout and its error, if any, as one line on stderr. */
export function printRun(pipeline: ResolvedPipeline, result: RunResult): void {
  const secrets = [pipeline.http.token]
  for (const r of result.resources) {
    console.log(
      `  ${r.resource.padEnd(16)} ${String(r.records).padStart(8)} records ${String(r.pages).padStart(6)} pages${r.rejects ? `  ${r.rejects} rejected` : ''}`,
    )
  }
  console.log(
    `${pipeline.name}: ${result.status} — ${result.records} records, ${result.rejects} rejected, ` +
      `${result.requests} requests (${result.retries} retries, ${result.rateLimited} rate-limited) in ${result.seconds.toFixed(1)} s` +
      (result.loadId ? ` [load ${result.loadId}] -> ${pipeline.destination.description}` : ''),
  )
  if (result.error)
    console.error(`thena-sync: ${pipeline.name}: ${redact(result.error.message, secrets)}`)
}

/** Runs pipelines one after the other; the exit code is the first failure's. */
export async function runPipelines(
  pipelines: readonly ResolvedPipeline[],
  command = 'run',
): Promise<ExitCode> {
  const interrupt = interruptSignal()
  let code: ExitCode = EXIT_CODES.ok
  try {
    for (const pipeline of pipelines) {
      const reporter = createReporter(pipeline.name)
      const result = await runPipeline(pipeline, {
        signal: interrupt.signal,
        onProgress: (e) => reporter.progress(e),
        command,
      })
      reporter.finish(result)
      printRun(pipeline, result)
      if (code === EXIT_CODES.ok) code = exitCodeOf(result)
      if (result.status === 'interrupted') break
    }
  } finally {
    interrupt.dispose()
  }
  return code
}

/** `thena-sync run`: an incremental run of one or all pipelines. */
export function runCommand(setExitCode: (code: ExitCode) => void): Command {
  return new Command('run')
    .description('incremental run of one or all pipelines')
    .option('--pipeline <name>', 'run only this pipeline')
    .option('--config <path>', 'config file (default ./pipelines.config.ts)')
    .action(async (flags: PipelineFlags) =>
      setExitCode(await runPipelines(await selectPipelines(flags))),
    )
}
