/**
 * Records a destination cannot store as they come, on every destination: each is made
 * storable or quarantined alone, with its reason; the other records of the batch and of the
 * run load, this run and the next. The same record gives the same outcome on both.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { PipelineConfig } from '../../src/config/define-config.js'
import type { ResolvedPipeline } from '../../src/config/resolve-pipeline.js'
import { MAX_CHILD_TABLES, MAX_TABLE_COLUMNS } from '../../src/normalize/schema-registry.js'
import { runPipeline } from '../../src/pipeline/run-pipeline.js'
import { DESTINATION_KINDS } from '../helpers/destinations.js'
import { startStandInApi } from '../helpers/http.js'
import type { StandInApi } from '../helpers/http.js'
import { simulatorPipeline } from '../helpers/pipeline.js'
import { rowsOf } from '../helpers/truth.js'

let api: StandInApi | undefined
afterEach(() => {
  api?.close()
  api = undefined
})

const request = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  created_at: '2026-01-01T00:00:00Z',
  updated_at: '2026-01-02T00:00:00Z',
  status: 'open',
  ...extra,
})

/** A JSON text of `{"a": {"a": ... 1 ...}}`, `depth` objects deep (JSON.stringify stops near 4,000). */
const nested = (depth: number) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth)

/** Serves `records` (JSON texts) as the one page of /rest/v2/requests; everything else empty. */
async function serve(records: readonly string[]): Promise<StandInApi> {
  api = await startStandInApi({
    '/rest/v2/requests/sub-status': '[]',
    '/rest/v2/requests': `{"data": {"results": [${records.join(',')}]}}`,
  })
  return api
}

const only: Partial<PipelineConfig> = { resources: { requests_v3: { enabled: false } } }

const ids = async (p: ResolvedPipeline) =>
  (await rowsOf(p, 'SELECT id FROM thena.requests ORDER BY id')).map((r) => r.id)

const rejects = async (p: ResolvedPipeline) =>
  rowsOf(p, 'SELECT record_id, reason FROM thena._thena_rejects ORDER BY record_id')

for (const kind of DESTINATION_KINDS) {
  describe(`records no database stores as they come, into ${kind.name}`, () => {
    it('U+0000 in a field name, lone surrogates in text and JSON, a year-0000 timestamp: all load', async () => {
      const s = await serve([
        JSON.stringify(request('a1')),
        JSON.stringify(request('nul-key', { 'note\u0000x': 'kept' })),
        JSON.stringify(
          request('surrogates', {
            original_message_text: 'x\udc00y',
            ai_metadata: { tags: ['ok', 'lone \ud800'] },
            extra: { mixed: ['a\ud800', { 'k\ud800ey': 'v\udfff' }], list: [{ k: 'v\udfff' }] },
          }),
        ),
        JSON.stringify(request('year-zero', { created_at: '0000-01-01T00:00:00Z' })),
        JSON.stringify(request('z9')),
      ])
      const pipeline = simulatorPipeline(s, only, await kind.freshUrl())
      for (const attempt of [1, 2]) {
        const result = await runPipeline(pipeline)
        expect(result.error?.message, `run ${attempt}`).toBeUndefined()
        expect(result.rejects).toBe(0)
      }
      expect(await ids(pipeline)).toEqual(['a1', 'nul-key', 'surrogates', 'year-zero', 'z9'])
      const [row] = await rowsOf(pipeline, `SELECT notex FROM thena.requests WHERE id = 'nul-key'`)
      expect(row!.notex).toBe('kept')
      const [surrogates] = await rowsOf(
        pipeline,
        `SELECT original_message_text AS text, ai_metadata__tags AS tags, extra__mixed AS mixed
         FROM thena.requests WHERE id = 'surrogates'`,
      )
      expect(surrogates!.text).toBe('x\ufffdy')
      expect(JSON.parse(String(surrogates!.tags))).toEqual(['ok', 'lone \ufffd'])
      expect(JSON.parse(String(surrogates!.mixed))).toEqual(['a\ufffd', { 'k\ufffdey': 'v\ufffd' }])
      const child = await rowsOf(pipeline, 'SELECT k FROM thena.requests__extra__list')
      expect(child).toEqual([{ k: 'v\ufffd' }])
      // The year 0000 is no timestamp both databases store: a type change, kept as text.
      const [zero] = await rowsOf(
        pipeline,
        `SELECT created_at, created_at__v_text AS text FROM thena.requests WHERE id = 'year-zero'`,
      )
      expect(zero).toEqual({ created_at: null, text: '0000-01-01T00:00:00Z' })
      const paths = await rowsOf(
        pipeline,
        `SELECT source_path FROM thena._thena_schema_history WHERE column_name = 'notex'`,
      )
      expect(JSON.parse(String(paths[0]!.source_path))).toEqual(['notex'])
    })

    it('a record wider than a table may be: its fields beyond the width land in _thena_overflow', async () => {
      const fields = Object.fromEntries(
        Array.from({ length: 1700 }, (_, i) => [`field_${i}`, `value ${i}`]),
      )
      // A field named __proto__ among them is data, not a prototype.
      const wideRecord = JSON.stringify(request('wide', fields)).replace(
        /}$/,
        ',"__proto__":{"polluted":"yes"}}',
      )
      const s = await serve([
        JSON.stringify(request('a1')),
        wideRecord,
        JSON.stringify(request('z9', { field_1699: 'late' })),
      ])
      const pipeline = simulatorPipeline(s, only, await kind.freshUrl())
      for (const attempt of [1, 2]) {
        const result = await runPipeline(pipeline)
        expect(result.error?.message, `run ${attempt}`).toBeUndefined()
      }
      expect(await ids(pipeline)).toEqual(['a1', 'wide', 'z9'])
      const columns = await rowsOf(
        pipeline,
        `SELECT column_name FROM information_schema.columns WHERE table_schema = 'thena' AND table_name = 'requests'`,
      )
      expect(columns).toHaveLength(MAX_TABLE_COLUMNS)
      const names = new Set(columns.map((c) => c.column_name))
      const [wide] = await rowsOf(pipeline, `SELECT * FROM thena.requests WHERE id = 'wide'`)
      const overflow = JSON.parse(String(wide!._thena_overflow)) as Record<string, string>
      // Every field is somewhere: in its column, or in the overflow column.
      for (let i = 0; i < 1700; i++) {
        const name = `field_${i}`
        expect(names.has(name) ? wide![name] : overflow[name]).toBe(`value ${i}`)
      }
      expect(({} as Record<string, unknown>).polluted).toBeUndefined()
      expect(Object.hasOwn(overflow, '__proto__')).toBe(true)
      expect(Object.getOwnPropertyDescriptor(overflow, '__proto__')!.value).toEqual({
        polluted: 'yes',
      })
      const [late] = await rowsOf(
        pipeline,
        `SELECT _thena_overflow AS o FROM thena.requests WHERE id = 'z9'`,
      )
      expect(JSON.parse(String(late!.o))).toEqual({ field_1699: 'late' })
    })

    it('nested 3,000 levels deep: stored as JSON below the flattening depth; 5,000 levels: quarantined alone', async () => {
      const s = await serve([
        JSON.stringify(request('a1')),
        `{"id": "deep", "created_at": "2026-01-01T00:00:00Z", "deep": ${nested(3000)}}`,
        `{"id": "deeper", "created_at": "2026-01-01T00:00:00Z", "deep": ${nested(5000)}}`,
        JSON.stringify(request('z9')),
      ])
      const pipeline = simulatorPipeline(s, only, await kind.freshUrl())
      for (const attempt of [1, 2]) {
        const result = await runPipeline(pipeline)
        expect(result.error?.message, `run ${attempt}`).toBeUndefined()
        expect(result.status).toBe('success')
        expect(result.rejects).toBe(1)
      }
      expect(await ids(pipeline)).toEqual(['a1', 'deep', 'z9'])
      const [reject] = await rejects(pipeline)
      expect(reject).toEqual({
        record_id: 'deeper',
        reason: 'cannot be stored: a value is nested deeper than 3000 levels',
      })
      const json = await rowsOf(
        pipeline,
        `SELECT column_name FROM information_schema.columns WHERE table_schema = 'thena' AND table_name = 'requests' AND column_name LIKE 'deep__%'`,
      )
      expect(json).toHaveLength(1)
      const [row] = await rowsOf(
        pipeline,
        `SELECT ${String(json[0]!.column_name)} AS v FROM thena.requests WHERE id = 'deep'`,
      )
      expect(String(row!.v)).toMatch(/^\{"a": ?\{"a": ?\{/)
    })

    it('a record with hundreds of arrays of objects: 64 child tables, the other arrays as JSON', async () => {
      const lists = Object.fromEntries(
        Array.from({ length: 200 }, (_, i) => [`list_${i}`, [{ x: i }]]),
      )
      const s = await serve([
        JSON.stringify(request('a1')),
        JSON.stringify(request('lists', lists)),
        JSON.stringify(request('z9')),
      ])
      const pipeline = simulatorPipeline(s, only, await kind.freshUrl())
      for (const attempt of [1, 2]) {
        const result = await runPipeline(pipeline)
        expect(result.error?.message, `run ${attempt}`).toBeUndefined()
      }
      expect(await ids(pipeline)).toEqual(['a1', 'lists', 'z9'])
      const tables = await rowsOf(
        pipeline,
        `SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = 'thena' AND table_name LIKE 'requests\\_\\_%' ESCAPE '\\'`,
      )
      expect(Number(tables[0]!.n)).toBe(MAX_CHILD_TABLES)
      const [row] = await rowsOf(
        pipeline,
        `SELECT list_199 AS l FROM thena.requests WHERE id = 'lists'`,
      )
      expect(JSON.parse(String(row!.l))).toEqual([{ x: 199 }])
    })

    it('a key no database indexes (9,000 characters) is quarantined on both', async () => {
      const long = 'k'.repeat(9000)
      const s = await serve([
        JSON.stringify(request('a1')),
        JSON.stringify(request(long)),
        JSON.stringify(request(`${long}-2`)),
        JSON.stringify(request('z9')),
      ])
      const pipeline = simulatorPipeline(s, only, await kind.freshUrl())
      const result = await runPipeline(pipeline)
      expect(result.error?.message).toBeUndefined()
      expect(result.rejects).toBe(2)
      expect(await ids(pipeline)).toEqual(['a1', 'z9'])
      const [reject] = await rejects(pipeline)
      expect(String(reject!.reason)).toContain('at most 1000 bytes')
    })

    it('a value the database itself refuses: that record is quarantined with the reason, the rest commit', async () => {
      const page = (score?: string) => [
        JSON.stringify(request('a1', { score: '1' })),
        JSON.stringify(request('m5', score === undefined ? {} : { score })),
        JSON.stringify(request('z9', { score: '3' })),
      ]
      const s = await serve(page('2'))
      const url = await kind.freshUrl()
      const pipeline = simulatorPipeline(s, only, url)
      expect((await runPipeline(pipeline)).status).toBe('success')
      // Someone makes the column required by hand; then the API leaves it out of one record.
      await rowsOf(pipeline, 'ALTER TABLE thena.requests ALTER COLUMN score SET NOT NULL')
      api!.close()
      const next = simulatorPipeline(await serve(page()), only, url)
      for (const attempt of [1, 2]) {
        const result = await runPipeline(next)
        expect(result.error?.message, `run ${attempt}`).toBeUndefined()
        expect(result.rejects).toBe(1)
        expect(result.resources.find((r) => r.resource === 'requests')!.records).toBe(2)
      }
      // Refused the same way by both runs: one reject.
      const refused = await rejects(next)
      expect(refused.map((r) => r.record_id)).toEqual(['m5'])
      expect(String(refused[0]!.reason)).toMatch(
        /^the destination refused it: .*(NOT NULL|not-null)/i,
      )
      const rows = await rowsOf(
        next,
        'SELECT id, score, _thena_load_id AS l FROM thena.requests ORDER BY id',
      )
      // m5 keeps its last good row; the others are the last run's.
      expect(rows.map((r) => [r.id, r.score])).toEqual([
        ['a1', '1'],
        ['m5', '2'],
        ['z9', '3'],
      ])
    })

    it('when many records of a batch are refused, it is not the records: the run fails and quarantines nothing', async () => {
      const many = Array.from({ length: 30 }, (_, i) => `r${String(i).padStart(2, '0')}`)
      const s = await serve(many.map((id) => JSON.stringify(request(id))))
      const url = await kind.freshUrl()
      const pipeline = simulatorPipeline(s, only, url)
      expect((await runPipeline(pipeline)).status).toBe('success')
      await rowsOf(pipeline, 'ALTER TABLE thena.requests ALTER COLUMN status SET NOT NULL')
      api!.close()
      const next = simulatorPipeline(
        await serve(many.map((id) => JSON.stringify(request(id, { status: null })))),
        only,
        url,
      )
      const result = await runPipeline(next)
      expect(result.status).toBe('failed')
      expect(result.error?.code).toBe('destination_rejected_value')
      expect(result.error?.message).toContain('more than 25 records of one batch fail this way')
      expect(await rejects(next)).toEqual([])
    })
  })
}
