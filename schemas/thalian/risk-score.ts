/**
 * Changelog: v1 (2026-12): the fields in shared/reference/other-apis.md.
 */
import { z } from 'zod'
import { SEVERITIES } from './finding.js'

const severityCounts = z.looseObject({
  critical: z.number().int(),
  high: z.number().int(),
  medium: z.number().int(),
  low: z.number().int(),
})

export const RiskScoreSchema = z
  .looseObject({
    score: z.number(),
    label: z.string(),
    severity_counts: severityCounts,
    total_findings: z.number().int(),
    top_risks: z
      .array(
        z.looseObject({
          title: z.string(),
          severity: z.enum(SEVERITIES),
          category: z.string(),
          affected_count: z.number().int(),
        }),
      )
      .nullish(),
  })
  .describe(
    "The workspace's risk score (`GET /api/mcp/risk-score`, one object, no id): a snapshot, kept as one row per run.",
  )

export type RiskScore = z.infer<typeof RiskScoreSchema>
export { severityCounts as SeverityCountsSchema }
