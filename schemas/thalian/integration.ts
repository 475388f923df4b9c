/**
 * Changelog: v1 (2026-12): the fields in shared/reference/other-apis.md.
 */
import { z } from 'zod'

export const INTEGRATION_STATUSES = [
  'connected',
  'disconnected',
  'error',
  'paused',
  'pending',
] as const

export const IntegrationSchema = z
  .looseObject({
    platform: z.string().min(1),
    category: z.string().nullish(),
    status: z.enum(INTEGRATION_STATUSES),
    last_sync_at: z.iso.datetime({ offset: true }).nullish(),
    idp_role: z.string().nullish().describe('Only for identity providers.'),
  })
  .describe(
    'A connected platform (`GET /api/mcp/integrations`, array at `integrations`); it has no id: `platform` is the key.',
  )

export type Integration = z.infer<typeof IntegrationSchema>
