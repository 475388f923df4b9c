import { expect } from 'vitest'
import type { ResolvedPipeline } from '../../src/config/resolve-pipeline.js'
import type { Simulator } from '../../sources/thena/simulator/index.js'
import type { ResourceState } from '../../src/state/resource-state.js'

type Obj = Record<string, unknown>

/** All rows of a query on the pipeline's warehouse (opens and closes a session). */
export async function rowsOf(pipeline: ResolvedPipeline, sql: string): Promise<Obj[]> {
  const session = await pipeline.destination.connect()
  try {
    return [...(await session.query(sql)).rows]
  } finally {
    await session.close()
  }
}

/** The committed state of every resource of the pipeline (opens and closes a session). */
export async function stateOf(pipeline: ResolvedPipeline): Promise<Map<string, ResourceState>> {
  const session = await pipeline.destination.connect({ readOnly: true })
  try {
    return await session.readState(pipeline.name)
  } finally {
    await session.close()
  }
}

const ms = (v: unknown) =>
  v === null || v === undefined
    ? null
    : Date.parse(String(v).replace(' ', 'T').replace(/\+00$/, 'Z'))

/**
 * Asserts that the warehouse holds exactly what the simulator serves (rows not soft-deleted): every request once with
 * its key values, its child rows, and every user a request references.
 */
export async function expectWarehouseEqualsTruth(
  pipeline: ResolvedPipeline,
  sim: Simulator,
  table = 'requests',
) {
  const truth = [...sim.truth.requests()]
  const rows = await rowsOf(
    pipeline,
    `SELECT id, status, updated_at, assigned_to_user_id, original_message_text,
            first_response_time__actual_time AS actual, sla_metrics__resolution_sla__is_breached AS breached
     FROM thena.${table} WHERE _thena_deleted_at IS NULL ORDER BY id`,
  )
  expect(rows.map((r) => r.id)).toEqual(truth.map((r) => r.id).sort())
  const byId = new Map(rows.map((r) => [r.id, r]))
  for (const record of truth) {
    const row = byId.get(record.id)!
    expect(row.status).toBe(record.status)
    expect(ms(row.updated_at)).toBe(Date.parse(record.updated_at as string))
    expect(row.assigned_to_user_id).toBe(record.assigned_to_user_id)
    expect(row.original_message_text).toBe(record.original_message_text)
    const frt = record.first_response_time as Obj | null
    expect(row.actual === null ? null : Number(row.actual)).toBe(frt ? frt.actual_time : null)
    expect(row.breached).toBe(((record.sla_metrics as Obj).resolution_sla as Obj).is_breached)
  }
  const children = await rowsOf(
    pipeline,
    `SELECT _thena_root_id AS root, _thena_list_idx AS idx, category_name FROM thena.${table}__custom_fields
     WHERE _thena_root_id IN (SELECT id FROM thena.${table} WHERE _thena_deleted_at IS NULL) ORDER BY 1, 2`,
  )
  const expected = truth
    .flatMap((r) =>
      (r.custom_fields as Obj[]).map((f, i) => ({
        root: r.id,
        idx: String(i),
        category_name: f.category_name,
      })),
    )
    .sort((a, b) =>
      String(a.root) < String(b.root)
        ? -1
        : String(a.root) > String(b.root)
          ? 1
          : Number(a.idx) - Number(b.idx),
    )
  expect(children).toEqual(expected)
  const values = await rowsOf(
    pipeline,
    `SELECT count(*) AS n FROM thena.${table}__custom_fields__values
     WHERE _thena_root_id IN (SELECT id FROM thena.${table} WHERE _thena_deleted_at IS NULL)`,
  )
  expect(Number(values[0]!.n)).toBe(
    truth.reduce(
      (n, r) =>
        n + (r.custom_fields as Obj[]).reduce((m, f) => m + (f.values as unknown[]).length, 0),
      0,
    ),
  )
  const users = await rowsOf(pipeline, 'SELECT id FROM thena.users')
  const userIds = new Set(users.map((u) => u.id))
  expect(users.length).toBe(userIds.size)
  for (const u of sim.truth.listedUsers()) expect(userIds.has(u.id)).toBe(true)
  for (const r of truth)
    if (r.assigned_to_user_id) expect(userIds.has(r.assigned_to_user_id)).toBe(true)
}
