/**
 * What keeping Thena's Platform API fresh costs (issue 16 item 4; decisions #56-#57): on
 * 20,000 tickets with 5 comments each, the requests (in total and per route), seconds and peak
 * RSS of the first load, of a run where nothing changed, of a run after a small change, of the
 * same no-change run with tickets read through the `dateRange` window, and of a `reconcile`;
 * and what each costs of the documented 60 requests/minute tier (requests / 60 minutes). On
 * DuckDB and on Postgres. Each run is `runPipeline` of the `platform` pipeline in a process of
 * its own (platform-child.ts); the simulator runs in this one and counts what it served.
 */
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { startPlatformSimulator } from '../../sources/thena-platform/simulator/index.js'
import type { PlatformSimulator } from '../../sources/thena-platform/simulator/index.js'
import { createDatabase, startPostgres } from '../helpers/postgres-server.js'

const CHILD = new URL('./platform-child.ts', import.meta.url).pathname
const TICKETS = 20_000
const COMMENTS_PER_TICKET = 5
/** The documented standard tier (shared/reference/thena-api.md §7). */
const TIER_PER_MINUTE = 60
/** A reconcile costs about what a first load does; past this, it is measured on fewer tickets. */
const RECONCILE_BUDGET_SECONDS = 120
const RECONCILE_FALLBACK_TICKETS = 2_000
/** The page size the Platform source asks for (`limit`). */
const PAGE_LIMIT = 100

const execFileAsync = promisify(execFile)

/** What platform-child.ts prints. */
interface ChildFigures {
  requests: number
  retries: number
  records: number
  unchanged: number
  deleted: number
  resources: Record<string, { pages: number; records: number; unchanged: number }>
  seconds: number
  cpuSeconds: number
  peakRssMb: number
}

/** One measured run: the child's figures and what the simulator served for it. */
interface Row extends ChildFigures {
  label: string
  served: number
  byRoute: Record<string, number>
  byStatus: Record<string, number>
}

type Variant = 'whole' | 'window'

async function measure(
  label: string,
  sim: PlatformSimulator,
  destination: string,
  mode: 'run' | 'reconcile',
  variant: Variant = 'whole',
): Promise<Row> {
  sim.resetStats()
  // Asynchronous: the simulator answers from this process's event loop.
  const { stdout } = await execFileAsync(
    process.execPath,
    ['--import', 'tsx', CHILD, sim.url, sim.apiKey, destination, mode, variant],
    { maxBuffer: 64 * 1024 * 1024 },
  )
  const figures = JSON.parse(stdout.trim().split('\n').at(-1)!) as ChildFigures
  const { requests, byRoute, byStatus } = sim.stats
  return { ...figures, label, served: requests, byRoute: { ...byRoute }, byStatus: { ...byStatus } }
}

interface Scenario {
  destination: string
  full: Row
  noChange: Row
  changed: Row
  touched: number
  windowPrimeFull: Row
  windowPrime: Row
  windowNoChange: Row
  /** A window run after `windowTouched` new tickets (inside the window), then a no-change one. */
  windowChanged: Row
  windowTouched: number
  windowNoChangeAgain: Row
  reconcile: Row
  reconcileTickets: number
}

/** Ticket ids a mutation result touched (its own ids, and tickets bumped by comments). */
const touchedBy = (result: { op: string; ids: string[]; touchedTickets?: string[] }): string[] =>
  result.op.endsWith('Tickets') ? result.ids : (result.touchedTickets ?? [])

async function scenario(
  label: string,
  tickets: number,
  destinationFor: () => Promise<string>,
): Promise<Scenario> {
  const sim = await startPlatformSimulator({
    tickets,
    commentsPerTicket: COMMENTS_PER_TICKET,
    rateLimit: false,
  })
  try {
    const destination = await destinationFor()
    const full = await measure('first load', sim, destination, 'run')
    const noChange = await measure('no-change run', sim, destination, 'run')
    const touched = new Set<string>()
    for (const result of [
      sim.mutate({ op: 'updateTickets', count: 20 }),
      sim.mutate({ op: 'newComments', count: 30 }),
      sim.mutate({ op: 'newTickets', count: 10 }),
    ])
      for (const id of touchedBy(result)) touched.add(id)
    const changed = await measure('after 20 upd + 30 comments + 10 new', sim, destination, 'run')
    // The window variant: its first run walks the whole list (no whole walk recorded yet), the
    // next reads the window and merges its pages (their digests are the window's own), the
    // third is the steady no-change run.
    const windowPrimeFull = await measure('window: 1st (whole)', sim, destination, 'run', 'window')
    const windowPrime = await measure('window: 2nd (merges)', sim, destination, 'run', 'window')
    const windowNoChange = await measure('no-change, window', sim, destination, 'run', 'window')
    // A change inside the window, then nothing: the second run should read no comment.
    const windowTouched = sim.mutate({ op: 'newTickets', count: 10 }).ids.length
    const windowChanged = await measure('window: 10 new', sim, destination, 'run', 'window')
    const windowNoChangeAgain = await measure(
      'no-change, window, again',
      sim,
      destination,
      'run',
      'window',
    )
    let reconcile: Row
    let reconcileTickets = tickets
    if (full.seconds <= RECONCILE_BUDGET_SECONDS)
      reconcile = await measure('reconcile', sim, destination, 'reconcile')
    else {
      // Too slow here: a smaller warehouse, loaded first, then reconciled unchanged.
      reconcileTickets = RECONCILE_FALLBACK_TICKETS
      reconcile = await smallReconcile(destinationFor)
    }
    console.log(`${label}: done`)
    return {
      destination: label,
      full,
      noChange,
      changed,
      touched: touched.size,
      windowPrimeFull,
      windowPrime,
      windowNoChange,
      windowChanged,
      windowTouched,
      windowNoChangeAgain,
      reconcile,
      reconcileTickets,
    }
  } finally {
    await sim.close()
  }
}

async function smallReconcile(destinationFor: () => Promise<string>): Promise<Row> {
  const sim = await startPlatformSimulator({
    tickets: RECONCILE_FALLBACK_TICKETS,
    commentsPerTicket: COMMENTS_PER_TICKET,
    rateLimit: false,
  })
  try {
    const destination = await destinationFor()
    await measure('load for reconcile', sim, destination, 'run')
    return await measure(
      `reconcile (${RECONCILE_FALLBACK_TICKETS} tickets)`,
      sim,
      destination,
      'reconcile',
    )
  } finally {
    await sim.close()
  }
}

const route = (row: Row, name: string): number => row.byRoute[name] ?? 0
const other = (row: Row): number => row.served - route(row, 'tickets') - route(row, 'comments')
const budgetMinutes = (row: Row): number => row.served / TIER_PER_MINUTE
const thousands = (n: number): string => n.toLocaleString('en-US')
const ticketsMerged = (row: Row): number => row.resources.tickets?.records ?? 0

const rowsOf = (s: Scenario): Row[] => [
  s.full,
  s.noChange,
  s.changed,
  s.windowPrimeFull,
  s.windowPrime,
  s.windowNoChange,
  s.windowChanged,
  s.windowNoChangeAgain,
  s.reconcile,
]

function table(s: Scenario): string[] {
  const head = [
    'run',
    'requests',
    'tickets',
    'comments',
    'other',
    'merged',
    'tickets merged',
    'unchanged',
    'seconds',
    'CPU s',
    'peak RSS MB',
    'min @60/min',
  ]
  const cells = rowsOf(s).map((r) => [
    r.label,
    thousands(r.served),
    thousands(route(r, 'tickets')),
    thousands(route(r, 'comments')),
    thousands(other(r)),
    thousands(r.records),
    thousands(ticketsMerged(r)),
    thousands(r.unchanged),
    r.seconds.toFixed(2),
    r.cpuSeconds.toFixed(1),
    r.peakRssMb.toFixed(0),
    budgetMinutes(r).toFixed(1),
  ])
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)))
  const line = (c: string[]) =>
    `| ${c.map((v, i) => (i === 0 ? v.padEnd(widths[i]!) : v.padStart(widths[i]!))).join(' | ')} |`
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...cells.map(line)]
}

/** Routes other than tickets and comments where `b` made more requests than `a`. */
function extraRoutes(a: Row, b: Row): string[] {
  return Object.entries(b.byRoute)
    .filter(([name, n]) => name !== 'tickets' && name !== 'comments' && n > route(a, name))
    .map(([name, n]) => `${name} ${n} (vs ${route(a, name)})`)
}

/** What contradicts decisions #56-#57 (ODD), and what costs more than it seems to (NOTE). */
function findings(s: Scenario): string[] {
  const found: string[] = []
  for (const r of rowsOf(s)) {
    if (r.served !== r.requests)
      found.push(
        `ODD: ${r.label}: the simulator served ${r.served} requests, the run counted ${r.requests}`,
      )
    if (Object.keys(r.byStatus).some((status) => status !== '200'))
      found.push(`ODD: ${r.label}: answers other than 200: ${JSON.stringify(r.byStatus)}`)
    for (const name of ['tickets', 'comments'])
      if (route(r, name) !== (r.resources[name]?.pages ?? 0))
        found.push(
          `ODD: ${r.label}: ${route(r, name)} ${name} requests for ${r.resources[name]?.pages ?? 0} pages`,
        )
    if (r.retries > 0) found.push(`ODD: ${r.label}: ${r.retries} retries`)
  }
  for (const r of [s.noChange, s.windowNoChange, s.windowNoChangeAgain])
    if (route(r, 'comments') !== 0)
      found.push(
        `ODD: ${r.label}: ${route(r, 'comments')} comment requests where no ticket changed ` +
          `since the last run (expected 0, decisions #57)` +
          (r === s.windowNoChangeAgain
            ? ': a window pass moves no comment watermark (src/extract/parent-keys.ts progressAfter), ' +
              'so tickets changed inside the window are read again each run until a whole walk'
            : ''),
      )
  if (route(s.changed, 'comments') !== s.touched)
    found.push(
      `ODD: ${s.changed.label}: ${route(s.changed, 'comments')} comment requests for ${s.touched} touched tickets`,
    )
  if (route(s.windowChanged, 'comments') !== s.windowTouched)
    found.push(
      `ODD: ${s.windowChanged.label}: ${route(s.windowChanged, 'comments')} comment requests for ${s.windowTouched} new tickets`,
    )
  if (s.reconcile.deleted !== 0)
    found.push(`ODD: reconcile marked ${s.reconcile.deleted} rows deleted (expected 0)`)
  const ticketPages = s.noChange.resources.tickets?.pages ?? 0
  const changedTickets = s.changed.resources.tickets
  if (changedTickets && changedTickets.unchanged === 0 && changedTickets.records > 10 * s.touched)
    found.push(
      `NOTE: ${s.changed.label}: all ${thousands(changedTickets.records)} tickets merged ` +
        `(${ticketPages} pages) for ${s.touched} touched: the new tickets lead the newest-first ` +
        `list and shift every page, so no page matches its digest (it costs seconds, not requests)`,
    )
  const extra: string[] = extraRoutes(s.noChange, s.windowNoChange)
  const windowTickets = s.windowNoChange.resources.tickets
  if (
    windowTickets &&
    route(s.windowNoChange, 'tickets') >
      Math.ceil((windowTickets.unchanged + windowTickets.records) / PAGE_LIMIT)
  )
    extra.unshift(
      `tickets ${route(s.windowNoChange, 'tickets')} for ${windowTickets.unchanged + windowTickets.records} records`,
    )
  if (extra.length > 0)
    found.push(
      `NOTE: ${s.windowNoChange.label}: more requests than the whole walk on ${extra.join(', ')}: ` +
        `short first pages probe one page more while the server's page size is unlearned`,
    )
  return found
}

function summary(s: Scenario, tickets: number): string {
  const min = (r: Row) => `${budgetMinutes(r).toFixed(1)} min`
  const reconciled =
    s.reconcileTickets === tickets ? '' : ` (measured on ${thousands(s.reconcileTickets)} tickets)`
  return (
    `Platform, ${thousands(tickets)} tickets x ${COMMENTS_PER_TICKET} comments, ${s.destination}: ` +
    `first load ${thousands(s.full.served)} requests in ${s.full.seconds.toFixed(0)} s (${min(s.full)} at 60/min); ` +
    `no-change run ${thousands(s.noChange.served)} requests (${route(s.noChange, 'tickets')} ticket pages, ` +
    `${route(s.noChange, 'comments')} comments) in ${s.noChange.seconds.toFixed(1)} s = ${min(s.noChange)} of the 60/min tier; ` +
    `with the dateRange window ${thousands(s.windowNoChange.served)} requests in ${s.windowNoChange.seconds.toFixed(1)} s = ${min(s.windowNoChange)}; ` +
    `after 20 updated + 30 new comments + 10 new tickets ${thousands(s.changed.served)} requests ` +
    `(${route(s.changed, 'comments')} comments for ${s.touched} touched tickets) in ${s.changed.seconds.toFixed(1)} s; ` +
    `reconcile${reconciled} ${thousands(s.reconcile.served)} requests in ${s.reconcile.seconds.toFixed(0)} s = ${min(s.reconcile)}.`
  )
}

function report(s: Scenario, tickets: number): void {
  console.log(`### ${s.destination}`)
  for (const l of table(s)) console.log(l)
  if (s.reconcileTickets !== tickets)
    console.log(
      `reconcile measured on ${thousands(s.reconcileTickets)} tickets: the first load took ` +
        `${s.full.seconds.toFixed(0)} s (> ${RECONCILE_BUDGET_SECONDS} s), and a reconcile costs about as much`,
    )
  console.log(
    'merged: records written (ticket statuses, account attributes and teams are full_refresh, ' +
      'merged every run); unchanged: records on re-read pages equal to their committed digest; ' +
      'CPU s: of the loading process; min @60/min: requests / 60, minutes of the documented tier a run uses',
  )
  for (const l of findings(s)) console.log(l)
  console.log(summary(s, tickets))
}

/** `tickets` smaller than 20,000 for a quick look; `npm run bench` uses the issue's figure. */
export async function platformBench(tickets = TICKETS): Promise<void> {
  console.log(
    `## Platform freshness: ${thousands(tickets)} tickets x ${COMMENTS_PER_TICKET} comments, ` +
      `requests and seconds per run, and minutes of the ${TIER_PER_MINUTE}/min tier each uses`,
  )
  const dir = mkdtempSync(join(tmpdir(), 'thena-bench-platform-'))
  const server = await startPostgres()
  try {
    let n = 0
    const duckdb = await scenario('DuckDB', tickets, () =>
      Promise.resolve(`duckdb:${join(dir, `platform-${n++}.duckdb`)}`),
    )
    const postgres = await scenario('Postgres', tickets, () => createDatabase(server.url))
    report(duckdb, tickets)
    report(postgres, tickets)
  } finally {
    await server.stop()
    rmSync(dir, { recursive: true, force: true })
  }
}
