/**
 * Schema contracts against the simulator's drift switches, on every destination: evolve,
 * discard_value, discard_row and freeze, for new fields and for type changes, mid-run and
 * between runs.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { PipelineConfig } from '../../src/config/define-config.js'
import { runPipeline } from '../../src/pipeline/run-pipeline.js'
import { startSimulator } from '../../sources/thena/simulator/index.js'
import type { Simulator } from '../../sources/thena/simulator/index.js'
import { DESTINATION_KINDS } from '../helpers/destinations.js'
import { startStandInApi } from '../helpers/http.js'
import { simulatorPipeline } from '../helpers/pipeline.js'
import { rowsOf } from '../helpers/truth.js'

let sim: Simulator | undefined
afterEach(async () => {
  await sim?.stop()
  sim = undefined
})

const start = async () =>
  (sim = await startSimulator({ rateLimit: false, records: 120, users: 10, hiddenUsers: 0 }))

const requestsOnly = { requests_v3: { enabled: false } } as const

const columnsOf = async (pipeline: Parameters<typeof rowsOf>[0], table: string) =>
  (
    await rowsOf(
      pipeline,
      `SELECT column_name FROM information_schema.columns WHERE table_schema = 'thena' AND table_name = '${table}'`,
    )
  ).map((r) => r.column_name as string)

for (const kind of DESTINATION_KINDS) {
  describe(`schema contracts into ${kind.name}`, () => {
    const pipelineOn = async (s: Simulator, overrides: Partial<PipelineConfig>, url?: string) =>
      simulatorPipeline(s, overrides, url ?? (await kind.freshUrl()))

    it('evolve: a new nested field becomes a column, a type change a variant; both in the history', async () => {
      const s = await start()
      s.mutate({ op: 'addField', path: 'escalation.csat', type: 'integer' })
      const url = await kind.freshUrl()
      const pipeline = await pipelineOn(s, { resources: requestsOnly }, url)
      const first = await runPipeline(pipeline)
      expect(first.status).toBe('success')
      // Mid-run for the next run: records from index 60 on send the number as a string.
      s.mutate({ op: 'changeFieldType', path: 'escalation.csat', type: 'string', fromIndex: 60 })
      const second = await runPipeline(pipeline, { mode: 'reconcile' })
      expect(second.status).toBe('success')
      const rows = await rowsOf(
        pipeline,
        'SELECT escalation__csat AS n, escalation__csat__v_text AS t FROM thena.requests',
      )
      expect(rows.filter((r) => r.n !== null)).toHaveLength(60)
      expect(rows.filter((r) => typeof r.t === 'string')).toHaveLength(60)
      const history = await rowsOf(
        pipeline,
        `SELECT column_name, column_type, variant_of, load_id FROM thena._thena_schema_history
         WHERE column_name LIKE 'escalation__csat%' ORDER BY ordinal`,
      )
      expect(history).toEqual([
        {
          column_name: 'escalation__csat',
          column_type: 'bigint',
          variant_of: null,
          load_id: first.loadId,
        },
        {
          column_name: 'escalation__csat__v_text',
          column_type: 'text',
          variant_of: 'escalation__csat',
          load_id: second.loadId,
        },
      ])
    })

    it('evolve: a declared field that changes type lands in its variant, and the rest of the record with it', async () => {
      const s = await start()
      const url = await kind.freshUrl()
      const pipeline = await pipelineOn(s, { resources: requestsOnly }, url)
      expect((await runPipeline(pipeline)).status).toBe('success')
      // Thena starts sending `first_response_time.actual_time` as text ("12m"), and updates.
      s.mutate({
        op: 'changeFieldType',
        path: 'first_response_time.actual_time',
        type: 'string',
        fromIndex: 20,
      })
      s.mutate({ op: 'updateRequests', count: 120, set: { status: 'changed' } })
      const second = await runPipeline(pipeline, { mode: 'reconcile' })
      expect(second.error?.message).toBeUndefined()
      expect(second.rejects).toBe(0)
      const rows = await rowsOf(
        pipeline,
        `SELECT status, first_response_time__actual_time AS n, first_response_time__actual_time__v_text AS t FROM thena.requests`,
      )
      // Every update landed: no record kept its old version.
      expect(rows.filter((r) => r.status === 'changed')).toHaveLength(120)
      const texts = rows.filter((r) => typeof r.t === 'string')
      expect(texts.length).toBeGreaterThan(50)
      expect(texts.every((r) => r.n === null)).toBe(true)
      const history = await rowsOf(
        pipeline,
        `SELECT column_type, variant_of, load_id FROM thena._thena_schema_history
         WHERE column_name = 'first_response_time__actual_time__v_text'`,
      )
      expect(history).toEqual([
        {
          column_type: 'text',
          variant_of: 'first_response_time__actual_time',
          load_id: second.loadId,
        },
      ])
    })

    it('a declared field that fails its type follows typeChanges: discard_value, discard_row, freeze', async () => {
      const s = await start()
      s.mutate({
        op: 'changeFieldType',
        path: 'first_response_time.actual_time',
        type: 'string',
        fromIndex: 100,
      })
      const contract = (typeChanges: 'discard_value' | 'discard_row' | 'freeze') => ({
        resources: { ...requestsOnly, requests: { contract: { typeChanges } } },
      })
      const dropped = await pipelineOn(s, contract('discard_value'))
      const kept = await runPipeline(dropped)
      expect(kept.status).toBe('success')
      const [counts] = await rowsOf(
        dropped,
        'SELECT count(*) AS n, count(first_response_time__actual_time) AS actual FROM thena.requests',
      )
      const actual = [...s.truth.requests()].map(
        (r) => (r.first_response_time as { actual_time?: unknown } | null)?.actual_time,
      )
      const numbers = actual.filter((a) => typeof a === 'number').length
      const texts = actual.filter((a) => typeof a === 'string').length
      expect(texts).toBeGreaterThan(5)
      expect(counts).toEqual({ n: '120', actual: String(numbers) })
      expect(await columnsOf(dropped, 'requests')).not.toContain(
        'first_response_time__actual_time__v_text',
      )
      const notes = await rowsOf(dropped, 'SELECT reason FROM thena._thena_rejects')
      expect(notes).toHaveLength(texts)
      expect(notes[0]!.reason).toBe(
        'discard_value: declared field `first_response_time.actual_time`: Invalid input: expected number, received string: value dropped',
      )
      const rowsOut = await pipelineOn(s, contract('discard_row'))
      const rejected = await runPipeline(rowsOut)
      expect(rejected.rejects).toBe(texts)
      const [n] = await rowsOf(rowsOut, 'SELECT count(*) AS n FROM thena.requests')
      expect(n!.n).toBe(String(120 - texts))
      const frozen = await runPipeline(await pipelineOn(s, contract('freeze')))
      expect(frozen.status).toBe('failed')
      expect(frozen.error?.message).toBe(
        "requests: declared field `first_response_time.actual_time`: Invalid input: expected number, received string, but the contract freezes type changes (set contract.typeChanges to 'evolve', 'discard_row' or 'discard_value' to let the run go on)",
      )
    })

    it('discard_value: the new field is dropped, every record loads and is noted in the rejects', async () => {
      const s = await start()
      s.mutate({ op: 'addField', path: 'csat', type: 'integer', fromIndex: 100 })
      // On requests only: the undocumented sub-status and custom-field elements have fields
      // no schema declares, which this contract would drop too.
      const pipeline = await pipelineOn(s, {
        resources: { ...requestsOnly, requests: { contract: { newColumns: 'discard_value' } } },
      })
      const result = await runPipeline(pipeline)
      expect(result.status).toBe('success')
      expect(await columnsOf(pipeline, 'requests')).not.toContain('csat')
      const [n] = await rowsOf(pipeline, 'SELECT count(*) AS n FROM thena.requests')
      expect(n!.n).toBe('120')
      const rejects = await rowsOf(pipeline, 'SELECT reason, raw_json FROM thena._thena_rejects')
      expect(rejects).toHaveLength(20)
      expect(rejects[0]!.reason).toBe('discard_value: new field `csat` (bigint): value dropped')
      expect(JSON.parse(rejects[0]!.raw_json as string)).toHaveProperty('csat')
    })

    it('discard_row: records with the change go to the rejects table whole; the run goes on', async () => {
      const s = await start()
      const pipeline = await pipelineOn(s, {
        resources: { ...requestsOnly, requests: { contract: { typeChanges: 'discard_row' } } },
      })
      s.mutate({ op: 'addField', path: 'csat', type: 'integer' })
      await runPipeline(pipeline)
      s.mutate({ op: 'changeFieldType', path: 'csat', type: 'string', fromIndex: 90 })
      const result = await runPipeline(pipeline, { mode: 'reconcile' })
      expect(result.status).toBe('success')
      expect(await columnsOf(pipeline, 'requests')).not.toContain('csat__v_text')
      const rejects = await rowsOf(
        pipeline,
        'SELECT record_id, reason, raw_json FROM thena._thena_rejects',
      )
      expect(rejects).toHaveLength(30)
      expect(rejects[0]!.reason).toBe('discard_row: field `csat` is bigint, got text')
      expect(typeof JSON.parse(rejects[0]!.raw_json as string).csat).toBe('string')
      // The rejected records keep their last good row (a reconcile never deletes them).
      const [live] = await rowsOf(
        pipeline,
        'SELECT count(*) AS n FROM thena.requests WHERE _thena_deleted_at IS NULL',
      )
      expect(live!.n).toBe('120')
    })

    it('freeze: the run stops before its batch commits, with one line naming resource, field and types', async () => {
      const s = await start()
      const url = await kind.freshUrl()
      await runPipeline(await pipelineOn(s, { resources: requestsOnly }, url))
      s.mutate({ op: 'addField', path: 'sla_metrics.new_clock', type: 'boolean', fromIndex: 110 })
      const frozen = await pipelineOn(
        s,
        { resources: requestsOnly, contract: { newColumns: 'freeze' } },
        url,
      )
      const result = await runPipeline(frozen, { mode: 'reconcile' })
      expect(result.status).toBe('failed')
      expect(result.error?.code).toBe('schema_frozen')
      expect(result.error?.message).toBe(
        "requests: new field `sla_metrics.new_clock` (boolean), but the contract freezes new columns (set contract.newColumns to 'evolve', 'discard_row' or 'discard_value' to let the run go on)",
      )
      expect(await columnsOf(frozen, 'requests')).not.toContain('sla_metrics__new_clock')
      const [{ n }] = (await rowsOf(
        frozen,
        `SELECT count(*) AS n FROM thena.requests WHERE _thena_load_id = '${result.loadId}'`,
      )) as [{ n: string }]
      expect(n).toBe('0')
    })

    it('a field that disappears leaves nulls, so does a null in a required field; only records without an id are quarantined', async () => {
      const s = await start()
      s.mutate({ op: 'addField', path: 'csat', type: 'integer' })
      const pipeline = await pipelineOn(s, { resources: requestsOnly })
      await runPipeline(pipeline)
      s.mutate({ op: 'removeField', path: 'csat', fromIndex: 100 })
      s.mutate({ op: 'changeFieldType', path: 'created_at', type: 'null', fromIndex: 110 })
      s.mutate({ op: 'removeField', path: 'id', fromIndex: 115 })
      const result = await runPipeline(pipeline, { mode: 'reconcile' })
      expect(result.status).toBe('success')
      expect(result.rejects).toBe(5)
      const rows = await rowsOf(
        pipeline,
        'SELECT id, csat, created_at FROM thena.requests ORDER BY id',
      )
      // 100-114 no longer send csat; 110-114 have no creation time; 115-119 keep their last row.
      expect(rows.filter((r) => r.csat === null)).toHaveLength(15)
      expect(rows.filter((r) => r.created_at === null)).toHaveLength(5)
      const rejects = await rowsOf(
        pipeline,
        'SELECT record_id, reason FROM thena._thena_rejects ORDER BY reason, record_id',
      )
      // Every record the API returned is in its table or in the rejects table.
      expect(rows.length - 5 + rejects.length).toBe(120)
      expect(rejects.every((r) => r.record_id === null)).toBe(true)
      expect(rejects[0]!.reason).toContain('id:')
    })

    it('a page that never parses is kept whole in the rejects table; the other resources still load; the run fails clearly', async () => {
      // A stand-in API whose request list answers with truncated JSON every time.
      const broken = '{"data": {"results": [{"id": "r1", "status": "open"}, {"id": "r2", "sta'
      const api = await startStandInApi({
        '/rest/v2/requests/sub-status': '[]',
        '/rest/v2/requests': broken,
        '/rest/v2/requests/v3': {
          data: {
            results: [
              {
                id: 'v3-1',
                created_at: '2026-01-01T00:00:00Z',
                updated_at: '2026-01-01T00:00:00Z',
              },
            ],
          },
        },
      })
      try {
        const pipeline = simulatorPipeline(
          api,
          { http: { maxRetries: 1, backoffMs: 1 } },
          await kind.freshUrl(),
        )
        const result = await runPipeline(pipeline)
        expect(result.status).toBe('failed')
        expect(result.error?.code).toBe('http_invalid_json')
        expect(result.error?.message).toMatch(/failed after 2 attempts: the body is not valid JSON/)
        const rejects = await rowsOf(
          pipeline,
          'SELECT resource, record_id, reason, raw_json FROM thena._thena_rejects',
        )
        expect(rejects).toEqual([
          {
            resource: 'requests',
            record_id: null,
            reason: result.error!.message,
            raw_json: broken,
          },
        ])
        expect(result.rejects).toBe(1)
        // requests_v3 comes after requests, and still loaded.
        expect(await rowsOf(pipeline, 'SELECT id FROM thena.requests_v3')).toEqual([{ id: 'v3-1' }])
      } finally {
        api.close()
      }
    })

    it('a bad contract setting is a config error naming the field', async () => {
      const s = await start()
      await expect(pipelineOn(s, { contract: { newColumns: 'ignore' as never } })).rejects.toThrow(
        'pipelines.thena.contract.newColumns: expected one of `evolve`, `freeze`, `discard_row`, `discard_value`, got `"ignore"`',
      )
    })
  })
}
