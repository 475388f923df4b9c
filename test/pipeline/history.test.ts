/**
 * History of every observed change (`resources.NAME.history`), on every destination: one
 * version per change a run saw, contiguous and non-overlapping, closed by deletes, untouched by
 * re-reads of unchanged records (runs, backfills, reconciles), by a new field, and by a run
 * killed mid-way and run again.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import type { PipelineConfig } from '../../src/config/define-config.js'
import type { ResolvedPipeline } from '../../src/config/resolve-pipeline.js'
import { startSimulator } from '../../sources/thena/simulator/index.js'
import type { Simulator } from '../../sources/thena/simulator/index.js'
import { killAfterFirstCommit, runCli } from '../helpers/cli.js'
import { DESTINATION_KINDS, epochMs } from '../helpers/destinations.js'
import { simulatorPipeline, tempDir } from '../helpers/pipeline.js'
import { expectWarehouseEqualsTruth } from '../helpers/truth.js'
import { inSession, runOk } from '../helpers/warehouse-truth.js'
import type { Obj } from '../helpers/warehouse-truth.js'

let sim: Simulator | undefined
afterEach(async () => {
  await sim?.stop()
  sim = undefined
})

const DAY = 86_400_000
const daysAgo = (n: number) => new Date(Date.now() - n * DAY).toISOString()

/** 400 requests over 40 days: a 14-day lookback re-reads about a third of them. */
async function start(): Promise<Simulator> {
  sim = await startSimulator({ rateLimit: false, records: 400, spanDays: 40, users: 20 })
  return sim
}

const withHistory: Partial<PipelineConfig> = {
  resources: { requests_v3: { enabled: false }, requests: { history: true } },
}

/** Columns of the root row that a version does not copy as they are now (who wrote it, when). */
const LOAD_COLUMNS = new Set(['_thena_load_id', '_thena_synced_at'])
const HISTORY_COLUMNS = new Set([
  '_thena_content_hash',
  '_thena_valid_from',
  '_thena_valid_to',
  '_thena_is_current',
  '_thena_children',
])

/**
 * Every version of `requests_history` by key, after checking what must hold of any history:
 * ordered by valid_from, each version ends where the next begins; only the last may be current,
 * and it is current exactly when it has no end; a current version holds what the current table
 * holds (every column but the load's own), and belongs to a row not soft-deleted; a record
 * soft-deleted has no current version, its last one ending at the deletion.
 */
async function checkedHistory(p: ResolvedPipeline): Promise<Map<string, Obj[]>> {
  return inSession(p, async (q) => {
    const columns = (
      await q(
        `SELECT column_name FROM information_schema.columns WHERE table_schema = 'thena' AND table_name = 'requests' ORDER BY column_name`,
      )
    ).map((r) => String(r.column_name))
    const historyColumns = (
      await q(
        `SELECT column_name FROM information_schema.columns WHERE table_schema = 'thena' AND table_name = 'requests_history'`,
      )
    ).map((r) => String(r.column_name))
    // The history mirrors the table, plus its own columns.
    expect(new Set(historyColumns)).toEqual(new Set([...columns, ...HISTORY_COLUMNS]))
    const data = columns.filter((c) => !LOAD_COLUMNS.has(c))
    const text = (c: string) => `CAST(${c} AS TEXT) AS ${c}`
    const versions = await q(
      `SELECT ${data.map(text).join(', ')}, _thena_valid_from, _thena_valid_to, _thena_is_current,
              _thena_content_hash, CAST(_thena_children AS TEXT) AS children
       FROM thena.requests_history ORDER BY id, _thena_valid_from`,
    )
    const rows = await q(`SELECT ${data.map(text).join(', ')} FROM thena.requests`)
    const rowOf = new Map(rows.map((r) => [String(r.id), r]))
    const byKey = new Map<string, Obj[]>()
    for (const v of versions) {
      const list = byKey.get(String(v.id)) ?? []
      list.push(v)
      byKey.set(String(v.id), list)
    }
    for (const [id, list] of byKey) {
      const row = rowOf.get(id)
      expect(row, `${id}: a version of a row the table has`).toBeDefined()
      for (let i = 0; i < list.length; i++) {
        const v = list[i]!
        const last = i === list.length - 1
        expect(v._thena_is_current, `${id} #${i}: only the last may be current`).toBe(
          last && v._thena_valid_to === null,
        )
        if (!last) {
          expect(epochMs(v._thena_valid_to), `${id} #${i}: ends where the next begins`).toBe(
            epochMs(list[i + 1]!._thena_valid_from),
          )
          expect(epochMs(v._thena_valid_from)!).toBeLessThan(
            epochMs(list[i + 1]!._thena_valid_from)!,
          )
          // Consecutive versions differ in content: one version per observed change.
          expect(v._thena_content_hash).not.toBe(list[i + 1]!._thena_content_hash)
        }
      }
      const lastVersion = list.at(-1)!
      if (row!._thena_deleted_at === null) {
        expect(lastVersion._thena_is_current, `${id}: a live record has a current version`).toBe(
          true,
        )
        for (const c of data) expect(lastVersion[c], `${id}.${c}`).toEqual(row![c])
      } else {
        expect(lastVersion._thena_is_current, `${id}: a deleted record has none`).toBe(false)
        expect(epochMs(lastVersion._thena_valid_to)).toBe(
          Math.max(epochMs(row!._thena_deleted_at)!, epochMs(lastVersion._thena_valid_from)!),
        )
      }
    }
    return byKey
  })
}

const versionCounts = (history: Map<string, Obj[]>, ids: readonly string[]) =>
  ids.map((id) => history.get(id)?.length ?? 0)

const total = (history: Map<string, Obj[]>) =>
  [...history.values()].reduce((n, list) => n + list.length, 0)

for (const kind of DESTINATION_KINDS) {
  describe(`history into ${kind.name}`, () => {
    it('one version per observed change; deletes close it; re-reads of unchanged records write nothing', async () => {
      const s = await start()
      const p = simulatorPipeline(s, withHistory, await kind.freshUrl())
      await runOk(p)
      let history = await checkedHistory(p)
      const live = [...s.truth.requests()].map((r) => String(r.id))
      // Every record once, current, with its child rows as JSON.
      expect(history.size).toBe(live.length)
      expect(total(history)).toBe(live.length)
      const first = [...s.truth.requests()][0]!
      const children = JSON.parse(String(history.get(String(first.id))![0]!.children)) as Obj
      expect((children.requests__custom_fields as unknown[]).length).toBe(
        (first.custom_fields as unknown[]).length,
      )

      // No change: nothing written.
      await runOk(p)
      expect(total(await checkedHistory(p))).toBe(live.length)

      // Status changes twice, a field change: a version each, all observed by `run`.
      const recent = s.mutate({ op: 'updateRequests', count: 4, createdAfter: daysAgo(7) }).ids
      await runOk(p)
      s.mutate({ op: 'updateRequests', ids: [...recent] })
      const edited = s.mutate({
        op: 'updateRequests',
        count: 3,
        salt: 5,
        createdAfter: daysAgo(7),
        set: { original_message_text: 'edited' },
      }).ids
      await runOk(p)
      history = await checkedHistory(p)
      const editedOnly = edited.filter((id) => !recent.includes(id))
      expect(versionCounts(history, recent)).toEqual(
        recent.map((id) => (edited.includes(id) ? 4 : 3)),
      )
      expect(versionCounts(history, editedOnly)).toEqual(editedOnly.map(() => 2))
      // A version begins at the request's update time (`updatedAtField`), not when it was read.
      const truthOf = new Map([...s.truth.requests()].map((r) => [String(r.id), r]))
      for (const id of editedOnly)
        expect(epochMs(history.get(id)![1]!._thena_valid_from)).toBe(
          Date.parse(String(truthOf.get(id)!.updated_at)),
        )
      const statuses = history.get(recent[0]!)!.map((v) => v.status)
      expect(new Set(statuses).size).toBe(3)
      expect(total(history)).toBe(live.length + 2 * recent.length + edited.length)

      // Outside the lookback: unseen by `run`, observed (once) by `reconcile`, with the deletes.
      const old = s.mutate({
        op: 'updateRequests',
        count: 3,
        salt: 7,
        createdBefore: daysAgo(30),
        set: { status: 'changed-long-after' },
      }).ids
      const deleted = s.mutate({ op: 'deleteRequests', count: 3, salt: 9 }).ids
      await runOk(p)
      expect(versionCounts(await checkedHistory(p), old)).toEqual([1, 1, 1])
      await runOk(p, { mode: 'reconcile' })
      history = await checkedHistory(p)
      expect(versionCounts(history, old)).toEqual(old.map((id) => (deleted.includes(id) ? 1 : 2)))
      for (const id of deleted) expect(history.get(id)!.at(-1)!._thena_is_current).toBe(false)
      const afterReconcile = total(history)

      // Re-reading everything unchanged: a backfill, a reconcile, a run.
      await runOk(p, { mode: 'backfill' })
      await runOk(p, { mode: 'reconcile' })
      await runOk(p)
      expect(total(await checkedHistory(p))).toBe(afterReconcile)
      await expectWarehouseEqualsTruth(p, s)
    })

    it('a new field does not version unchanged records; the history gets its column', async () => {
      const s = await start()
      const p = simulatorPipeline(s, withHistory, await kind.freshUrl())
      await runOk(p)
      // A field every record now sends as null, and one only the newest ten send with a value.
      s.mutate({ op: 'addField', path: 'always_null', type: 'null' })
      s.mutate({ op: 'addField', path: 'brand_new', type: 'string', fromIndex: 390 })
      await runOk(p, { mode: 'reconcile' })
      const history = await checkedHistory(p)
      const ids = [...s.truth.requests()].map((r) => String(r.id))
      expect(versionCounts(history, ids.slice(0, 390))).toEqual(ids.slice(0, 390).map(() => 1))
      expect(versionCounts(history, ids.slice(390))).toEqual(ids.slice(390).map(() => 2))
      expect(history.get(ids[395]!)!.at(-1)!.brand_new).toMatch(/^value-/)
      // Through the schema history, so that the next run knows the history table as it is.
      const session = await p.destination.connect({ readOnly: true })
      try {
        const table = (await session.readTables()).find((t) => t.name === 'requests_history')!
        expect(table.historyOf).toBe('requests')
        expect(table.columns.map((c) => c.name)).toContain('brand_new')
        // A resource without history has no history table.
        expect((await session.readTables()).map((t) => t.name)).not.toContain('users_history')
      } finally {
        await session.close()
      }
    })

    it('kill -9 mid-run, then run: no version written twice', async () => {
      sim = await startSimulator({
        rateLimit: false,
        records: 3000,
        spanDays: 40,
        users: 20,
        faults: { latency: { ms: 15 } },
      })
      const s = sim
      const dir = tempDir()
      const url = await kind.freshUrl()
      writeFileSync(
        join(dir, 'pipelines.config.ts'),
        `import { defineConfig, env } from ${JSON.stringify(CONFIG_INDEX)}\n` +
          `export default defineConfig({ pipelines: { thena: { token: env('THENA_API_TOKEN'), baseUrl: env('THENA_BASE_URL'), destination: env('THENA_DESTINATION'), batchPages: 2, resources: { requests_v3: { enabled: false }, requests: { history: true } } } } })\n`,
      )
      const env = { THENA_API_TOKEN: s.token, THENA_BASE_URL: s.url, THENA_DESTINATION: url }
      const killed = await killAfterFirstCommit(['run'], { cwd: dir, env }, [0, 200, 500])
      expect(killed.map((r) => r.signal)).toEqual(['SIGKILL', 'SIGKILL', 'SIGKILL'])
      const updated = s.mutate({ op: 'updateRequests', count: 5, createdAfter: daysAgo(7) }).ids
      const last = await runCli(['run'], { cwd: dir, env })
      expect(last.stderr).not.toMatch(/error/i)
      expect(last.code).toBe(0)
      const p = simulatorPipeline(s, withHistory, url)
      const history = await checkedHistory(p)
      const live = [...s.truth.requests()].length
      expect(history.size).toBe(live)
      // A record updated before the last run was first seen either before (two versions) or
      // only by it (one); every other record has exactly one.
      const others = [...history.entries()].filter(([id]) => !updated.includes(id))
      expect(others.every(([, list]) => list.length === 1)).toBe(true)
      for (const id of updated) expect(history.get(id)!.length).toBeLessThanOrEqual(2)
      await expectWarehouseEqualsTruth(p, s)
    })
  })
}

const CONFIG_INDEX = fileURLToPath(new URL('../../src/index.ts', import.meta.url))
