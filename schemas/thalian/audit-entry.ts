/**
 * Changelog: v1 (2026-12): the fields in shared/reference/other-apis.md.
 */
import { z } from 'zod'

export const AuditEntrySchema = z
  .looseObject({
    id: z.uuid(),
    workspace_id: z.uuid(),
    user_id: z.string().nullish(),
    action: z.string(),
    actor_email: z.string().nullish(),
    target_type: z.string().nullish(),
    target_id: z.string().nullish(),
    details: z.record(z.string(), z.unknown()).nullish(),
    content_hash: z.string().nullish(),
    created_at: z.iso.datetime({ offset: true }),
  })
  .describe(
    'An audit-log entry (`POST /api/export-audit-log`, array at `entries`; Enterprise plan, session token, role Auditor).',
  )

export type AuditEntry = z.infer<typeof AuditEntrySchema>
