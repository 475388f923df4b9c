/**
 * What a resource may be, declared only: records at any JSON path, a snapshot (one object, one
 * row per run), a key that is not `id`, query parameters, and a child read once per parent
 * with the parent's key on each row. On every destination.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { defineResource, defineSource } from '../../src/source/define-source.js'
import { runPipeline } from '../../src/pipeline/run-pipeline.js'
import { DESTINATION_KINDS } from '../helpers/destinations.js'
import { startStandInApi } from '../helpers/http.js'
import type { StandInApi } from '../helpers/http.js'
import { simulatorPipeline } from '../helpers/pipeline.js'
import { rowsOf } from '../helpers/truth.js'

const team = z.object({ id: z.string(), name: z.string() })
const member = z.object({ user: z.string(), role: z.string() })
const integration = z.object({ platform: z.string(), status: z.string() })
const score = z.object({ score: z.number(), label: z.string() })

const source = defineSource({
  name: 'kinds',
  resources: [
    defineResource({
      name: 'teams',
      path: '/teams',
      schema: team,
      recordsPath: 'data.results',
      primaryKey: 'id',
      params: { include: 'all' },
    }),
    defineResource({
      name: 'team_members',
      path: '/teams/{id}/members',
      schema: member,
      recordsPath: [],
      primaryKey: 'user',
      parent: { resource: 'teams', key: 'team_id' },
    }),
    defineResource({
      name: 'integrations',
      path: '/integrations',
      schema: integration,
      recordsPath: 'integrations',
      primaryKey: 'platform',
    }),
    defineResource({
      name: 'risk_scores',
      path: '/risk-score',
      schema: score,
      recordsPath: [],
      primaryKey: 'snapshot_at',
      kind: 'snapshot',
    }),
  ],
})

let api: StandInApi | undefined
afterEach(() => api?.close())

for (const kind of DESTINATION_KINDS) {
  describe(`resource kinds into ${kind.name}`, () => {
    it('loads paths, keys, snapshots and children as declared, and each run adds one snapshot row', async () => {
      const asked: string[] = []
      // Read at each request: the snapshot changes between the two runs.
      const routes: Record<string, unknown> = {
        '/teams': {
          data: {
            results: [
              { id: 't1', name: 'One' },
              { id: 't/2', name: 'Two' },
            ],
          },
        },
        '/teams/t1/members': [
          { user: 'u1', role: 'lead' },
          { user: 'u2', role: 'agent' },
        ],
        // u2 is in both teams: one row per team.
        '/teams/t%2F2/members': [
          { user: 'u3', role: 'agent' },
          { user: 'u2', role: 'lead' },
        ],
        '/integrations': {
          integrations: [
            { platform: 'okta', status: 'connected' },
            { platform: 'slack', status: 'error' },
          ],
          total_count: 2,
        },
        '/risk-score': { score: 41, label: 'medium' },
      }
      api = await startStandInApi(routes, (url) => asked.push(`${url.pathname}${url.search}`))
      const pipeline = simulatorPipeline(api, { source, dataset: 'kinds' }, await kind.freshUrl())
      const first = await runPipeline(pipeline)
      expect(first.error?.message).toBeUndefined()
      expect(first.status).toBe('success')
      expect(asked).toContain('/teams?include=all')
      expect(await rowsOf(pipeline, 'SELECT id, name FROM kinds.teams ORDER BY id')).toEqual([
        { id: 't/2', name: 'Two' },
        { id: 't1', name: 'One' },
      ])
      expect(
        await rowsOf(
          pipeline,
          'SELECT team_id, "user", role, team_id_user FROM kinds.team_members ORDER BY "user", team_id',
        ),
      ).toEqual([
        { team_id: 't1', user: 'u1', role: 'lead', team_id_user: '["t1","u1"]' },
        { team_id: 't/2', user: 'u2', role: 'lead', team_id_user: '["t/2","u2"]' },
        { team_id: 't1', user: 'u2', role: 'agent', team_id_user: '["t1","u2"]' },
        { team_id: 't/2', user: 'u3', role: 'agent', team_id_user: '["t/2","u3"]' },
      ])
      expect(
        await rowsOf(pipeline, 'SELECT platform, status FROM kinds.integrations ORDER BY platform'),
      ).toEqual([
        { platform: 'okta', status: 'connected' },
        { platform: 'slack', status: 'error' },
      ])
      routes['/risk-score'] = { score: 57, label: 'high' }
      expect((await runPipeline(pipeline)).status).toBe('success')
      const scores = await rowsOf(
        pipeline,
        'SELECT snapshot_at, score FROM kinds.risk_scores ORDER BY snapshot_at',
      )
      expect(scores).toHaveLength(2)
      expect(scores.map((r) => r.score)).toEqual([41, 57])
      expect(scores[0]!.snapshot_at).not.toEqual(scores[1]!.snapshot_at)
    })
  })
}
