import { isTransient, TerminalError, ThenaSyncError } from '../errors.js'
import type { NormalizedBatch, Reject } from '../normalize/normalizer.js'
import type { SchemaRegistry } from '../normalize/schema-registry.js'
import type { Row, SchemaChange, TableSchema } from '../normalize/table-schema.js'
import type { ResourceState } from '../state/resource-state.js'
import { REJECTED_VALUE } from './destination.js'
import type { DestinationSession, DestinationTransaction, LoadRecord } from './destination.js'
import { jsonText } from './json-text.js'

/** Everything one commit writes: rows of one or more resources, their state, the load row. */
export interface BatchCommit {
  readonly pipeline: string
  readonly loadId: string
  readonly batches: readonly NormalizedBatch[]
  /** New state per resource, written with the rows it covers. */
  readonly states: ReadonlyMap<string, ResourceState>
  /** The load row, given the records the destination refused (quarantined by this commit). */
  readonly load: (quarantined: readonly Reject[]) => LoadRecord
}

/** What a commit writes for one batch: its tables as they are now, and the records kept. */
interface Plan {
  readonly batch: NormalizedBatch
  readonly root: TableSchema
  readonly children: readonly TableSchema[]
  /** The root's history table, when the batch holds versions for it. */
  readonly history?: TableSchema
}

/**
 * Commits a batch in one destination transaction: schema changes, root rows merged on their
 * key, child rows of those roots replaced whole, rejects, state, and the load record. A crash
 * at any instant leaves the warehouse at the previous commit. A record whose values the
 * destination refuses is found and quarantined; the others commit. Resolves to the records
 * quarantined that way.
 */
export async function commitBatch(
  session: DestinationSession,
  registry: SchemaRegistry,
  commit: BatchCommit,
): Promise<Reject[]> {
  // Everything the commit needs from the registry is copied now, synchronously: while the
  // commit runs, the next batch is normalized and may add tables and columns that this
  // transaction has not created.
  const changes = registry.takeChanges().map(snapshotChange)
  const plans: Plan[] = commit.batches.map((batch) => {
    const root = registry.table(batch.resource)!
    const history = root.history && batch.rows.has(root.history.schema.name)
    return {
      batch,
      root: snapshot(root.schema),
      children: registry.tables
        .filter((t) => t.resource === batch.resource && t.parent)
        .map(snapshot),
      ...(history && { history: snapshot(root.history!.schema) }),
    }
  })
  const write = (kept: readonly Plan[], quarantined: readonly Reject[]) =>
    retryTransient(() =>
      session.transaction(async (tx) => {
        await writeRows(tx, changes, kept, commit)
        if (quarantined.length > 0)
          await tx.writeRejects(commit.pipeline, commit.loadId, quarantined)
        for (const [resource, state] of commit.states)
          await tx.writeState(commit.pipeline, resource, state, commit.loadId)
        await tx.writeLoad(commit.load(quarantined))
      }),
    )
  try {
    await write(plans, [])
    return []
  } catch (error) {
    if (!(error instanceof ThenaSyncError) || error.code !== REJECTED_VALUE) throw error
    const quarantined = await refusedRecords(session, changes, plans, commit, error)
    const refused = new Set(quarantined.map((r) => `${r.resource}\u0000${r.recordId}`))
    await write(
      plans.map((plan) => without(plan, (id) => refused.has(`${plan.batch.resource}\u0000${id}`))),
      quarantined,
    )
    return quarantined
  }
}

/**
 * Schema changes, root rows merged (and versioned, with `history`), child rows replaced, and
 * the batch's own rejects.
 */
async function writeRows(
  tx: DestinationTransaction,
  changes: readonly SchemaChange[],
  plans: readonly Plan[],
  { pipeline, loadId }: Pick<BatchCommit, 'pipeline' | 'loadId'>,
): Promise<void> {
  await tx.applySchema(changes, loadId)
  for (const { batch, root, children, history } of plans) {
    await tx.merge(root, batch.rows.get(root.name) ?? [])
    const versions = history && batch.rows.get(history.name)
    if (versions && versions.length > 0) await tx.writeHistory(root, history, versions)
    // Every child table of the resource, including ones this batch has no rows for: a
    // record whose array became empty must lose its old child rows.
    for (const table of children) {
      await tx.replaceChildren(table, batch.rootIds, batch.rows.get(table.name) ?? [])
    }
    if (batch.rejects.length > 0) await tx.writeRejects(pipeline, loadId, batch.rejects)
  }
}

/**
 * Most records of one batch quarantined for what the destination refused. Beyond, the cause is
 * taken to be the table, not the records (a column altered by hand, say), and the run fails;
 * it also bounds the probes (each refused record costs about log2(batch) of them).
 */
const MAX_REFUSED = 25

/** Thrown to roll a probe transaction back. */
class ProbeDone extends TerminalError {
  constructor() {
    super('probe_rollback', 'probe done')
  }
}

/**
 * The records of a commit the destination refuses, each tried in transactions that always
 * roll back: halves of the batch, then halves of the half that fails, down to single records.
 * The first failure is not the records' fault (and is rethrown) when the schema changes alone
 * fail, or when more than MAX_REFUSED records fail on their own: then nothing is quarantined.
 */
async function refusedRecords(
  session: DestinationSession,
  changes: readonly SchemaChange[],
  plans: readonly Plan[],
  commit: Pick<BatchCommit, 'pipeline' | 'loadId'>,
  first: ThenaSyncError,
): Promise<Reject[]> {
  const all = plans.flatMap((plan, p) => plan.batch.rootIds.map((id) => ({ p, id })))
  type Ref = (typeof all)[number]
  /** The error writing only `refs` gives, or undefined when they are stored. */
  const probe = async (refs: readonly Ref[]): Promise<ThenaSyncError | undefined> => {
    const keep = new Set(refs.map((r) => `${r.p}\u0000${r.id}`))
    const subset = plans.map((plan, p) => without(plan, (id) => !keep.has(`${p}\u0000${id}`)))
    try {
      await retryTransient(() =>
        session.transaction(async (tx) => {
          await writeRows(tx, changes, subset, commit)
          throw new ProbeDone()
        }),
      )
    } catch (error) {
      if (error instanceof ProbeDone) return undefined
      if (error instanceof ThenaSyncError && error.code === REJECTED_VALUE) return error
      throw error
    }
    return undefined
  }
  if (await probe([])) throw first
  const refused: { ref: Ref; error: ThenaSyncError }[] = []
  const bisect = async (refs: readonly Ref[], known?: ThenaSyncError): Promise<void> => {
    if (refused.length > MAX_REFUSED) return
    const error = known ?? (await probe(refs))
    if (!error) return
    if (refs.length === 1) return void refused.push({ ref: refs[0]!, error })
    const half = Math.ceil(refs.length / 2)
    await bisect(refs.slice(0, half))
    await bisect(refs.slice(half))
  }
  await bisect(all, first)
  if (refused.length > MAX_REFUSED)
    throw new TerminalError(
      REJECTED_VALUE,
      `${first.message}; more than ${MAX_REFUSED} records of one batch fail this way, which is no longer a few bad records, so none was quarantined`,
      { cause: first },
    )
  return refused.map(({ ref, error }) => {
    const { batch, root, children } = plans[ref.p]!
    const rows: Record<string, Row[]> = {}
    for (const table of [root, ...children]) {
      const key = table === root ? root.primaryKey : '_thena_root_id'
      const mine = (batch.rows.get(table.name) ?? [])
        .filter((row) => String(row[key]) === ref.id)
        .map(withoutLoadColumns)
      if (mine.length > 0) rows[table.name] = mine
    }
    return {
      resource: batch.resource,
      recordId: ref.id,
      reason: `the destination refused it: ${error.message}`,
      // The rows it would have been, timestamps as epoch ms: every value is kept. Without the
      // load's own columns, so that the same refusal in the next run is the same reject.
      raw: jsonText(rows),
    }
  })
}

/** A row without the columns that say which load wrote it and when. */
const withoutLoadColumns = ({ _thena_load_id: _load, _thena_synced_at: _synced, ...row }: Row) =>
  row

/** `plan` without the records `drop` picks, in every table it writes. */
function without(plan: Plan, drop: (id: string) => boolean): Plan {
  const { batch, root } = plan
  if (!batch.rootIds.some(drop)) return plan
  const rows = new Map<string, Row[]>()
  for (const [table, list] of batch.rows) {
    const key =
      table === root.name || table === plan.history?.name ? root.primaryKey : '_thena_root_id'
    rows.set(
      table,
      list.filter((row) => !drop(String(row[key]))),
    )
  }
  return {
    ...plan,
    batch: { ...batch, rows, rootIds: batch.rootIds.filter((id) => !drop(id)) },
  }
}

/** Attempts of a commit whose failure is transient (a dropped connection, a lock wait). */
const COMMIT_ATTEMPTS = 3

/**
 * Runs a destination transaction again when it fails transiently. Safe because every commit is
 * idempotent: rows merge on their key, child rows are replaced, a version whose content is
 * already current is not written again, state and load rows are upserted, and schema changes
 * are applied with IF NOT EXISTS.
 */
export async function retryTransient<T>(transaction: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await transaction()
    } catch (error) {
      if (!isTransient(error) || attempt >= COMMIT_ATTEMPTS) throw error
      await new Promise((resolve) => setTimeout(resolve, 200 * 2 ** attempt))
    }
  }
}

const snapshot = (table: TableSchema): TableSchema => ({ ...table, columns: [...table.columns] })

const snapshotChange = (change: SchemaChange): SchemaChange =>
  change.kind === 'create_table' ? { kind: 'create_table', table: snapshot(change.table) } : change
