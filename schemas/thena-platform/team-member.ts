/**
 * Changelog: v1 (2026-12): the fields in shared/reference/thena-api.md §7.4.
 */
import { z } from 'zod'

const text = z.string().nullish()
const flag = z.boolean().nullish()

export const TeamMemberSchema = z
  .looseObject({
    id: z.string().min(1),
    name: text,
    email: text,
    teamId: text,
    teamName: text,
    isActive: flag,
    role: text,
    userType: text,
    isOwner: flag,
    avatarUrl: text,
    joinedAt: z.iso.datetime({ offset: true }).nullish(),
    createdAt: z.iso.datetime({ offset: true }).nullish(),
    metadata: z.record(z.string(), z.unknown()).nullish(),
    invitedBy: text.describe('Id of the user who invited the member.'),
  })
  .describe(
    "A member of a Platform team (`GET /v1/teams/{teamId}/members`). `id` is the user's id, so a user in two teams comes back twice: key rows on the team and the id together.",
  )

export type TeamMember = z.infer<typeof TeamMemberSchema>
