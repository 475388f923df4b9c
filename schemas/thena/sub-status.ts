/**
 * Changelog: v1 (2026-11): only `id` is required. The element schema is not documented
 * (shared/reference/thena-api.md §3.7), so everything else lands as it comes.
 */
import { z } from 'zod'

export const SubStatusSchema = z
  .looseObject({
    id: z.string().min(1),
    name: z.string().nullish(),
  })
  .describe('A request sub-status (bolt `/rest/v2/requests/sub-status`, a bare array).')

export type SubStatus = z.infer<typeof SubStatusSchema>
