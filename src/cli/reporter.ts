import cliProgress from 'cli-progress'
import { pino } from 'pino'
import type { WaitEvent } from '../http/wait-policy.js'
import type { NoticeEvent, ProgressEvent, RunResult } from '../pipeline/run-pipeline.js'
import { logDestination } from './output.js'

/** Shows a run's progress: bars on a terminal, one structured log line per event otherwise. */
export interface Reporter {
  progress(event: ProgressEvent): void
  /** A long wait begins: one line with its reason and when it ends. */
  wait(event: WaitEvent): void
  /** Something the run chose or skipped that the user should know (one line). */
  notice(event: NoticeEvent): void
  finish(result: RunResult): void
}

/** Bars on a TTY, JSON log lines (pino, on stderr) otherwise. */
export function createReporter(pipeline: string, tty = Boolean(process.stderr.isTTY)): Reporter {
  if (!tty) {
    const log = pino(
      { base: { pipeline }, timestamp: pino.stdTimeFunctions.isoTime },
      logDestination(),
    )
    return {
      progress: (e) =>
        log.info({
          event: 'batch',
          resource: e.resource,
          pages: e.pages,
          records: e.records,
          ...(e.unchanged > 0 && { unchanged: e.unchanged }),
          done: e.done,
          ...(e.etaSeconds !== undefined && { etaSeconds: e.etaSeconds }),
        }),
      wait: (e) =>
        log.info(
          {
            event: 'wait',
            reason: e.reason,
            ...(e.until && { seconds: e.seconds, until: e.until.toISOString() }),
          },
          waitLine(e),
        ),
      notice: (e) =>
        log.info({ event: 'notice', resource: e.resource }, `${e.resource}: ${e.message}`),
      finish: (r) =>
        log.info({
          event: 'run',
          loadId: r.loadId,
          status: r.status,
          records: r.records,
          ...(r.unchanged > 0 && { unchanged: r.unchanged }),
          rejects: r.rejects,
          requests: r.requests,
          retries: r.retries,
          rateLimited: r.rateLimited,
          seconds: r.seconds,
          ...(r.deleted ? { deleted: r.deleted } : {}),
        }),
    }
  }
  const bars = new cliProgress.MultiBar(
    {
      format: ' {resource} | {records} records | {pages} pages | {state}',
      hideCursor: true,
      clearOnComplete: false,
      stream: process.stderr,
    },
    cliProgress.Presets.shades_classic,
  )
  const byResource = new Map<string, cliProgress.SingleBar>()
  return {
    progress(e) {
      let bar = byResource.get(e.resource)
      if (!bar) byResource.set(e.resource, (bar = bars.create(1, 0, {})))
      bar.update(e.done ? 1 : 0, {
        resource: e.resource.padEnd(14),
        records: String(e.records).padStart(8),
        pages: String(e.pages).padStart(5),
        state: e.done
          ? 'done'
          : e.etaSeconds !== undefined
            ? `loading, about ${formatDuration(e.etaSeconds)} left`
            : 'loading',
      })
    },
    wait(e) {
      // Bars only print logged lines while they are drawn: before the first one, it is written.
      if (bars.isActive) bars.log(`${waitLine(e)}\n`)
      else process.stderr.write(`${waitLine(e)}\n`)
    },
    notice(e) {
      const line = `${e.resource}: ${e.message}\n`
      if (bars.isActive) bars.log(line)
      else process.stderr.write(line)
    },
    finish() {
      bars.stop()
    },
  }
}

const waitLine = (e: WaitEvent): string =>
  e.until
    ? `waiting ${formatDuration(e.seconds ?? 0)}, until ${e.until.toISOString()}: ${e.reason}`
    : `waiting, for as long as it takes: ${e.reason}`

const formatDuration = (seconds: number): string =>
  seconds < 90
    ? `${seconds} s`
    : seconds < 5400
      ? `${Math.round(seconds / 60)} min`
      : `${(seconds / 3600).toFixed(1)} h`
