/**
 * What runs, where. `thena-sync run` runs every pipeline here; `--pipeline NAME` picks one.
 * Secrets are referenced by environment variable, never written here.
 */
import { defineConfig, env } from './src/index.js'
import { thalianPipeline } from './sources/thalian/index.js'
import { platformPipeline } from './sources/thena-platform/index.js'
import { workflowsPipeline } from './sources/thena-workflows/index.js'

export default defineConfig({
  pipelines: {
    thena: {
      /** Runs once THENA_API_TOKEN is set (a workspace may have only the Platform's key). */
      enabled: env('THENA_API_TOKEN', ''),
      /** Bearer token for the bolt API. */
      token: env('THENA_API_TOKEN'),
      /** Default https://bolt.thena.ai; point it at `thena-sync simulate` to try things. */
      baseUrl: env('THENA_BASE_URL', 'https://bolt.thena.ai'),
      /** `duckdb:PATH` (default ./thena.duckdb) or a postgres:// URL. */
      destination: env('THENA_DESTINATION', 'duckdb:./thena.duckdb'),
      /** All tables land in this schema. */
      dataset: 'thena',
      /** When `thena-sync schedule` runs this pipeline (cron, 5 or 6 fields). */
      schedule: {
        cron: env('THENA_SCHEDULE', ''),
        reconcile: env('THENA_RECONCILE_SCHEDULE', ''),
        timezone: env('THENA_SCHEDULE_TIMEZONE', 'UTC'),
      },
      // Paging of each endpoint is not documented publicly; override it here if your tenant
      // differs, e.g. resources: { requests: { paginator: { type: 'page', limit: 100 } } }.
      // Every observed version of a request in requests_history (and the view
      // request_status_periods): resources: { requests: { history: true } }.
    },
    /**
     * Thalian (another API, declared in sources/thalian/): runs once THALIAN_API_KEY is set,
     * into dataset `thalian` of the same destination; audit_log also needs THALIAN_SESSION_TOKEN.
     */
    /**
     * Thena's Platform (tickets, accounts, ...) and Workflows APIs: run once
     * THENA_PLATFORM_API_KEY is set, into datasets `thena_platform` and `thena_workflows` of
     * the same destination; THENA_PLATFORM_BASE_URL and THENA_WORKFLOWS_BASE_URL move the hosts.
     */
    platform: platformPipeline,
    workflows: workflowsPipeline,
    thalian: thalianPipeline,
  },
})
