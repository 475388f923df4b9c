/**
 * Thalian's API (security posture: findings, integrations, risk score, posture summary, audit
 * log), declared as data: shared/reference/other-apis.md has every public fact. Nothing in
 * src/ knows about it. Where the docs are silent (the paging of findings), the declaration
 * says what it assumes, and a pipeline can override it.
 */
import { env } from '../../src/config/env.js'
import type { PipelineConfig } from '../../src/config/define-config.js'
import { defineResource, defineSource } from '../../src/source/define-source.js'
import {
  AuditEntrySchema,
  FindingSchema,
  IntegrationSchema,
  PostureSummarySchema,
  RiskScoreSchema,
} from '../../schemas/thalian/index.js'

/** One request, whatever the body holds: the list and snapshot endpoints have no paging. */
const onePage = { type: 'single_page' } as const

export const thalianSource = defineSource({
  name: 'thalian',
  client: {
    baseUrl: env('THALIAN_BASE_URL', 'https://app.thalian.ai'),
    auth: { type: 'bearer', token: env('THALIAN_API_KEY') },
    // 1,000 requests per hour per key, and no rate-limit headers to tell where a run stands.
    rateLimit: { requestsPerHour: 1000 },
  },
  // Without it, the key's own workspace; a malformed one is refused by the API (400).
  resourceDefaults: { params: { workspaceId: env('THALIAN_WORKSPACE_ID', '') } },
  resources: [
    defineResource({
      name: 'findings',
      path: '/api/mcp/findings',
      schema: FindingSchema,
      recordsPath: 'findings',
      primaryKey: 'id',
      // Not documented: `limit` (1-100) is. An API that ignores `offset` serves the same page
      // twice and the run stops with `pagination_loop` rather than loading 100 findings.
      paginator: { type: 'offset', limit: 100, totalPath: 'total' },
      // Findings change status and there is no updated-since filter: re-read every run.
      incremental: 'full_refresh',
    }),
    defineResource({
      name: 'integrations',
      path: '/api/mcp/integrations',
      schema: IntegrationSchema,
      recordsPath: 'integrations',
      primaryKey: 'platform',
      paginator: onePage,
      incremental: 'full_refresh',
    }),
    defineResource({
      name: 'risk_scores',
      path: '/api/mcp/risk-score',
      schema: RiskScoreSchema,
      recordsPath: [],
      primaryKey: 'snapshot_at',
      kind: 'snapshot',
      paginator: onePage,
    }),
    defineResource({
      name: 'posture_summaries',
      path: '/api/mcp/posture-summary',
      schema: PostureSummarySchema,
      recordsPath: [],
      primaryKey: 'snapshot_at',
      kind: 'snapshot',
      paginator: onePage,
    }),
    defineResource({
      name: 'audit_log',
      path: '/api/export-audit-log',
      method: 'POST',
      params: {},
      body: { workspaceId: env('THALIAN_WORKSPACE_ID', '') },
      schema: AuditEntrySchema,
      recordsPath: 'entries',
      primaryKey: 'id',
      paginator: { type: 'body_cursor', cursorPath: 'cursor', continuePath: 'truncated' },
      // The export takes a session token (Enterprise plan, role Auditor), not the API key.
      auth: { type: 'bearer', token: env('THALIAN_SESSION_TOKEN') },
      enabled: env('THALIAN_SESSION_TOKEN', ''),
      incremental: 'full_refresh',
    }),
  ],
})

/**
 * The `thalian` pipeline: dataset `thalian`, in the same destination as `thena`, run once
 * `THALIAN_API_KEY` is set.
 */
export const thalianPipeline: PipelineConfig = {
  enabled: env('THALIAN_API_KEY', ''),
  source: thalianSource,
  dataset: 'thalian',
  destination: env('THENA_DESTINATION', 'duckdb:./thena.duckdb'),
}
