/**
 * Changelog: v1 (2026-12): the fields in shared/reference/thena-api.md §7.3 (the search and
 * filter variant's; the older list example's `userId, user, userEmail` are not declared).
 */
import { z } from 'zod'
import { CustomFieldValueSchema } from './ticket.js'

const text = z.string().nullish()

export const ContactSchema = z
  .looseObject({
    id: z.string().min(1),
    firstName: text,
    lastName: text,
    email: text,
    phoneNumber: text,
    avatarUrl: text,
    accounts: z
      .array(z.looseObject({ id: z.string().min(1), name: text }))
      .nullish()
      .describe('The accounts the contact belongs to.'),
    contactTypeId: text,
    contactType: text,
    customFieldValues: z.array(CustomFieldValueSchema).nullish(),
    metadata: z.record(z.string(), z.unknown()).nullish(),
    createdAt: z.iso.datetime({ offset: true }).nullish(),
    updatedAt: z.iso.datetime({ offset: true }).nullish(),
  })
  .describe('A Platform customer contact (`GET /v1/accounts/contacts`).')

export type Contact = z.infer<typeof ContactSchema>
