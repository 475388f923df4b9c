/**
 * Changelog: v1 (2026-12): the fields in shared/reference/thena-api.md §7.2, with the
 * denormalised `team*` block. Objects are loose: fields the API adds later are kept.
 */
import { z } from 'zod'

const text = z.string().nullish()
const flag = z.boolean().nullish()
const timestamp = z.iso.datetime({ offset: true }).nullish()

export const CustomFieldValueSchema = z
  .looseObject({
    customFieldId: text,
    data: z.array(z.looseObject({ value: z.unknown() })).nullish(),
  })
  .describe('One value of a custom field on a record: `{customFieldId, data: [{value}]}`.')

export const TicketSchema = z
  .looseObject({
    id: z.string().min(1),
    ticketIdentifier: text.describe('Team identifier and number, e.g. `SUP-12`.'),
    title: text,
    ticketId: z.number().int().nullish().describe('The number in `ticketIdentifier`.'),
    description: text,
    source: text,
    accountId: text,
    account: text.describe("The account's name."),
    status: text,
    statusId: text,
    priority: text,
    priorityId: text,
    storyPoints: z.number().nullish(),
    teamId: text,
    teamName: text,
    teamIdentifier: text,
    subTeamId: text,
    subTeamName: text,
    subTeamIdentifier: text,
    isPrivate: flag,
    typeId: text,
    type: text,
    assignedAgent: text.describe("The assigned agent's name."),
    assignedAgentId: text,
    assignedAgentEmail: text,
    assignedAgentAvatar: text,
    requestorEmail: text,
    customerContactId: text,
    customerContactFirstName: text,
    customerContactLastName: text,
    customerContactEmail: text,
    submitterEmail: text,
    customFieldValues: z.array(CustomFieldValueSchema).nullish(),
    deletedAt: timestamp,
    archivedAt: timestamp,
    createdAt: timestamp,
    updatedAt: timestamp,
    formId: text,
    aiGeneratedTitle: text,
    aiGeneratedSummary: text,
    sentiment: text,
    sentimentId: text,
    teamIcon: text,
    teamColor: text,
    teamOrganizationId: text,
    teamParentTeamId: text,
    teamDescription: text,
    teamConfigurationId: text,
    teamTeamOwnerId: text,
    teamIsActive: flag,
    teamIsPrivate: flag,
    teamCreatedAt: timestamp,
    teamUpdatedAt: timestamp,
    teamDeletedAt: timestamp,
    teamArchivedAt: timestamp,
  })
  .describe('A Platform ticket (`GET /v1/tickets`).')

export type Ticket = z.infer<typeof TicketSchema>
export type CustomFieldValue = z.infer<typeof CustomFieldValueSchema>
