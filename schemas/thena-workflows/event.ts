/**
 * Changelog (additive only: a new field is optional, a field is never removed or narrowed):
 * - v1 (2026-12): the fields of a workflow's `triggerEvent` (shared/reference/thena-api.md §10)
 *   plus timestamps [INF], all optional.
 */
import { z } from 'zod'

const text = z.string().nullish()
const json = z.record(z.string(), z.unknown()).nullish()
const timestamp = z.iso.datetime({ offset: true }).nullish()

export const EventSchema = z
  .looseObject({
    uid: z.string().min(1),
    eventName: text,
    description: text,
    source: text.describe("`platform_app` in the docs' example."),
    schema: json.describe("The event payload's schema."),
    metadata: json,
    createdAt: timestamp,
    updatedAt: timestamp,
  })
  .describe(
    'An event of the registry (Workflows API, `GET /events` [INF]): what can trigger a workflow.',
  )

export type Event = z.infer<typeof EventSchema>
