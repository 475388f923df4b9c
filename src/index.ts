/** The public API of thena-sync: configuration helpers, definitions, and the engine entry points. */
export { defineConfig } from './config/define-config.js'
export type {
  ThenaSyncConfig,
  PipelineConfig,
  ResourceConfig,
  HttpConfig,
  Setting,
} from './config/define-config.js'
export { env } from './config/env.js'
export type { EnvRef } from './config/env.js'
export { defineResource, defineSource } from './extract/define-source.js'
export type {
  ResourceDefinition,
  SourceDefinition,
  DependentDefinition,
} from './extract/define-source.js'
export type { PaginatorConfig } from './http/paginator.js'
export type {
  Destination,
  DestinationSession,
  DestinationCapabilities,
} from './load/destination.js'
export { ThenaSyncError, TransientError, TerminalError, ConfigError } from './errors.js'
