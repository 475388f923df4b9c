/**
 * Changelog: v1 (2026-12): the fields in shared/reference/thena-api.md §7.2.
 */
import { z } from 'zod'

const text = z.string().nullish()

export const TicketStatusSchema = z
  .looseObject({
    id: z.string().min(1),
    name: text,
    displayName: text,
    description: text,
    isDefault: z.boolean().nullish(),
    teamId: text,
    organizationId: text,
    parentStatusId: text,
    createdAt: z.iso.datetime({ offset: true }).nullish(),
    updatedAt: z.iso.datetime({ offset: true }).nullish(),
  })
  .describe(
    'A Platform ticket status (`GET /v1/tickets/status`). Statuses nest: the default parents are Open, In progress, On hold and Closed; a child names its parent in `parentStatusId`.',
  )

export type TicketStatus = z.infer<typeof TicketStatusSchema>
