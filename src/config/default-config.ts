import { defineConfig } from './define-config.js'
import { env } from './env.js'

/** The configuration used when there is no pipelines.config.ts: one pipeline from the env. */
export const defaultConfig = defineConfig({
  pipelines: {
    thena: {
      token: env('THENA_API_TOKEN'),
      baseUrl: env('THENA_BASE_URL', 'https://bolt.thena.ai'),
      destination: env('THENA_DESTINATION', 'duckdb:./thena.duckdb'),
      schedule: {
        cron: env('THENA_SCHEDULE', ''),
        reconcile: env('THENA_RECONCILE_SCHEDULE', ''),
        timezone: env('THENA_SCHEDULE_TIMEZONE', 'UTC'),
      },
    },
  },
})
