/**
 * Options of the Workflows API simulator. Every value the reference (shared/reference/
 * thena-api.md §10) leaves unknown (paths' paging, envelope, limits, tier gating) is one.
 */
import { z } from 'zod'
import { invalidOption } from '../../../src/stand-in/invalid-option.js'
import {
  faultOptionsSchema,
  rateLimitOptionsSchema,
} from '../../../src/stand-in/stand-in-options.js'

/** Route names, as counted in `stats.byRoute` and listed in the `forbidden` option. */
export const WORKFLOWS_ROUTES = [
  'workflows',
  'executions',
  'tasks',
  'activities',
  'events',
] as const
export type WorkflowsRoute = (typeof WORKFLOWS_ROUTES)[number]

/**
 * How a list comes back: `platform` is the Platform API's documented envelope, `bare` the array
 * itself (as some Platform pages show), `results` the bolt-like `{data: {results, total}}`.
 */
export const WORKFLOWS_ENVELOPES = ['platform', 'bare', 'results'] as const
export type WorkflowsEnvelope = (typeof WORKFLOWS_ENVELOPES)[number]

/** `page` honours 0-based `page` and `limit`; `none` ignores them and returns every record. */
export const WORKFLOWS_PAGING_MODES = ['page', 'none'] as const
export type WorkflowsPagingMode = (typeof WORKFLOWS_PAGING_MODES)[number]

/** What the simulator serves and how it misbehaves; every field has a default. */
export const workflowsSimulatorOptionsSchema = z.strictObject({
  /** TCP port on 127.0.0.1; 0 picks a free one. Default 0. */
  port: z.number().int().min(0).max(65_535).default(0),
  /** Prefix of every API path (the documented `/api/v1`); `''` serves at the root. Default `/api/v1`. */
  basePath: z
    .string()
    .regex(/^(\/[A-Za-z0-9._~-]+)*$/, 'must be empty or start with / and not end with /')
    .refine((p) => !p.startsWith('/__admin'), 'must not start with /__admin')
    .default('/api/v1'),
  /** Seed of every generated value and every fault decision. Default 1. */
  seed: z.number().int().default(1),
  /** The `x-api-key` the API accepts (the Platform simulator's by default). Default `sim-platform-key`. */
  apiKey: z.string().min(1).default('sim-platform-key'),
  /** Bearer token of the `/__admin` routes. Default `<apiKey>-admin`. */
  adminToken: z.string().min(1).optional(),
  /** Workflows at start. Default 8. */
  workflows: z.number().int().min(0).max(100_000).default(8),
  /** Average executions per workflow at start (each has 0 to twice it; the total is exact). Default 6. */
  executionsPerWorkflow: z.number().int().min(0).max(1_000).default(6),
  /** Activities in the registry at start. Default 15. */
  activities: z.number().int().min(0).max(100_000).default(15),
  /** Events in the registry at start. Default 10. */
  events: z.number().int().min(0).max(100_000).default(10),
  /** Envelope of every list (the Workflows API's is not documented). Default `platform`. */
  envelope: z.enum(WORKFLOWS_ENVELOPES).default('platform'),
  /** Paging of every list (not documented). Default `page`. */
  paging: z.enum(WORKFLOWS_PAGING_MODES).default('page'),
  /** Page size when the client sends no `limit` (the Platform's MCP docs say 10). Default 10. */
  defaultLimit: z.number().int().min(1).default(10),
  /** Larger `limit`s are clamped to this (not documented). Default 100. */
  maxLimit: z.number().int().min(1).default(100),
  /** "Now" of the generated data (ISO). Default: the start of the current UTC day. */
  endAt: z.iso.datetime({ offset: true }).optional(),
  /** Routes answering 403 as for a tier without access (tier gating is not documented). Default none. */
  forbidden: z.array(z.enum(WORKFLOWS_ROUTES)).default([]),
  /** Fixed-window rate limit per key, or `false` for none. Default 60 per minute, with headers. */
  rateLimit: rateLimitOptionsSchema({ limit: 60, windowMs: 60_000, headers: true }),
  /** Share of answers replaced by a fault, per kind, decided by (seed, kind, request number). */
  faults: faultOptionsSchema,
})

/** Options accepted by `startWorkflowsSimulator()`; every field is optional. */
export type WorkflowsSimulatorOptions = z.input<typeof workflowsSimulatorOptionsSchema>
/** Options with every default filled in. */
export type ResolvedWorkflowsSimulatorOptions = z.output<typeof workflowsSimulatorOptionsSchema>

/** Parses the options; a bad one is a `ConfigError` naming it. */
export function resolveWorkflowsSimulatorOptions(
  options: WorkflowsSimulatorOptions = {},
): ResolvedWorkflowsSimulatorOptions {
  const parsed = workflowsSimulatorOptionsSchema.safeParse(options)
  if (!parsed.success) throw invalidOption('Workflows simulator', parsed.error)
  return parsed.data
}
