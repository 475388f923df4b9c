/**
 * Changelog: v1 (2026-12): the fields in shared/reference/other-apis.md; anything else lands
 * as it comes.
 */
import { z } from 'zod'

export const SEVERITIES = ['critical', 'high', 'medium', 'low', 'info'] as const

export const FindingSchema = z
  .looseObject({
    id: z.uuid(),
    title: z.string(),
    severity: z.enum(SEVERITIES),
    category: z.string(),
    status: z.string(),
    rule_id: z.string().nullish(),
    affected_entities: z
      .record(z.string(), z.unknown())
      .nullish()
      .describe('Entities the finding is about, by kind (identities, apps, integrations).'),
    recommended_action: z.string().nullish(),
    created_at: z.iso.datetime({ offset: true }),
  })
  .describe('A Thalian security finding (`GET /api/mcp/findings`, array at `findings`).')

export type Finding = z.infer<typeof FindingSchema>
