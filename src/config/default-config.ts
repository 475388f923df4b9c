import { platformPipeline } from '../../sources/thena-platform/index.js'
import { workflowsPipeline } from '../../sources/thena-workflows/index.js'
import { defineConfig } from './define-config.js'
import { env } from './env.js'

/**
 * The configuration used when there is no pipelines.config.ts, from the environment: bolt
 * (`thena`) once THENA_API_TOKEN is set, Platform and Workflows once THENA_PLATFORM_API_KEY is.
 */
export const defaultConfig = defineConfig({
  pipelines: {
    thena: {
      enabled: env('THENA_API_TOKEN', ''),
      token: env('THENA_API_TOKEN'),
      baseUrl: env('THENA_BASE_URL', 'https://bolt.thena.ai'),
      destination: env('THENA_DESTINATION', 'duckdb:./thena.duckdb'),
      schedule: {
        cron: env('THENA_SCHEDULE', ''),
        reconcile: env('THENA_RECONCILE_SCHEDULE', ''),
        timezone: env('THENA_SCHEDULE_TIMEZONE', 'UTC'),
      },
    },
    platform: platformPipeline,
    workflows: workflowsPipeline,
  },
})
