/**
 * Custom field definitions with hostile names, through a run, on every destination: names in
 * scripts without Latin letters, SQL in a name, a name like a base column, a 200-character
 * name. Each gets its own column holding its own values, and a new definition moves none.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { startSimulator } from '../../sources/thena/simulator/index.js'
import type { Simulator } from '../../sources/thena/simulator/index.js'
import { DESTINATION_KINDS } from '../helpers/destinations.js'
import { simulatorPipeline } from '../helpers/pipeline.js'
import { inSession, runOk } from '../helpers/warehouse-truth.js'
import type { Obj } from '../helpers/warehouse-truth.js'

let sim: Simulator | undefined
afterEach(async () => {
  await sim?.stop()
  sim = undefined
})

const HOSTILE = [
  '優先度',
  'Приоритет',
  "x'); DROP TABLE thena.requests; --",
  'status',
  `${'Very long field name '.repeat(10)}`.trim(),
]

/** Gives the first request a value `v:<name>` of each definition named. */
function addValues(s: Simulator, names: readonly string[]): string {
  for (const name of names) s.mutate({ op: 'addCustomField', name })
  const [target] = [...s.truth.requests()]
  const fields = (target!.custom_fields as Obj[]).filter(
    (f) => !names.includes(String(f.category_name)),
  )
  s.mutate({
    op: 'updateRequests',
    ids: [String(target!.id)],
    set: {
      custom_fields: [
        ...fields,
        ...names.map((name) => ({ category_name: name, values: [{ name, value: `v:${name}` }] })),
      ],
    },
  })
  return String(target!.id)
}

for (const kind of DESTINATION_KINDS) {
  describe(`custom field names on ${kind.name}`, () => {
    it('each hostile name is its own column with its own values; a new definition renames none', async () => {
      const s = (sim = await startSimulator({ rateLimit: false, records: 40, users: 5 }))
      const p = simulatorPipeline(
        s,
        { resources: { requests_v3: { enabled: false } } },
        await kind.freshUrl(),
      )
      await runOk(p)
      const id = addValues(s, HOSTILE)
      await runOk(p, { mode: 'reconcile' })
      const valuesByColumn = () =>
        inSession(p, async (q) => {
          const [row] = await q(`SELECT * FROM thena.requests_enriched WHERE request_id = '${id}'`)
          return new Map(
            Object.entries(row!).filter(
              ([c, v]) => c.startsWith('cf_') && String(v).startsWith('v:'),
            ),
          )
        })
      const before = await valuesByColumn()
      expect(new Set(before.values())).toEqual(new Set(HOSTILE.map((n) => `v:${n}`)))
      expect(before.get('cf_優先度')).toBe('v:優先度')
      expect(before.get('cf_приоритет')).toBe('v:Приоритет')
      // The base column keeps its meaning.
      const [base] = await inSession(p, (q) =>
        q(`SELECT status FROM thena.requests_enriched WHERE request_id = '${id}'`),
      )
      expect(base!.status).not.toBe('v:status')

      // Definitions that sort before the others: every column keeps its field.
      addValues(s, ['カテゴリ', 'Категория', ...HOSTILE])
      const run = await runOk(p, { mode: 'reconcile' })
      expect(run.views?.find((v) => v.name === 'requests_enriched')?.status).toBe('built')
      const after = await valuesByColumn()
      for (const [column, value] of before) expect(after.get(column), column).toBe(value)
      expect(after.size).toBe(before.size + 2)
    })
  })
}
