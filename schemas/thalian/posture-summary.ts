/**
 * Changelog: v1 (2026-12): the fields in shared/reference/other-apis.md.
 */
import { z } from 'zod'
import { SeverityCountsSchema } from './risk-score.js'

export const PostureSummarySchema = z
  .looseObject({
    summary: z.string(),
    metrics: z.looseObject({
      risk_score: z.number(),
      risk_label: z.string(),
      total_findings: z.number().int(),
      severity_counts: SeverityCountsSchema,
      mfa_coverage_pct: z.number().optional(),
      admin_pct: z.number().optional(),
      sso_coverage_pct: z.number().optional(),
      shadow_it_count: z.number().int().optional(),
      connected_integrations: z.number().int(),
      identity_count: z.number().int(),
    }),
  })
  .describe(
    "The workspace's posture summary (`GET /api/mcp/posture-summary`, one object): a snapshot, kept as one row per run. Metrics marked optional are left out when Thalian does not know them.",
  )

export type PostureSummary = z.infer<typeof PostureSummarySchema>
