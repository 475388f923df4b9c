/**
 * Changelog: v1 (2026-12): the fields in shared/reference/thena-api.md §7.4.
 */
import { z } from 'zod'

const text = z.string().nullish()
const flag = z.boolean().nullish()

export const TeamSchema = z
  .looseObject({
    id: z.string().min(1),
    name: text,
    icon: text,
    color: text,
    parentTeamId: text,
    parentTeamName: text,
    teamId: text,
    identifier: text.describe("The prefix of the team's ticket identifiers, e.g. `SUP`."),
    description: text,
    teamOwner: text.describe("The owner's name."),
    teamOwnerId: text,
    fallbackSubTeam: text,
    createdAt: z.iso.datetime({ offset: true }).nullish(),
    isActive: flag,
    isPrivate: flag,
    archivedAt: z.iso.datetime({ offset: true }).nullish(),
    updatedAt: z.iso.datetime({ offset: true }).nullish(),
  })
  .describe("A Platform team (`GET /v1/teams`, the teams the key's user is part of).")

export type Team = z.infer<typeof TeamSchema>
