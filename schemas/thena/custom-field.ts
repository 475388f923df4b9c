/**
 * Changelog: v1 (2026-11): only `id` is required. The definition schema is not documented
 * (shared/reference/thena-api.md §3.6), so everything else lands as it comes.
 */
import { z } from 'zod'

export const CustomFieldSchema = z
  .looseObject({
    id: z.string().min(1),
  })
  .describe('A request custom-field definition (bolt `/rest/v2/requests/custom-fields`).')

export type CustomField = z.infer<typeof CustomFieldSchema>
