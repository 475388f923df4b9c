import { Command } from 'commander'
import { ConfigError } from '../errors.js'
import { parseMetricsPort } from '../observe/metrics-server.js'
import type { MetricsListen } from '../observe/metrics-server.js'
import type { SchedulerEvent } from '../schedule/scheduler.js'
import { selectPipelines } from './common.js'
import type { PipelineFlags } from './common.js'
import { EXIT_CODES } from './exit-codes.js'
import type { ExitCode } from './exit-codes.js'
import { logDestination } from './output.js'
import { printRun } from './run-command.js'

/**
 * `thena-sync schedule`: a foreground daemon running each pipeline on its cron expressions
 * (`schedule.cron` for `run`, `schedule.reconcile` for `reconcile`). SIGTERM/SIGINT let the
 * run in progress commit its batch, then exit 0.
 */
export function scheduleCommand(setExitCode: (code: ExitCode) => void): Command {
  return new Command('schedule')
    .description('run each pipeline on its cron schedule until SIGTERM/SIGINT')
    .option('--pipeline <name>', 'schedule only this pipeline')
    .option('--config <path>', 'config file (default ./pipelines.config.ts)')
    .option(
      '--metrics-port <port>',
      'serve /metrics and /healthz on this port (THENA_METRICS_PORT)',
    )
    .option(
      '--metrics-host <host>',
      'address of --metrics-port (THENA_METRICS_HOST; default 127.0.0.1)',
    )
    .action(async (flags: ScheduleFlags) => {
      const [{ default: pino }, { Scheduler, jobsOf }, { createReporter }, observe] =
        await Promise.all([
          import('pino'),
          import('../schedule/scheduler.js'),
          import('./reporter.js'),
          import('../observe/schedule-observer.js'),
        ])
      const listen = metricsListen(flags, process.env)
      const pipelines = await selectPipelines(flags)
      const jobs = pipelines.flatMap(jobsOf)
      if (jobs.length === 0)
        throw new ConfigError(
          `schedule: no pipeline has a schedule; set THENA_SCHEDULE (e.g. "0,30 * * * *") or pipelines.<name>.schedule.cron in pipelines.config.ts`,
        )
      const log = pino(
        { base: undefined, timestamp: pino.stdTimeFunctions.isoTime },
        logDestination(),
      )
      const onEvent = (event: SchedulerEvent) => {
        const { job } = event
        const where = { pipeline: job.pipeline.name, mode: job.mode }
        if (event.kind === 'scheduled')
          log.info({
            event: 'scheduled',
            ...where,
            cron: job.cron,
            timezone: job.timezone,
            next: event.next,
          })
        else if (event.kind === 'skipped')
          log.info({ event: 'skipped', ...where, reason: event.reason })
        else printRun(job.pipeline, event.result)
        observer.onEvent(event)
      }
      const scheduler = new Scheduler(jobs, onEvent, (job) => {
        const reporter = createReporter(job.pipeline.name, false)
        return {
          onProgress: (e) => {
            reporter.progress(e)
            observer.committed(job.pipeline.name, e.resource)
          },
          onWait: (e) => reporter.wait(e),
          onNotice: (e) => reporter.notice(e),
        }
      })
      const stopped = new Promise<void>((resolve) => {
        const onSignal = (signal: NodeJS.Signals) => {
          process.off('SIGINT', onSignal)
          process.off('SIGTERM', onSignal)
          // A second signal does not wait for the batch in progress.
          process.once('SIGINT', () => process.exit(EXIT_CODES.interrupted))
          process.once('SIGTERM', () => process.exit(EXIT_CODES.interrupted))
          log.info({ event: 'stopping', signal })
          void scheduler.stop().then(resolve)
        }
        process.on('SIGINT', onSignal)
        process.on('SIGTERM', onSignal)
      })
      // Before the first tick: a port in use ends the daemon (exit 2) before any run.
      const observer = await observe.observeSchedule(pipelines, scheduler, listen, log)
      scheduler.start()
      await stopped
      await observer.close()
      log.info({ event: 'stopped' })
      setExitCode(EXIT_CODES.ok)
    })
}

interface ScheduleFlags extends PipelineFlags {
  readonly metricsPort?: string
  readonly metricsHost?: string
}

/** Where to serve metrics: the flags over `THENA_METRICS_PORT`/`_HOST`; none without a port. */
function metricsListen(flags: ScheduleFlags, env: NodeJS.ProcessEnv): MetricsListen | undefined {
  const fromEnv = flags.metricsPort === undefined
  const port = flags.metricsPort ?? env.THENA_METRICS_PORT
  if (port === undefined || port === '') {
    if (flags.metricsHost !== undefined)
      throw new ConfigError('--metrics-host: needs --metrics-port (or THENA_METRICS_PORT) too')
    return undefined
  }
  const portField = fromEnv ? 'THENA_METRICS_PORT' : '--metrics-port'
  const hostFromEnv = flags.metricsHost === undefined && !!env.THENA_METRICS_HOST
  return {
    port: parseMetricsPort(port, portField),
    host: flags.metricsHost ?? (env.THENA_METRICS_HOST || '127.0.0.1'),
    portField,
    hostField: hostFromEnv ? 'THENA_METRICS_HOST' : '--metrics-host',
  }
}
