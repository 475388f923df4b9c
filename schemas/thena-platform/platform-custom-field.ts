/**
 * Changelog: v1 (2026-12): the fields in shared/reference/thena-api.md §7.6.
 */
import { z } from 'zod'

const text = z.string().nullish()
const flag = z.boolean().nullish()

export const PlatformCustomFieldSchema = z
  .looseObject({
    uid: z.string().min(1),
    name: text,
    slug: text,
    organizationId: text,
    source: text.describe('`ticket`, `account`, `custom_object` or `customer_contact`.'),
    fieldType: text.describe(
      'E.g. `single_line`, `integer`, `single_choice`, `multi_choice`, `date`.',
    ),
    options: z
      .array(z.looseObject({}))
      .nullish()
      .describe('The choices of a choice field (shape not documented: objects kept as they come).'),
    metadata: z.record(z.string(), z.unknown()).nullish(),
    createdAt: z.iso.datetime({ offset: true }).nullish(),
    updatedAt: z.iso.datetime({ offset: true }).nullish(),
    isActive: flag,
    teamId: text,
    autoAddToAllForms: flag,
    hintText: text,
    placeholderText: text,
    mandatoryOnCreation: flag,
    mandatoryOnClose: flag,
    visibleToCustomer: flag,
    editableByCustomer: flag,
    defaultValue: z.unknown().describe('Type depends on `fieldType`: not declared.'),
  })
  .describe(
    'A Platform custom-field definition (`GET /v1/custom-field`). Keyed by `uid`: there is no `id`. Records refer to it as `customFieldValues[].customFieldId`.',
  )

export type PlatformCustomField = z.infer<typeof PlatformCustomFieldSchema>
