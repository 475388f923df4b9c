/**
 * Changelog (additive only: a new field is optional, a field is never removed or narrowed):
 * - v1 (2026-12): the reference names the endpoint but documents no field [UNK]: declared loose,
 *   with the key and the few fields a load needs (parent, status, times); everything else the
 *   API sends is kept as it comes.
 */
import { z } from 'zod'

const text = z.string().nullish()
const timestamp = z.iso.datetime({ offset: true }).nullish()

export const WorkflowExecutionSchema = z
  .looseObject({
    id: z.string().min(1),
    workflowUid: text.describe('The workflow that ran.'),
    status: text.describe(
      '`RUNNING`, `COMPLETED`, `FAILED`, `CANCELLED` in the simulator; not documented.',
    ),
    startedAt: timestamp,
    completedAt: timestamp.describe('Null while the execution runs.'),
    createdAt: timestamp,
    updatedAt: timestamp,
  })
  .describe('One run of a workflow (Workflows API, `GET /workflows/{uid}/executions` [INF]).')

export type WorkflowExecution = z.infer<typeof WorkflowExecutionSchema>
