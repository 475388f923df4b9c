import { Command } from 'commander'
import { ConfigError } from '../errors.js'
import type { ResolvedPipeline } from '../config/resolve-pipeline.js'
import type { RunOptions, RunResult } from '../pipeline/run-pipeline.js'
import { exitCodeOf, interruptSignal, selectPipelines } from './common.js'
import type { PipelineFlags } from './common.js'
import { EXIT_CODES } from './exit-codes.js'
import { visible } from './output.js'
import type { ExitCode } from './exit-codes.js'

/** Prints a run's summary on stdout and its error, if any, as one line on stderr. */
export function printRun(pipeline: ResolvedPipeline, result: RunResult): void {
  const width = Math.max(16, ...result.resources.map((r) => r.resource.length))
  for (const r of result.resources) {
    if (r.skipped) {
      console.log(`  ${r.resource.padEnd(width)} ${visible(r.skipped)}`)
      continue
    }
    console.log(
      `  ${r.resource.padEnd(width)} ${String(r.records).padStart(8)} records ${String(r.pages).padStart(6)} pages${r.unchanged ? `  ${r.unchanged} unchanged` : ''}${r.rejects ? `  ${r.rejects} rejected` : ''}`,
    )
  }
  console.log(
    `${pipeline.name}: ${result.status} — ${result.records} records, ` +
      (result.unchanged ? `${result.unchanged} unchanged, ` : '') +
      `${result.rejects} rejected, ` +
      (result.deleted ? `${result.deleted} soft-deleted, ` : '') +
      `${result.requests} requests (${result.retries} retries, ${result.rateLimited} rate-limited) in ${result.seconds.toFixed(1)} s` +
      (result.loadId ? ` [load ${result.loadId}] -> ${pipeline.destination.description}` : ''),
  )
  if (result.error) console.error(`thena-sync: ${pipeline.name}: ${visible(result.error.message)}`)
}

/** What to run: the mode and its scope (everything but the signal and progress callback). */
export type RunRequest = Omit<RunOptions, 'signal' | 'onProgress' | 'onWait' | 'onNotice'>

/** Runs pipelines one after the other; the exit code is the first failure's. */
export async function runPipelines(
  pipelines: readonly ResolvedPipeline[],
  request: RunRequest = {},
): Promise<ExitCode> {
  // Loaded here, not at the top, so that `--help`, `query` and `status` start without the
  // engine, the HTTP client and the progress bars.
  const [{ runPipeline }, { createReporter }, { notifyRun }] = await Promise.all([
    import('../pipeline/run-pipeline.js'),
    import('./reporter.js'),
    import('../observe/run-notifier.js'),
  ])
  const interrupt = interruptSignal()
  let code: ExitCode = EXIT_CODES.ok
  try {
    for (const pipeline of pipelines) {
      const reporter = createReporter(pipeline.name)
      const result = await runPipeline(pipeline, {
        signal: interrupt.signal,
        onProgress: (e) => reporter.progress(e),
        onWait: (e) => reporter.wait(e),
        onNotice: (e) => reporter.notice(e),
        ...request,
      })
      reporter.finish(result)
      printRun(pipeline, result)
      await notifyRun(pipeline, result, (line) => console.error(`thena-sync: ${line}`))
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

/** `thena-sync reconcile`: re-read everything; rows gone from the source are soft-deleted. */
export function reconcileCommand(setExitCode: (code: ExitCode) => void): Command {
  return new Command('reconcile')
    .description(
      're-read every resource completely; rows no longer in the source get _thena_deleted_at',
    )
    .option('--pipeline <name>', 'reconcile only this pipeline')
    .option('--config <path>', 'config file (default ./pipelines.config.ts)')
    .option(
      '--allow-mass-delete',
      'the deletions are real: soft-delete even all of a table, or more than reconcile.maxDeleteShare of it',
    )
    .action(async (flags: PipelineFlags & { allowMassDelete?: boolean }) =>
      setExitCode(
        await runPipelines(await selectPipelines(flags), {
          mode: 'reconcile',
          ...(flags.allowMassDelete && { allowMassDelete: true }),
        }),
      ),
    )
}

interface BackfillFlags extends PipelineFlags {
  readonly resource?: string[]
  readonly from?: string
  readonly to?: string
}

/** `thena-sync backfill`: reload a created-at range (or everything); never moves the cursor. */
export function backfillCommand(setExitCode: (code: ExitCode) => void): Command {
  return new Command('backfill')
    .description('reload records created in a date range (or everything) and merge them')
    .option('--pipeline <name>', 'backfill only this pipeline')
    .option('--config <path>', 'config file (default ./pipelines.config.ts)')
    .option('--resource <name...>', 'only these resources (default: all)')
    .option('--from <date>', 'created at or after (2026-01-31 or an ISO date-time)')
    .option('--to <date>', 'created before; a plain date includes that whole day')
    .action(async (flags: BackfillFlags) => {
      const from = flags.from === undefined ? undefined : parseDate(flags.from, '--from', false)
      const to = flags.to === undefined ? undefined : parseDate(flags.to, '--to', true)
      if (from && to && from >= to)
        throw new ConfigError(
          `--from: must be before --to (${flags.from} is not before ${flags.to})`,
        )
      const pipelines = await selectPipelines(flags)
      for (const pipeline of pipelines) {
        const known = pipeline.resources.map((r) => r.name)
        for (const name of flags.resource ?? []) {
          if (!known.includes(name))
            throw new ConfigError(
              `--resource: no resource \`${name}\` in ${pipeline.name}; known: ${known.join(', ')}`,
            )
        }
      }
      setExitCode(
        await runPipelines(pipelines, {
          mode: 'backfill',
          ...(flags.resource && { resources: flags.resource }),
          range: { ...(from && { from }), ...(to && { to }) },
        }),
      )
    })
}

/** `2026-01-31`, or a date-time such as `2026-01-31T12:00`, `2026-01-31T12:00:00.5+02:00`. */
const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(?:Z|[+-](\d{2}):?(\d{2}))?)?$/

/**
 * A date or date-time; a plain `--to` date means the end of that day (UTC). Impossible dates
 * (2026-02-30, month 13, hour 25) are refused: Date.parse would roll them over into the next
 * month or day.
 */
function parseDate(text: string, flag: string, endOfDay: boolean): Date {
  const bad = () =>
    new ConfigError(
      `${flag}: expected a date like 2026-01-31 or 2026-01-31T12:00:00Z, got \`${text}\``,
    )
  const m = DATE_TIME.exec(text)
  if (!m) throw bad()
  const [year, month, day, hour = 0, minute = 0, second = 0, zoneHour = 0, zoneMinute = 0] = m
    .slice(1)
    .map((part) => (part === undefined ? undefined : Number(part)))
  const calendar = new Date(Date.UTC(year!, month! - 1, day!))
  if (
    calendar.getUTCMonth() !== month! - 1 ||
    calendar.getUTCDate() !== day ||
    hour > 23 ||
    minute > 59 ||
    second > 59 ||
    zoneHour > 23 ||
    zoneMinute > 59
  )
    throw bad()
  const dateOnly = m[4] === undefined
  const ms = Date.parse(dateOnly ? `${text}T00:00:00Z` : text)
  if (Number.isNaN(ms)) throw bad()
  return new Date(dateOnly && endOfDay ? ms + 86_400_000 : ms)
}
