/**
 * Rejects do not pile up: a `discard_value` note on a `full` resource is seen again by every
 * run, and is recorded once; `status` counts the open ones of its pipeline. Warehouses made
 * before `_thena_rejects` had a `pipeline` column are migrated by the next run.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { ResolvedPipeline } from '../../src/config/resolve-pipeline.js'
import { runPipeline } from '../../src/pipeline/run-pipeline.js'
import { startSimulator } from '../../sources/thena/simulator/index.js'
import type { Simulator } from '../../sources/thena/simulator/index.js'
import { runCli } from '../helpers/cli.js'
import { DESTINATION_KINDS } from '../helpers/destinations.js'
import { simulatorPipeline, tempDir } from '../helpers/pipeline.js'
import { rowsOf } from '../helpers/truth.js'

let sim: Simulator | undefined
afterEach(async () => {
  await sim?.stop()
  sim = undefined
})

const USERS = 36

/** A simulator whose every user has a field the pipeline's contract drops (with a note). */
async function start(): Promise<Simulator> {
  sim = await startSimulator({ rateLimit: false, records: 20, users: USERS, hiddenUsers: 0 })
  sim.mutate({ op: 'addField', resource: 'users', path: 'nickname', type: 'string' })
  return sim
}

const pipelineOn = (s: Simulator, destination: string) =>
  simulatorPipeline(
    s,
    {
      resources: {
        requests_v3: { enabled: false },
        users: { contract: { newColumns: 'discard_value' } },
      },
    },
    destination,
  )

/** `status --json`'s rejects per resource, as the CLI prints them. */
async function statusRejects(destination: string): Promise<Record<string, unknown>> {
  const res = await runCli(['status', '--json'], {
    cwd: tempDir(),
    env: { THENA_DESTINATION: destination },
  })
  expect(res.stderr).toBe('')
  const report = JSON.parse(res.stdout) as { resources: { resource: string; rejects: number }[] }
  return Object.fromEntries(report.resources.map((r) => [r.resource, r.rejects]))
}

const rejectCount = async (pipeline: ResolvedPipeline) =>
  Number(
    (
      await rowsOf(
        pipeline,
        "SELECT count(*) AS n FROM thena._thena_rejects WHERE resource = 'users'",
      )
    )[0]!.n,
  )

const run = async (pipeline: ResolvedPipeline) => {
  const result = await runPipeline(pipeline)
  expect(result.error?.message).toBeUndefined()
  return result
}

for (const kind of DESTINATION_KINDS) {
  describe(`rejects into ${kind.name}`, () => {
    it('a reject seen again is not written again: 3 runs, 36 rows, 36 open; fixed at the source, 0 open', async () => {
      const s = await start()
      const destination = await kind.freshUrl()
      const pipeline = pipelineOn(s, destination)
      const runs = []
      for (let i = 0; i < 3; i++) {
        const result = await run(pipeline)
        // Each run still reports what it rejected.
        expect(result.rejects).toBe(USERS)
        runs.push(result.loadId)
        expect(await rejectCount(pipeline)).toBe(USERS)
      }
      const rows = await rowsOf(
        pipeline,
        "SELECT DISTINCT pipeline, load_id, last_load_id FROM thena._thena_rejects WHERE resource = 'users'",
      )
      // First recorded by the first run, last seen by the third.
      expect(rows).toEqual([{ pipeline: 'thena', load_id: runs[0], last_load_id: runs[2] }])
      // Another pipeline's reject in the same dataset is not this pipeline's to count.
      const session = await pipeline.destination.connect()
      try {
        await session.query(
          `INSERT INTO thena._thena_rejects (load_id, resource, record_id, reason, raw_json, pipeline, reject_key, last_load_id)
           VALUES ('x', 'users', 'nobody', 'not ours', '{}', 'other', 'k', 'x')`,
        )
      } finally {
        await session.close()
      }
      expect(await statusRejects(destination)).toMatchObject({ users: USERS, requests: 0 })
      // The source stops sending the field: the records load cleanly, their rejects close.
      s.mutate({ op: 'removeField', resource: 'users', path: 'nickname' })
      expect((await run(pipeline)).rejects).toBe(0)
      expect(await rejectCount(pipeline)).toBe(USERS + 1)
      expect(await statusRejects(destination)).toMatchObject({ users: 0 })
      // It comes back with other values: new rejects, open; the closed ones stay closed.
      s.mutate({ op: 'addField', resource: 'users', path: 'nickname', type: 'string' })
      await run(pipeline)
      await run(pipeline)
      expect(await rejectCount(pipeline)).toBe(2 * USERS + 1)
      expect(await statusRejects(destination)).toMatchObject({ users: USERS })
    })

    it('a warehouse of the previous version (no pipeline column, rejects piled up) is migrated', async () => {
      const s = await start()
      const destination = await kind.freshUrl()
      const pipeline = pipelineOn(s, destination)
      const first = await run(pipeline)
      // The previous version's table, by hand: without the new columns, every reject twice.
      const session = await pipeline.destination.connect()
      try {
        for (const column of ['pipeline', 'reject_key', 'last_load_id'])
          await session.query(`ALTER TABLE thena._thena_rejects DROP COLUMN ${column}`)
        await session.query('INSERT INTO thena._thena_rejects SELECT * FROM thena._thena_rejects')
      } finally {
        await session.close()
      }
      expect(await rejectCount(pipeline)).toBe(2 * USERS)
      // Not migrated yet (status only reads): every row counts, as before.
      expect(await statusRejects(destination)).toMatchObject({ users: 2 * USERS })
      await run(pipeline)
      const old = await rowsOf(
        pipeline,
        `SELECT pipeline, last_load_id, count(*) AS n FROM thena._thena_rejects
         WHERE reject_key IS NULL GROUP BY pipeline, last_load_id`,
      )
      expect(old).toEqual([{ pipeline: 'thena', last_load_id: first.loadId, n: expect.anything() }])
      expect(Number(old[0]!.n)).toBe(2 * USERS)
      // The old rows could not be matched (no key): one more row each, once. The old ones are
      // closed, since their records loaded again after them.
      expect(await rejectCount(pipeline)).toBe(3 * USERS)
      expect(await statusRejects(destination)).toMatchObject({ users: USERS })
      await run(pipeline)
      expect(await rejectCount(pipeline)).toBe(3 * USERS)
      expect(await statusRejects(destination)).toMatchObject({ users: USERS })
    })
  })
}
