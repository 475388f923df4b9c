/**
 * Vitest global setup: one throwaway Postgres server for the whole test run, so that the
 * Postgres tests need nothing installed beyond the server binaries. Tests get its URL with
 * `inject('postgresUrl')` and create their own database on it.
 */
import type { TestProject } from 'vitest/node'
import { startPostgres } from '../helpers/postgres-server.js'

declare module 'vitest' {
  export interface ProvidedContext {
    /** Superuser URL of the test server (database `postgres`). */
    postgresUrl: string
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = await startPostgres()
  project.provide('postgresUrl', server.url)
  return () => server.stop()
}
