/**
 * A Platform tag (`GET /v1/tags`).
 *
 * Changelog: v1 (2026-12): the fields in shared/reference/thena-api.md §7.5 plus `tagType`
 * (from the PATCH body).
 */
import { z } from 'zod'

const text = z.string().nullish()

export const TagSchema = z.looseObject({
  id: z.string().min(1),
  name: text,
  description: text,
  /** Hex, e.g. `#4f46e5`. */
  color: text,
  /** `ticket` or `skills`. */
  tagType: text,
  createdAt: z.iso.datetime({ offset: true }).nullish(),
  updatedAt: z.iso.datetime({ offset: true }).nullish(),
})

export type Tag = z.infer<typeof TagSchema>
