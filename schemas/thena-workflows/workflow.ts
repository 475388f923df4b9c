/**
 * Changelog (additive only: a new field is optional, a field is never removed or narrowed):
 * - v1 (2026-12): every field of the workflow object in shared/reference/thena-api.md §10. The
 *   list endpoint's path and envelope are not documented; the object is the create response's.
 *
 * Objects are loose: fields the API adds later are kept and land as new columns.
 */
import { z } from 'zod'

const text = z.string().nullish()
const flag = z.boolean().nullish()
const count = z.number().int().nullish()
const json = z.record(z.string(), z.unknown()).nullish()
const timestamp = z.iso.datetime({ offset: true }).nullish()
/** Step identifiers have no documented example value: numbers and strings are both accepted. */
const stepId = z.union([z.number(), z.string()])

export const WorkflowStepSchema = z
  .looseObject({
    stepIdentifier: stepId.nullish(),
    activity: z
      .looseObject({
        name: text,
        uniqueIdentifier: text,
        version: count,
        autoUpgradeToLatestVersion: flag,
      })
      .nullish(),
    input: json,
    retryPolicy: z
      .looseObject({
        maximumAttempts: count,
        initialInterval: z
          .number()
          .nullish()
          .describe('Unit not documented (milliseconds in the simulator).'),
        backoffCoefficient: z.number().nullish(),
      })
      .nullish(),
    onFailure: text.describe("`ABORT` in the docs' example."),
    isSleepActivity: flag,
    executionTimeout: z
      .number()
      .nullish()
      .describe('Unit not documented (milliseconds in the simulator).'),
    approver: z
      .looseObject({ type: text, uid: text, timeout: z.number().nullish() })
      .nullish()
      .describe("Who approves the step before it runs (`type` is `TEAM` in the docs' example)."),
    dependencies: z.array(stepId).nullish().describe('Step identifiers this step waits for.'),
    filters: json,
    compensationActivity: json,
  })
  .describe('One step of `workflowDefinition`.')

export const WorkflowSchema = z
  .looseObject({
    uid: z.string().min(1),
    type: text.describe("`MANUAL` in the docs' example."),
    subType: text.describe("`WORKFLOW` in the docs' example."),
    uniqueIdentifier: text,
    name: text,
    version: count,
    triggerEvent: z
      .looseObject({
        uid: text,
        description: text,
        eventName: text,
        source: text.describe("`platform_app` in the docs' example."),
        schema: json,
        metadata: json,
      })
      .nullish()
      .describe('The event that starts the workflow, as in the event registry (`GET /events`).'),
    filters: json.describe(
      'Conditions on the event\'s context, e.g. `{"{{context.name}}": {"~starts": "T"}}`.',
    ),
    annotations: z
      .array(
        z.looseObject({
          entityType: text,
          requiredFields: json,
          relations: z.array(z.unknown()).nullish(),
          pathToAnnotate: text,
        }),
      )
      .nullish(),
    workflowDefinition: z.array(WorkflowStepSchema).nullish(),
    executingAgent: z
      .union([z.string(), z.record(z.string(), z.unknown())])
      .nullish()
      .describe('Shape not documented: an id (as the simulator serves) or an object.'),
    isActive: flag,
    createdAt: timestamp,
    updatedAt: timestamp,
    createdBy: text,
    teamId: text,
    metadata: json,
  })
  .describe(
    'A Thena workflow (Workflows API, `GET /workflows`): the object the documented create endpoint returns, with its trigger event and its steps.',
  )

export type WorkflowStep = z.infer<typeof WorkflowStepSchema>
export type Workflow = z.infer<typeof WorkflowSchema>
