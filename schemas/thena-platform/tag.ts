/**
 * Changelog: v1 (2026-12): the fields in shared/reference/thena-api.md §7.5 plus `tagType`
 * (from the PATCH body).
 */
import { z } from 'zod'

const text = z.string().nullish()

export const TagSchema = z
  .looseObject({
    id: z.string().min(1),
    name: text,
    description: text,
    color: text.describe('Hex, e.g. `#4f46e5`.'),
    tagType: text.describe('`ticket` or `skills`.'),
    createdAt: z.iso.datetime({ offset: true }).nullish(),
    updatedAt: z.iso.datetime({ offset: true }).nullish(),
  })
  .describe('A Platform tag (`GET /v1/tags`).')

export type Tag = z.infer<typeof TagSchema>
