/**
 * Thena's Workflows API (https://workflow-app.thena.ai/api/v1, header `x-api-key`, the
 * Platform's key): workflows, the executions of each, the tasks of each execution, and the
 * activity and event registries, declared as data. shared/reference/thena-api.md §10 shows
 * only the create path; the list paths, their envelope and paging are inferred from it and
 * from the Platform (0-based `page` + `limit`, records at `data`), and each is a setting a
 * pipeline may override (`resources: { workflow_executions: { path, paginator, recordsPath } }`).
 *
 * Freshness (docs/decisions.md #56): a workflow's record does not change when it runs, so the
 * executions of every workflow are read each run (one request per workflow and page); the
 * tasks of an execution only when the execution's `updatedAt` moved.
 */
import { env } from '../../src/config/env.js'
import type { PipelineConfig } from '../../src/config/define-config.js'
import { defineResource, defineSource } from '../../src/source/define-source.js'
import {
  ActivitySchema,
  EventSchema,
  WorkflowExecutionSchema,
  WorkflowSchema,
  WorkflowTaskSchema,
} from '../../schemas/thena-workflows/index.js'

/** As the Platform's lists: 0-based `page` + `limit`, a server maximum learned, not assumed. */
const paged = {
  type: 'page',
  firstPage: 0,
  limit: 100,
  learnPageSize: true,
  // The documented default page size (§7.1, MCP docs): the server serves at least that.
  minServerPageSize: 10,
} as const

export const workflowsSource = defineSource({
  name: 'thena-workflows',
  client: {
    baseUrl: env('THENA_WORKFLOWS_BASE_URL', 'https://workflow-app.thena.ai/api/v1'),
    auth: { type: 'api_key', header: 'x-api-key', key: env('THENA_PLATFORM_API_KEY') },
    paginator: paged,
  },
  // The Platform's tier answer (§5.2) is assumed for Workflows too; another 403 fails the run.
  resourceDefaults: { recordsPath: 'data', skipOn: [{ status: 403, bodyIncludes: 'tier' }] },
  resources: [
    defineResource({
      name: 'workflows',
      path: '/workflows',
      schema: WorkflowSchema,
      recordsPath: 'data',
      primaryKey: 'uid',
      incremental: 'page_digest',
      createdAtField: 'createdAt',
      order: 'unordered',
      updatedAtField: 'updatedAt',
    }),
    defineResource({
      name: 'workflow_executions',
      path: '/workflows/{workflowUid}/executions',
      schema: WorkflowExecutionSchema,
      recordsPath: 'data',
      primaryKey: 'id',
      // New executions leave their workflow's record as it was: read for every workflow.
      parent: {
        resource: 'workflows',
        fields: { workflowUid: 'uid' },
        compositeKey: false,
        refresh: 'always',
      },
      incremental: 'full_refresh',
      createdAtField: 'createdAt',
      updatedAtField: 'updatedAt',
    }),
    defineResource({
      name: 'workflow_tasks',
      path: '/workflows/{workflowUid}/executions/{executionId}/tasks',
      schema: WorkflowTaskSchema,
      recordsPath: 'data',
      primaryKey: 'id',
      // Each task row carries both parents' keys: the workflow's and the execution's.
      parent: {
        resource: 'workflow_executions',
        fields: { workflowUid: 'workflowUid', executionId: 'id' },
        compositeKey: false,
      },
      incremental: 'full_refresh',
    }),
    defineResource({
      name: 'activities',
      path: '/activities',
      schema: ActivitySchema,
      recordsPath: 'data',
      primaryKey: 'uid',
      incremental: 'page_digest',
    }),
    defineResource({
      name: 'events',
      path: '/events',
      schema: EventSchema,
      recordsPath: 'data',
      primaryKey: 'uid',
      incremental: 'page_digest',
    }),
  ],
})

/**
 * The `workflows` pipeline: dataset `thena_workflows`, in the same destination as `thena`,
 * run once `THENA_PLATFORM_API_KEY` is set (the Workflows API takes the Platform's key).
 */
export const workflowsPipeline: PipelineConfig = {
  enabled: env('THENA_PLATFORM_API_KEY', ''),
  source: workflowsSource,
  dataset: 'thena_workflows',
  destination: env('THENA_DESTINATION', 'duckdb:./thena.duckdb'),
  schedule: {
    cron: env('THENA_SCHEDULE', ''),
    reconcile: env('THENA_RECONCILE_SCHEDULE', ''),
    timezone: env('THENA_SCHEDULE_TIMEZONE', 'UTC'),
  },
}
