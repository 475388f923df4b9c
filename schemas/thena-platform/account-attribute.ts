/**
 * Changelog: v1 (2026-12): the fields in shared/reference/thena-api.md §7.3.
 */
import { z } from 'zod'

export const AccountAttributeSchema = z
  .looseObject({
    id: z.string().min(1),
    attribute: z.string().nullish().describe('The kind asked for, e.g. `account_status`.'),
    value: z.string().nullish(),
    isDefault: z.boolean().nullish(),
    configuration: z.record(z.string(), z.unknown()).nullish(),
    createdAt: z.iso.datetime({ offset: true }).nullish(),
    updatedAt: z.iso.datetime({ offset: true }).nullish(),
  })
  .describe(
    'A Platform account attribute value (`GET /v1/accounts/attributes?attribute=<kind>`): one of the values an account status, classification, health, industry, contact type, activity, note or task field can take.',
  )

export type AccountAttribute = z.infer<typeof AccountAttributeSchema>
