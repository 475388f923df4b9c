/**
 * Changelog (additive only: a new field is optional, a field is never removed or narrowed):
 * - v1 (2026-12): the reference names the endpoint but documents no field [UNK]: declared loose,
 *   with the key and a few fields. A task may not carry its workflow's `uid`: the loader stamps
 *   the parents' keys on each row.
 */
import { z } from 'zod'

const text = z.string().nullish()
const timestamp = z.iso.datetime({ offset: true }).nullish()

export const WorkflowTaskSchema = z
  .looseObject({
    id: z.string().min(1),
    executionId: text,
    stepIdentifier: z
      .union([z.number(), z.string()])
      .nullish()
      .describe("The step of the workflow's definition the task runs."),
    status: text.describe(
      '`PENDING`, `RUNNING`, `COMPLETED`, `FAILED`, `SKIPPED` in the simulator; not documented.',
    ),
    startedAt: timestamp,
    completedAt: timestamp,
    updatedAt: timestamp,
  })
  .describe(
    'One step of a workflow execution (Workflows API, `GET /workflows/{uid}/executions/{executionId}/tasks` [INF]).',
  )

export type WorkflowTask = z.infer<typeof WorkflowTaskSchema>
