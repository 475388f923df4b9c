/**
 * Changelog: v1 (2026-12): the fields in shared/reference/thena-api.md §7.3 (the list's;
 * the detail endpoint's extra fields are not declared and land as they come).
 */
import { z } from 'zod'
import { CustomFieldValueSchema } from './ticket.js'

const text = z.string().nullish()

export const AccountSchema = z
  .looseObject({
    id: z.string().min(1),
    name: text,
    statusId: text,
    status: text,
    classificationId: text,
    classification: text,
    primaryDomain: text,
    accountOwner: text.describe("The owner's name."),
    accountOwnerId: text,
    accountOwnerEmail: text,
    customFieldValues: z.array(CustomFieldValueSchema).nullish(),
    createdAt: z.iso.datetime({ offset: true }).nullish(),
    updatedAt: z.iso.datetime({ offset: true }).nullish(),
  })
  .describe('A Platform account (`GET /v1/accounts`).')

export type Account = z.infer<typeof AccountSchema>
