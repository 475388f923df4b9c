/**
 * Changelog: v1 (2026-12): the fields in shared/reference/thena-api.md §7.4.
 */
import { z } from 'zod'

const text = z.string().nullish()

export const PlatformUserSchema = z
  .looseObject({
    id: z.string().min(1),
    name: text,
    email: text,
    userType: text.describe('E.g. `ORG_ADMIN`, `USER`.'),
    status: text,
    isActive: z.boolean().nullish(),
    lastLoginAt: z.iso.datetime({ offset: true }).nullish(),
    avatarUrl: text,
    timezone: text.describe('IANA zone, e.g. `Europe/Berlin`.'),
    createdAt: z.iso.datetime({ offset: true }).nullish(),
    updatedAt: z.iso.datetime({ offset: true }).nullish(),
  })
  .describe(
    "A Platform user (`GET /v1/users/list`). The list's documented example is a doc error, so these are the user object's fields from `PATCH /v1/users`.",
  )

export type PlatformUser = z.infer<typeof PlatformUserSchema>
