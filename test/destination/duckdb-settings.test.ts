/**
 * DuckDB's memory limit and spill directory are settings; readers are not bounded by the
 * loader's limit; records of many megabytes load and update run after run.
 */
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { resolvePipeline } from '../../src/config/resolve-pipeline.js'
import type { PipelineConfig } from '../../src/config/define-config.js'
import { runPipeline } from '../../src/pipeline/run-pipeline.js'
import { startSimulator } from '../../sources/thena/simulator/index.js'
import type { Simulator } from '../../sources/thena/simulator/index.js'
import { runCli } from '../helpers/cli.js'
import { tempDir } from '../helpers/pipeline.js'

let sim: Simulator | undefined
afterEach(async () => {
  await sim?.stop()
  sim = undefined
})

const resolve = (env: NodeJS.ProcessEnv, overrides: Partial<PipelineConfig> = {}) =>
  resolvePipeline(
    {
      pipelines: {
        thena: {
          token: 't',
          destination: `duckdb:${join(tempDir(), 'thena.duckdb')}`,
          ...overrides,
        },
      },
    },
    'thena',
    env,
  )

async function settingsOf(p: ReturnType<typeof resolve>, readOnly: boolean) {
  const session = await p.destination.connect({ readOnly })
  try {
    await session.prepare().catch(() => undefined)
    const { rows } = await session.query(
      `SELECT current_setting('memory_limit') AS memory, current_setting('temp_directory') AS temp`,
    )
    return rows[0] as { memory: string; temp: string }
  } finally {
    await session.close()
  }
}

describe('DuckDB settings', () => {
  it('the memory limit and temp directory come from the environment, or the config, which wins', async () => {
    const spill = tempDir()
    const fromEnv = resolve({
      THENA_DUCKDB_MEMORY_LIMIT: '300MB',
      THENA_DUCKDB_TEMP_DIRECTORY: spill,
    })
    expect(await settingsOf(fromEnv, false)).toEqual({ memory: '286.1 MiB', temp: spill })
    // A reader is not bounded by the loader's limit: DuckDB's own default applies.
    expect((await settingsOf(fromEnv, true)).memory).not.toBe('286.1 MiB')
    const fromConfig = resolve(
      { THENA_DUCKDB_MEMORY_LIMIT: '300MB' },
      { duckdb: { memoryLimit: '1GiB' } },
    )
    expect((await settingsOf(fromConfig, false)).memory).toBe('1.0 GiB')
    // The default: 256 MB, spilling next to the file.
    const plain = resolve({})
    const defaults = await settingsOf(plain, false)
    expect(defaults.memory).toBe('244.1 MiB')
    expect(defaults.temp).toBe(`${plain.destination.description.slice('duckdb:'.length)}.tmp`)
  })

  it('a bad size is one line naming the setting and the fix', () => {
    expect(() => resolve({ THENA_DUCKDB_MEMORY_LIMIT: 'lots' })).toThrow(
      'THENA_DUCKDB_MEMORY_LIMIT: expected a size such as `256MB` or `2GB`, got `lots`',
    )
    expect(() => resolve({}, { duckdb: { memoryLimit: '16MB' } })).toThrow(
      'pipelines.thena.duckdb.memoryLimit: expected at least `64MB` (DuckDB cannot checkpoint below), got `16MB`',
    )
  })

  it('an 8 MB record updated five times: every run succeeds, then `query` returns it', async () => {
    const s = (sim = await startSimulator({ rateLimit: false, records: 300 }))
    const dir = tempDir()
    const destination = `duckdb:${join(dir, 'thena.duckdb')}`
    const pipeline = resolvePipeline(
      { pipelines: { thena: { token: s.token, baseUrl: s.url, destination } } },
      'thena',
      {},
    )
    expect((await runPipeline(pipeline)).status).toBe('success')
    const id = [...s.truth.requests()].at(-1)!.id as string
    for (let i = 0; i < 5; i++) {
      s.mutate({
        op: 'updateRequests',
        ids: [id],
        set: {
          original_message_text: String(i).repeat(8 << 20),
          ai_metadata: { summary: 'y'.repeat(3 << 20) },
        },
      })
      const result = await runPipeline(pipeline)
      expect(result.error?.message).toBeUndefined()
      expect(result.status).toBe('success')
    }
    const backfill = await runPipeline(pipeline, { mode: 'backfill' })
    expect(backfill.error?.message).toBeUndefined()
    const res = await runCli(
      [
        'query',
        `SELECT length(original_message_text) AS n, left(original_message_text, 3) AS head, length(ai_metadata__summary) AS m FROM thena.requests WHERE id = '${id}'`,
        '--format',
        'json',
      ],
      { cwd: dir, env: { THENA_DESTINATION: destination } },
    )
    expect(res.stderr).toBe('')
    expect(JSON.parse(res.stdout)).toEqual([
      { n: String(8 << 20), head: '444', m: String(3 << 20) },
    ])
  }, 120_000)
})
