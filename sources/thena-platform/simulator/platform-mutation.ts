import { z } from 'zod'
import { FIELD_VALUE_TYPES } from './platform-dataset.js'
import type { MutationOutcome, PlatformDataset } from './platform-dataset.js'
import { PLATFORM_ROUTES } from './platform-simulator-options.js'

const count = z.number().int().min(0).max(1_000_000)
const counted = <Op extends string>(op: Op) => z.strictObject({ op: z.literal(op), count })
const resource = z.enum(PLATFORM_ROUTES)

/**
 * A change to the simulated Platform, as sent to `POST /__admin/mutations` or `sim.mutate()`.
 * Which records a change picks depends only on the seed and on the mutations before it.
 */
export const platformMutationSchema = z.discriminatedUnion('op', [
  counted('newTickets'),
  /** Status, priority and title of `count` tickets spread over the list; `updatedAt` = now. */
  counted('updateTickets'),
  /** Soft delete: `deletedAt` = `updatedAt` = now. */
  counted('deleteTickets'),
  /** On tickets spread over the list; bumps the ticket's `updatedAt` if `commentsTouchTicket`. */
  counted('newComments'),
  /** New content, `isEdited`, `updatedAt`; touches the ticket likewise. */
  counted('updateComments'),
  /** `deletedAt` = `updatedAt` = now; touches the ticket likewise. */
  counted('deleteComments'),
  counted('newAccounts'),
  /** Status and classification; `updatedAt` = now. */
  counted('updateAccounts'),
  /** Hard delete: the accounts leave the list (tickets and contacts keep their references). */
  counted('removeAccounts'),
  /** Contacts of accounts spread over the list. */
  counted('newContacts'),
  /** Users join teams they are not in, round-robin over the teams. */
  counted('addTeamMembers'),
  /** Members other than the owner leave their team; nothing else changes. */
  counted('removeTeamMembers'),
  counted('newTags'),
  /** Every record of `resource`, present and future, gets `field`; `updatedAt` is not bumped. */
  z.strictObject({
    op: z.literal('addField'),
    resource,
    field: z.string().min(1),
    value: z.enum(FIELD_VALUE_TYPES),
  }),
  /**
   * `field` changes type where it has a value (number → `"3 pts"`, string → number, boolean →
   * `yes`/`no`, object → JSON text), bumping those records' `updatedAt`; future records follow.
   */
  z.strictObject({ op: z.literal('changeFieldType'), resource, field: z.string().min(1) }),
])

export type PlatformMutation = z.input<typeof platformMutationSchema>

/** What a mutation did, as `mutate()` and the admin route return it. */
export interface PlatformMutationResult extends MutationOutcome {
  readonly op: PlatformMutation['op']
}

/** Applies a mutation; throws with a readable message when it is not a valid one. */
export function applyPlatformMutation(
  dataset: PlatformDataset,
  input: unknown,
): PlatformMutationResult {
  const parsed = platformMutationSchema.safeParse(input)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!
    throw new Error(`Invalid mutation \`${issue.path.join('.') || 'op'}\`: ${issue.message}`)
  }
  const m = parsed.data
  const outcome = (() => {
    switch (m.op) {
      case 'addField':
        return dataset.addField(m.resource, m.field, m.value)
      case 'changeFieldType':
        return dataset.changeFieldType(m.resource, m.field)
      default:
        return dataset[m.op](m.count)
    }
  })()
  return { op: m.op, ...outcome }
}
