import { Agent, request } from 'undici'
import type { ResolvedPipeline } from '../config/resolve-pipeline.js'
import type { RunResult } from '../pipeline/run-stats.js'
import { redactor } from '../redactor.js'

/** What a notification announces. */
export const NOTIFY_EVENTS = ['run_failed', 'contract_stopped', 'schema_changed'] as const
export type NotifyEvent = (typeof NOTIFY_EVENTS)[number]

/** The JSON body POSTed to the notify URL (README, "Notifications"). Never holds a secret. */
export interface Notification {
  readonly event: NotifyEvent
  readonly pipeline: string
  /** The resource concerned: the one a contract stopped, the one whose table changed. */
  readonly resource?: string
  /** The run's load id (`_thena_loads.load_id`); null when the run wrote no load row. */
  readonly loadId: string | null
  /** One line, redacted, at most `MAX_REASON` characters. */
  readonly reason: string
  /** When the notification was made (ISO 8601). */
  readonly at: string
}

/** How deliveries are bounded. */
export interface DeliveryOptions {
  /** Attempts per notification, the first included. Default 3. */
  readonly attempts?: number
  /** Wait before the second attempt in ms, doubled for each next one. Default 250. */
  readonly backoffMs?: number
  /** Longest time all deliveries of one run may take, retries included, in ms. Default 5000. */
  readonly totalMs?: number
}

export const DEFAULT_DELIVERY = { attempts: 3, backoffMs: 250, totalMs: 5000 } as const

const MAX_REASON = 500

/** The error code of a run stopped by a `freeze` schema contract (src/normalize/normalizer.ts). */
const CONTRACT_STOP = 'schema_frozen'

const oneLine = (text: string): string => {
  const line = redactor.redact(text).replace(/\s+/g, ' ').trim()
  return line.length > MAX_REASON ? `${line.slice(0, MAX_REASON - 3)}...` : line
}

/** The notifications a run's result calls for, in order: its failure, then its schema changes. */
export function notificationsOf(result: RunResult, at: Date = new Date()): Notification[] {
  const base = {
    pipeline: result.pipeline,
    loadId: result.loadId === '' ? null : result.loadId,
    at: at.toISOString(),
  }
  const out: Notification[] = []
  if (result.status === 'failed' && result.error) {
    const stopped = result.error.code === CONTRACT_STOP
    // The contract's message begins with the resource's name (`requests: new column ...`).
    const resource = stopped ? /^([a-z_][a-z0-9_]*): /.exec(result.error.message)?.[1] : undefined
    out.push({
      event: stopped ? 'contract_stopped' : 'run_failed',
      ...base,
      ...(resource && { resource }),
      reason: oneLine(result.error.message),
    })
  }
  const byResource = new Map<string, string[]>()
  for (const c of result.schemaChanges ?? []) {
    const what =
      c.event === 'create_table'
        ? `new table ${c.table} (${c.columns.length} columns)`
        : `new column${c.columns.length === 1 ? '' : 's'} in ${c.table}: ${c.columns.join(', ')}`
    byResource.set(c.resource, [...(byResource.get(c.resource) ?? []), what])
  }
  for (const [resource, changes] of byResource)
    out.push({ event: 'schema_changed', ...base, resource, reason: oneLine(changes.join('; ')) })
  return out
}

/**
 * POSTs each notification of `result` to the pipeline's notify URL, if it has one. Each is
 * retried on a network error, a timeout, 408, 429 or 5xx, with backoff; all of them together
 * end within `totalMs`, delivered or not. Never throws: an undelivered notification is one
 * line to `onFailure`, which names where the URL came from, never the URL.
 */
export async function notifyRun(
  pipeline: Pick<ResolvedPipeline, 'notify'>,
  result: RunResult,
  onFailure: (line: string) => void,
  options: DeliveryOptions = {},
): Promise<void> {
  const target = pipeline.notify
  if (!target) return
  const notifications = notificationsOf(result)
  if (notifications.length === 0) return
  const { attempts, backoffMs, totalMs } = { ...DEFAULT_DELIVERY, ...options }
  const deadline = AbortSignal.timeout(totalMs)
  // Its own pool, closed at the end: a kept-alive socket would hold `thena-sync run` open.
  const agent = new Agent({ connect: { timeout: totalMs } })
  try {
    await Promise.all(
      notifications.map(async (n) => {
        const why = await deliver(target.url, n, agent, deadline, attempts, backoffMs)
        if (why !== undefined)
          onFailure(
            oneLine(
              `${n.pipeline}: ${n.event} notification not delivered to the URL of ${target.field}: ${why}`,
            ),
          )
      }),
    )
  } finally {
    await agent.destroy().catch(() => undefined)
  }
}

/** Delivers one notification; resolves to why it failed, or undefined once delivered. */
async function deliver(
  url: string,
  notification: Notification,
  agent: Agent,
  deadline: AbortSignal,
  attempts: number,
  backoffMs: number,
): Promise<string | undefined> {
  const body = JSON.stringify(notification)
  // undici sends no user:password written in a URL: it becomes Basic authentication here.
  const target = new URL(url)
  const credentials =
    target.username || target.password
      ? `${decodeURIComponent(target.username)}:${decodeURIComponent(target.password)}`
      : undefined
  target.username = ''
  target.password = ''
  let why = 'not tried'
  for (let attempt = 1; attempt <= attempts; attempt++) {
    if (deadline.aborted) return `${why} (gave up at the time limit after ${attempt - 1} attempts)`
    try {
      const res = await request(target, {
        method: 'POST',
        dispatcher: agent,
        headers: {
          'content-type': 'application/json',
          'user-agent': 'thena-sync',
          ...(credentials !== undefined && {
            authorization: `Basic ${Buffer.from(credentials).toString('base64')}`,
          }),
        },
        body,
        signal: deadline,
      })
      await res.body.dump().catch(() => undefined)
      if (res.statusCode >= 200 && res.statusCode < 300) return undefined
      why = `HTTP ${res.statusCode}`
      const retriable = res.statusCode >= 500 || res.statusCode === 408 || res.statusCode === 429
      if (!retriable) return `${why} (not retried)`
    } catch (error) {
      why = deadline.aborted
        ? 'no answer in time'
        : error instanceof Error
          ? ((error as { code?: string }).code ?? error.message)
          : String(error)
    }
    if (deadline.aborted) return `${why} (gave up at the time limit after ${attempt} attempts)`
    if (attempt < attempts)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, backoffMs * 2 ** (attempt - 1))
        function done() {
          clearTimeout(timer)
          deadline.removeEventListener('abort', done)
          resolve()
        }
        deadline.addEventListener('abort', done, { once: true })
      })
  }
  return `${why} (after ${attempts} attempts)`
}
