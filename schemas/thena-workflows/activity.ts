/**
 * Changelog (additive only: a new field is optional, a field is never removed or narrowed):
 * - v1 (2026-12): the reference names the registry but not its record [UNK]: the fields a step's
 *   `activity` carries (§10), plus description, source, input and output schemas, whether it can
 *   be compensated, and timestamps, all optional.
 */
import { z } from 'zod'

const text = z.string().nullish()
const json = z.record(z.string(), z.unknown()).nullish()
const timestamp = z.iso.datetime({ offset: true }).nullish()

export const ActivitySchema = z
  .looseObject({
    uid: z.string().min(1),
    uniqueIdentifier: text.describe(
      'Shared by every version of the activity; steps name it with `version`.',
    ),
    name: text,
    version: z.number().int().nullish(),
    description: text,
    source: text,
    inputSchema: json,
    outputSchema: json,
    isCompensable: z.boolean().nullish(),
    createdAt: timestamp,
    updatedAt: timestamp,
  })
  .describe(
    'An activity of the registry (Workflows API, `GET /activities` [INF]): what a workflow step can run.',
  )

export type Activity = z.infer<typeof ActivitySchema>
