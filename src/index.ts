/** The public API of thena-sync: configuration helpers, definitions, and the engine entry points. */
export { defineConfig } from './config/define-config.js'
export type {
  ThenaSyncConfig,
  PipelineConfig,
  ResourceConfig,
  HttpConfig,
  ScheduleConfig,
  ReconcileConfig,
  DuckDbSettings,
  Setting,
} from './config/define-config.js'
export { env } from './config/env.js'
export type { EnvRef } from './config/env.js'
export { defineResource, defineSource } from './source/define-source.js'
export type {
  ResourceDefinition,
  SourceDefinition,
  SourceClient,
  RateLimitBudget,
  DependentDefinition,
  ParentDefinition,
  ForEachDefinition,
  SkipRule,
  ChildRefresh,
  ListOrder,
} from './source/define-source.js'
export { AUTH_TYPES } from './source/auth.js'
export type {
  AuthDeclaration,
  AuthType,
  BearerAuth,
  ApiKeyAuth,
  BasicAuth,
  NoAuth,
} from './source/auth.js'
export type { PaginatorConfig } from './source/paginators/index.js'
export { registerPaginator } from './source/paginators/index.js'
export type { Paginator, PaginatorType } from './source/paginators/index.js'
export { registerStrategy } from './source/incremental/index.js'
export type { IncrementalStrategy } from './source/incremental/index.js'
export type {
  Destination,
  DestinationSession,
  DestinationCapabilities,
} from './load/destination.js'
export { ThenaSyncError, TransientError, TerminalError, ConfigError } from './errors.js'
export { SYNC_MODES } from './source/define-source.js'
export type { SyncMode } from './source/define-source.js'
/** The built-in Thena bolt source: spread its resources into your own `defineSource`. */
export { thenaSource } from '../sources/thena/index.js'
/** The zod schemas of Thena's records, to `.extend()` with your tenant's fields. */
export {
  RequestSchema,
  UserSchema,
  CustomFieldSchema,
  SubStatusSchema,
} from '../schemas/thena/index.js'
export type { Request, User, CustomField, SubStatus } from '../schemas/thena/index.js'
/** Thena's Platform and Workflows sources and their pipelines (`platform`, `workflows`). */
export { platformPipeline, platformSource } from '../sources/thena-platform/index.js'
export { workflowsPipeline, workflowsSource } from '../sources/thena-workflows/index.js'
/** Their record schemas, namespaced: `platformSchemas.TicketSchema.extend({ ... })`. */
export * as platformSchemas from '../schemas/thena-platform/index.js'
export * as workflowsSchemas from '../schemas/thena-workflows/index.js'
/** The zod this package validates with: use it for your own schemas, so both agree. */
export { z } from 'zod'
