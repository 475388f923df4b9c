/**
 * A reject keeps no secret: an API that echoes the token inside a record it sends without a
 * usable id leaves the token in neither the reject's raw JSON nor its record id.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { runPipeline } from '../../src/pipeline/run-pipeline.js'
import { startSimulator } from '../../sources/thena/simulator/index.js'
import type { Simulator } from '../../sources/thena/simulator/index.js'
import { DESTINATION_KINDS, dumpWarehouse } from '../helpers/destinations.js'
import { simulatorPipeline } from '../helpers/pipeline.js'
import { startScriptedApi } from '../helpers/scripted-api.js'
import type { ScriptedApi } from '../helpers/scripted-api.js'
import { rowsOf } from '../helpers/truth.js'

let sim: Simulator | undefined
let api: ScriptedApi | undefined
afterEach(async () => {
  await api?.close()
  await sim?.stop()
  api = sim = undefined
})

const TOKEN = 'tok-echoed-in-an-id-7731'

for (const kind of DESTINATION_KINDS) {
  describe(`rejects into ${kind.name}`, () => {
    it('a record whose unusable id echoes the token is rejected without the token', async () => {
      const s = (sim = await startSimulator({ rateLimit: false, records: 20, token: TOKEN }))
      const a = (api = await startScriptedApi(s, async ({ url, nth }, forward) => {
        if (url.pathname !== '/rest/v2/requests' || nth !== 1) return undefined
        const page = await forward()
        const body = JSON.parse(page.body!) as { data: { results: { id: unknown }[] } }
        // Over 1,000 bytes: not a usable id, so the record goes to _thena_rejects.
        body.data.results[0]!.id = `${TOKEN}:${'x'.repeat(1000)}`
        return { ...page, body: JSON.stringify(body) }
      }))
      const pipeline = simulatorPipeline(a, {}, await kind.freshUrl())
      const result = await runPipeline(pipeline)
      expect(result.status).toBe('success')
      expect(result.rejects).toBe(1)
      const [reject] = await rowsOf(
        pipeline,
        `SELECT record_id, raw_json FROM thena._thena_rejects WHERE resource = 'requests'`,
      )
      expect(String(reject!.raw_json)).toContain('***:xxx')
      expect(String(reject!.record_id)).toMatch(/^\*\*\*:x+$/)
      expect(dumpWarehouse(pipeline)).not.toContain(TOKEN)
    })
  })
}
