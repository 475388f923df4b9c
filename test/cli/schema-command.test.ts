import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { afterEach, describe, expect, it } from 'vitest'
import type { z } from 'zod'
import { startSimulator } from '../../sources/thena/simulator/index.js'
import type { Simulator } from '../../sources/thena/simulator/index.js'
import { runCli } from '../helpers/cli.js'
import { DESTINATION_KINDS } from '../helpers/destinations.js'
import { tempDir } from '../helpers/pipeline.js'
import { rowsOf } from '../helpers/truth.js'
import { resolvePipeline } from '../../src/config/resolve-pipeline.js'
import type { ResolvedPipeline } from '../../src/config/resolve-pipeline.js'
import { defineSource } from '../../src/source/define-source.js'
import { runPipeline } from '../../src/pipeline/run-pipeline.js'
import { thenaSource } from '../../sources/thena/index.js'

/** Every column of `requests` and its child tables, with its type, sorted. */
async function requestColumns(pipeline: ResolvedPipeline): Promise<string[]> {
  const rows = await rowsOf(
    pipeline,
    `SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = 'thena'`,
  )
  return rows
    .filter((r) => /^requests($|__)/.test(String(r.table_name)))
    .map((r) => `${String(r.table_name)}.${String(r.column_name)} ${String(r.data_type)}`)
    .sort()
}

let sim: Simulator | undefined
afterEach(async () => {
  await sim?.stop()
  sim = undefined
})

for (const kind of DESTINATION_KINDS) {
  describe(`thena-sync schema (CLI) on ${kind.name}`, () => {
    it('shows the column of every source path, the history, and zod source that parses the records', async () => {
      const s = (sim = await startSimulator({ rateLimit: false, records: 80 }))
      s.mutate({ op: 'addField', path: 'escalation.level', type: 'integer' })
      s.mutate({ op: 'changeFieldType', path: 'escalation.level', type: 'string', fromIndex: 40 })
      // A declared field changing type, as Thena might: it lands in a variant too.
      s.mutate({
        op: 'changeFieldType',
        path: 'first_response_time.actual_time',
        type: 'string',
        fromIndex: 60,
      })
      const dir = tempDir()
      const env = {
        THENA_API_TOKEN: s.token,
        THENA_BASE_URL: s.url,
        THENA_DESTINATION: await kind.freshUrl(),
      }
      expect((await runCli(['run'], { cwd: dir, env })).code).toBe(0)
      const tables = await runCli(['schema', '--resource', 'requests'], { cwd: dir, env })
      expect(tables.code).toBe(0)
      expect(tables.stdout).toMatch(
        /sla_metrics__first_response_sla__is_breached\s*│\s*boolean\s*│\s*sla_metrics\.first_response_sla\.is_breached/,
      )
      expect(tables.stdout).toMatch(
        /escalation__level__v_text\s*│\s*text\s*│\s*escalation\.level\s*│\s*escalation__level/,
      )
      expect(tables.stdout).toContain(
        'requests__custom_fields: child of requests (array custom_fields)',
      )
      expect(tables.stdout).not.toContain('\nusers:')
      const history = await runCli(['schema', '--history', '--resource', 'requests'], {
        cwd: dir,
        env,
      })
      expect(history.stdout).toContain('create_table')
      expect(history.stdout).toContain('escalation__level__v_text')
      const unknown = await runCli(['schema', '--resource', 'tickets'], { cwd: dir, env })
      expect(unknown.code).toBe(2)
      expect(unknown.stderr).toContain('--resource: no table for `tickets`')
      const zod = await runCli(['schema', '--zod', '--resource', 'requests'], { cwd: dir, env })
      expect(zod.code).toBe(0)
      expect(zod.stdout).toContain('export const RequestsSchema = z.looseObject({')
      // The generated source compiles and accepts every record the API serves.
      const folder = join(import.meta.dirname, `.zod-${randomBytes(4).toString('hex')}`)
      mkdirSync(folder)
      try {
        writeFileSync(join(folder, 'requests.ts'), zod.stdout)
        const module = (await import(join(folder, 'requests.ts'))) as { RequestsSchema: z.ZodType }
        for (const record of s.truth.requests()) {
          const parsed = module.RequestsSchema.safeParse(record)
          expect(parsed.error?.message).toBeUndefined()
        }
        // Pinned, it gives the same columns with the same types as the evolved warehouse.
        const pinned = resolvePipeline(
          {
            pipelines: {
              thena: {
                token: s.token,
                baseUrl: s.url,
                destination: await kind.freshUrl(),
                source: defineSource({
                  name: 'pinned',
                  resources: thenaSource.resources.map((r) =>
                    r.name === 'requests' ? { ...r, schema: module.RequestsSchema } : r,
                  ),
                }),
              },
            },
          },
          'thena',
          {},
        )
        expect((await runPipeline(pinned)).status).toBe('success')
        const evolved = resolvePipeline(
          { pipelines: { thena: { token: s.token, destination: env.THENA_DESTINATION } } },
          'thena',
          {},
        )
        expect(await requestColumns(pinned)).toEqual(await requestColumns(evolved))
      } finally {
        rmSync(folder, { recursive: true, force: true })
      }
    })
  })
}
