import { Counter, Gauge, Histogram, Registry } from 'prom-client'
import type { ResolvedPipeline } from '../config/resolve-pipeline.js'
import type { RunResult } from '../pipeline/run-stats.js'

/**
 * Buckets of `thena_sync_run_duration_seconds`: a quiet incremental run takes seconds, a first
 * load or a reconcile of a large account hours.
 */
export const RUN_DURATION_BUCKETS = [
  1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400, 28800,
] as const

/** The longest a scrape waits for the warehouse read that seeds the per-resource gauges. */
const SEED_WAIT_MS = 2000

/**
 * The metrics of `thena-sync schedule`, in a registry of their own. Labels are the pipeline's
 * name, the run's mode and status, and resource names: all fixed by the config, never a load
 * id, a record value or a secret.
 */
export class RunMetrics {
  readonly registry = new Registry()
  readonly #runs: Counter<'pipeline' | 'mode' | 'status'>
  readonly #skipped: Counter<'pipeline' | 'mode'>
  readonly #records: Counter<'pipeline'>
  readonly #unchanged: Counter<'pipeline'>
  readonly #rejects: Counter<'pipeline'>
  readonly #requests: Counter<'pipeline'>
  readonly #retries: Counter<'pipeline'>
  readonly #rateLimited: Counter<'pipeline'>
  readonly #duration: Histogram<'pipeline' | 'mode'>
  readonly #lastCommit: Gauge<'pipeline' | 'resource'>
  /** Epoch ms of the last commit per pipeline and resource (`pipeline\0resource`). */
  readonly #commits = new Map<string, { pipeline: string; resource: string; at: number }>()
  /** Pipelines whose gauges are not seeded from the warehouse yet. */
  readonly #unseeded: Set<ResolvedPipeline>
  #seeding: Promise<void> | undefined

  constructor(pipelines: readonly ResolvedPipeline[], modes: readonly string[] = ['run']) {
    const registers = [this.registry]
    const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
      new Counter<L>({ name: `thena_sync_${name}`, help, labelNames, registers })
    this.#runs = counter('runs_total', 'Finished runs, by outcome.', ['pipeline', 'mode', 'status'])
    this.#skipped = counter('skipped_ticks_total', 'Cron ticks skipped: the pipeline was busy.', [
      'pipeline',
      'mode',
    ])
    this.#records = counter('records_merged_total', 'Records merged into the warehouse.', [
      'pipeline',
    ])
    this.#unchanged = counter(
      'records_unchanged_total',
      'Records re-read unchanged since loaded, so not merged again.',
      ['pipeline'],
    )
    this.#rejects = counter('rejects_total', 'Records rejected by their contract.', ['pipeline'])
    this.#requests = counter('api_requests_total', 'HTTP requests sent to the API.', ['pipeline'])
    this.#retries = counter('api_retries_total', 'Retried API requests.', ['pipeline'])
    this.#rateLimited = counter('api_rate_limited_total', 'API answers 429 (rate limited).', [
      'pipeline',
    ])
    this.#duration = new Histogram({
      name: 'thena_sync_run_duration_seconds',
      help: 'Duration of finished runs.',
      labelNames: ['pipeline', 'mode'],
      buckets: [...RUN_DURATION_BUCKETS],
      registers,
    })
    this.#lastCommit = new Gauge({
      name: 'thena_sync_last_commit_timestamp_seconds',
      help: 'When a batch of the resource was last committed (unix seconds).',
      labelNames: ['pipeline', 'resource'],
      registers,
    })
    const commits = this.#commits
    new Gauge({
      name: 'thena_sync_data_age_seconds',
      help: "Seconds since the resource's last commit, as of the scrape.",
      labelNames: ['pipeline', 'resource'],
      registers,
      collect() {
        const now = Date.now()
        this.reset()
        for (const c of commits.values())
          this.set({ pipeline: c.pipeline, resource: c.resource }, (now - c.at) / 1000)
      },
    })
    // Every series a dashboard or an alert reads exists from the first scrape, at 0.
    for (const { name: pipeline } of pipelines) {
      for (const c of [
        this.#records,
        this.#unchanged,
        this.#rejects,
        this.#requests,
        this.#retries,
        this.#rateLimited,
      ])
        c.inc({ pipeline }, 0)
      for (const mode of modes) {
        this.#runs.inc({ pipeline, mode, status: 'success' }, 0)
        this.#runs.inc({ pipeline, mode, status: 'failed' }, 0)
      }
    }
    this.#unseeded = new Set(pipelines)
  }

  /** A run finished: its counters, its duration, its outcome. */
  runFinished(mode: string, result: RunResult): void {
    const pipeline = result.pipeline
    this.#runs.inc({ pipeline, mode, status: result.status })
    this.#duration.observe({ pipeline, mode }, result.seconds)
    this.#records.inc({ pipeline }, result.records)
    this.#unchanged.inc({ pipeline }, result.unchanged)
    this.#rejects.inc({ pipeline }, result.rejects)
    this.#requests.inc({ pipeline }, result.requests)
    this.#retries.inc({ pipeline }, result.retries)
    this.#rateLimited.inc({ pipeline }, result.rateLimited)
  }

  /** A tick found its pipeline busy (here or in another process). */
  tickSkipped(pipeline: string, mode: string): void {
    this.#skipped.inc({ pipeline, mode })
  }

  /** A batch of `resource` was committed at `at` (epoch ms); an older time is ignored. */
  committed(pipeline: string, resource: string, at: number = Date.now()): void {
    const key = `${pipeline}\u0000${resource}`
    if ((this.#commits.get(key)?.at ?? -Infinity) >= at) return
    this.#commits.set(key, { pipeline, resource, at })
    this.#lastCommit.set({ pipeline, resource }, at / 1000)
  }

  /** The exposition text, after one bounded attempt to seed the gauges still unseeded. */
  async metrics(): Promise<string> {
    await Promise.race([this.seed(), new Promise((r) => setTimeout(r, SEED_WAIT_MS).unref())])
    return this.registry.metrics()
  }

  /**
   * Seeds the per-resource gauges from each warehouse's `_thena_state`, so that a restarted
   * daemon does not report "never": opened read-only, without waiting for a turn. A warehouse
   * that is busy (a run of this process or another has the DuckDB file) or missing is tried
   * again at the next scrape; one attempt at a time.
   */
  seed(): Promise<void> {
    if (this.#unseeded.size === 0) return Promise.resolve()
    this.#seeding ??= (async () => {
      for (const pipeline of [...this.#unseeded]) {
        try {
          const session = await pipeline.destination.connect({ readOnly: true, create: false })
          try {
            const states = await session.readState(pipeline.name)
            for (const [resource, state] of states) {
              const at = state.updatedAt === undefined ? NaN : Date.parse(state.updatedAt)
              if (!Number.isNaN(at)) this.committed(pipeline.name, resource, at)
            }
          } finally {
            await session.close()
          }
          this.#unseeded.delete(pipeline)
        } catch {
          // Busy or not there yet: the next scrape tries again.
        }
      }
    })().finally(() => (this.#seeding = undefined))
    return this.#seeding
  }
}
