import type { ResolvedPipeline } from '../config/resolve-pipeline.js'
import type { Scheduler, SchedulerEvent } from '../schedule/scheduler.js'
import { startMetricsServer } from './metrics-server.js'
import type { MetricsListen } from './metrics-server.js'
import { RunMetrics } from './run-metrics.js'
import { notifyRun } from './run-notifier.js'
import { ScheduleHealth } from './schedule-health.js'

/** What `schedule` logs for the observer (a pino logger fits). */
export interface ObserverLog {
  info(entry: Record<string, unknown>): void
  warn(entry: Record<string, unknown>): void
}

/** The daemon's observer: metrics and health (with a port), notifications (with a URL). */
export interface ScheduleObserver {
  /** Every scheduler event, after the CLI printed it. */
  onEvent(event: SchedulerEvent): void
  /** A batch of `resource` of `pipeline` was committed. */
  committed(pipeline: string, resource: string): void
  /** Closes the server and waits for the notifications in flight (each bounded). */
  close(): Promise<void>
}

/**
 * Starts what watches a `schedule` daemon: with `listen`, the metrics server (seeding its
 * per-resource gauges from the warehouses, in the background); and, for every pipeline with a
 * notify URL, a notification after each run that failed or changed the schema.
 */
export async function observeSchedule(
  selected: readonly ResolvedPipeline[],
  scheduler: Pick<Scheduler, 'secondTickMs'>,
  listen: MetricsListen | undefined,
  log: ObserverLog,
): Promise<ScheduleObserver> {
  // Only pipelines with a cron entry are watched: the others never run here.
  const pipelines = selected.filter(
    (p) => p.schedule.cron !== undefined || p.schedule.reconcile !== undefined,
  )
  const modes = [
    ...new Set(pipelines.flatMap((p) => (p.schedule.reconcile ? ['run', 'reconcile'] : ['run']))),
  ]
  const metrics = listen ? new RunMetrics(pipelines, modes) : undefined
  const health = new ScheduleHealth(
    pipelines.map((p) => p.name),
    (p) => scheduler.secondTickMs(p),
  )
  const server = listen && metrics ? await startMetricsServer(listen, metrics, health) : undefined
  if (server) {
    log.info({ event: 'metrics', url: `${server.url}/metrics`, health: `${server.url}/healthz` })
    void metrics!.seed()
  }
  const pending = new Set<Promise<void>>()
  return {
    onEvent(event) {
      const { job } = event
      if (event.kind === 'skipped') metrics?.tickSkipped(job.pipeline.name, job.mode)
      if (event.kind !== 'finished') return
      metrics?.runFinished(job.mode, event.result)
      health.finished(event.result)
      const sent = notifyRun(job.pipeline, event.result, (line) =>
        log.warn({ event: 'notify_failed', pipeline: job.pipeline.name, reason: line }),
      ).finally(() => pending.delete(sent))
      pending.add(sent)
    },
    committed(pipeline, resource) {
      metrics?.committed(pipeline, resource)
    },
    async close() {
      await Promise.allSettled(pending)
      await server?.close()
    },
  }
}
