import { z } from 'zod'
import { thenaSource } from '../../sources/thena/index.js'
import { ConfigError } from '../errors.js'
import { CHILD_REFRESH, LIST_ORDERS } from '../source/define-source.js'
import type { SourceDefinition } from '../source/define-source.js'
import { paginatorDeclarationSchema } from '../source/paginators/index.js'
import { CONTRACT_MODES } from '../normalize/schema-contract.js'
import type {
  DuckDbSettings,
  HttpConfig,
  NotifyConfig,
  PipelineConfig,
  ReconcileConfig,
  ResourceConfig,
  ScheduleConfig,
  ThenaSyncConfig,
} from './define-config.js'
import { closestMatch } from './closest-match.js'

/**
 * The one schema of `pipelines.config.ts`. It checks the shape and every literal value: unknown
 * keys, types and ranges. Values that may come from an environment variable (`Setting`) are
 * checked again once the variable is read (`resolvePipeline`), under the variable's name.
 */

const strict = z.strictObject

/** Schemas a destination keeps for itself: Postgres reserves `pg_*`; DuckDB's catalogs. */
const SYSTEM_SCHEMA = /^(?:pg_.*|information_schema|temp|system)$/

const envRefSchema = strict({
  kind: z.literal('env'),
  name: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name such as `MY_TOKEN`'),
  default: z.string().optional(),
})

/** A string, or `env('NAME', default?)`. */
const setting = z.union([z.string(), envRefSchema], {
  error: (issue) =>
    issue.input === undefined
      ? "is required, e.g. env('THENA_API_TOKEN')"
      : `expected a string or env('NAME'), got ${describe(issue.input)}`,
})

const whole = (min: number, max: number, unit = '') =>
  z
    .number()
    .int()
    .min(min)
    .max(max)
    .meta({ expected: `a whole number${unit} from ${min} to ${max}` })

const amount = (min: number, max: number, unit: string, exclusiveMin = false) =>
  (exclusiveMin ? z.number().gt(min) : z.number().min(min))
    .max(max)
    .meta({ expected: `${unit} ${exclusiveMin ? '>' : '≥'} ${min} and ≤ ${max}` })

const contractSchema = strict({
  newColumns: z.enum(CONTRACT_MODES).optional(),
  typeChanges: z.enum(CONTRACT_MODES).optional(),
})

const resourceSchema = strict({
  enabled: z.boolean().optional(),
  paginator: paginatorDeclarationSchema().optional(),
  lookbackDays: amount(0, 3650, 'a number of days').optional(),
  backfillParams: strict({
    from: z.string().min(1).optional(),
    to: z.string().min(1).optional(),
  }).optional(),
  contract: contractSchema.optional(),
  path: z
    .string()
    .regex(/^\//, 'expected a path under the base URL such as `/v1/tickets`')
    // The query string is built from `params` and the paginator's: one in the path would
    // be sent before it (`/x?a=1?limit=100`).
    .regex(/^[^?#]*$/, 'expected a path without `?` or `#`; put query parameters in `params`')
    .optional(),
  recordsPath: z
    .union([z.string(), z.array(z.string())], {
      error: (issue) =>
        `expected a path such as 'data' or 'data.results' (or a list of keys), got ${describe(issue.input)}`,
    })
    .optional(),
  params: z.record(z.string(), setting).optional(),
  order: z.enum(LIST_ORDERS).optional(),
  refresh: z.enum(CHILD_REFRESH).optional(),
  history: z.boolean().optional(),
})

const sourceSchema = z
  .custom<SourceDefinition>(
    (value) =>
      isObject(value) &&
      typeof value.name === 'string' &&
      Array.isArray(value.resources) &&
      value.resources.every((r: unknown) => isObject(r) && typeof r.name === 'string'),
    'expected a source made with defineSource({ name, resources: [...] })',
  )
  .superRefine((source, ctx) => {
    // A resource's name is its table's name: the warehouse and `status` look it up as written.
    const seen = new Set<string>()
    for (const [i, resource] of source.resources.entries()) {
      const problem = !/^[a-z_][a-z0-9_]{0,62}$/.test(resource.name)
        ? `expected a snake_case table name such as \`my_tickets\`, got ${describe(resource.name)}`
        : seen.has(resource.name)
          ? `\`${resource.name}\` is the name of another resource of the source`
          : undefined
      seen.add(resource.name)
      if (problem)
        ctx.addIssue({ code: 'custom', path: ['resources', i, 'name'], message: problem })
    }
  })

const pipelineSchema = strict({
  enabled: z.union([z.boolean(), envRefSchema, z.string()]).optional(),
  source: sourceSchema.optional(),
  baseUrl: setting.optional(),
  token: setting.optional(),
  destination: setting.optional(),
  dataset: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'expected a lowercase SQL identifier such as `thena`')
    // Otherwise the destination refuses it mid-run (exit 4), or Postgres takes `information_schema`.
    .refine((name) => !SYSTEM_SCHEMA.test(name), {
      error: (issue) =>
        `\`${String(issue.input)}\` is a system schema of DuckDB or Postgres; choose another name such as \`thena\``,
    })
    .optional(),
  duckdb: strict({ memoryLimit: setting.optional(), tempDirectory: setting.optional() }).optional(),
  resources: z.record(z.string(), resourceSchema).optional(),
  http: strict({
    concurrency: whole(1, 64).optional(),
    requestsPerMinute: amount(0, 1_000_000, 'requests per minute').optional(),
    maxRetries: whole(0, 100).optional(),
    timeoutMs: whole(1, 3_600_000, ' of milliseconds').optional(),
    backoffMs: whole(0, 600_000, ' of milliseconds').optional(),
    maxWaitSeconds: whole(0, 86_400, ' of seconds').optional(),
  }).optional(),
  batchPages: whole(1, 10_000).optional(),
  contract: contractSchema.optional(),
  schedule: strict({
    cron: setting.optional(),
    reconcile: setting.optional(),
    timezone: setting.optional(),
  }).optional(),
  reconcile: strict({
    maxDeleteShare: amount(0, 1, 'a share of the table', true).optional(),
  }).optional(),
  notify: strict({ url: setting.optional() }).optional(),
}).superRefine((pipeline, ctx) => {
  // Resource names depend on the source, so they are checked against it here.
  const known = (pipeline.source ?? thenaSource).resources.map((r) => r.name)
  for (const name of Object.keys(pipeline.resources ?? {})) {
    if (known.includes(name)) continue
    const near = closestMatch(name, known)
    ctx.addIssue({
      code: 'custom',
      path: ['resources', name],
      message: `no such resource${near ? `; did you mean \`${near}\`?` : ''} (known: ${known.join(', ')})`,
    })
  }
})

const configSchema = strict({
  pipelines: z
    .record(
      z
        .string()
        .regex(
          /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/,
          'a pipeline name is letters, digits, `_`, `.` or `-`, at most 63 characters',
        ),
      pipelineSchema,
    )
    .refine(
      (pipelines) => Object.keys(pipelines).length > 0,
      "no pipelines: add one, e.g. `pipelines: { thena: { token: env('THENA_API_TOKEN') } }`",
    ),
})

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** A value as a message shows it: short, typed, never a secret-sized blob. */
function describe(value: unknown): string {
  if (value === undefined) return 'nothing'
  if (value === null) return '`null`'
  if (Array.isArray(value)) return 'a list'
  if (typeof value === 'object') return 'an object'
  if (typeof value === 'function') return 'a function'
  const text = typeof value === 'string' ? JSON.stringify(value) : String(value)
  return `\`${text.length > 40 ? `${text.slice(0, 37)}...` : text}\``
}

const fieldOf = (path: readonly PropertyKey[]) =>
  path
    .map((key, i) =>
      typeof key === 'number'
        ? `[${key}]`
        : /^[A-Za-z_$][\w$]*$/.test(String(key))
          ? `${i === 0 ? '' : '.'}${String(key)}`
          : `[${JSON.stringify(String(key))}]`,
    )
    .join('') || '(config)'

/**
 * The schema that checked the value at `path` of `input`: through optionals, records and
 * unions (the option the value matches), to find an object's known keys or a number's range.
 */
function schemaAt(path: readonly PropertyKey[], input: unknown): z.ZodType | undefined {
  let schema = unwrap(configSchema, input)
  let value = input
  for (const key of path) {
    value = isObject(value) ? value[String(key)] : undefined
    if (schema instanceof z.ZodObject)
      schema = (schema.shape as Record<string, z.ZodType>)[String(key)]
    else if (schema instanceof z.ZodRecord) schema = schema.valueType as z.ZodType
    else return undefined
    schema = unwrap(schema, value)
  }
  return schema
}

function unwrap(schema: z.ZodType | undefined, value: unknown): z.ZodType | undefined {
  let s = schema
  for (;;) {
    if (s instanceof z.ZodOptional || s instanceof z.ZodDefault) s = s.unwrap() as z.ZodType
    else if (s instanceof z.ZodPipe) s = s.in as z.ZodType
    else if (s instanceof z.ZodLazy) s = s.unwrap() as z.ZodType
    else if (s instanceof z.ZodUnion)
      s = (s.options as z.ZodType[]).find(
        (o) =>
          o.safeParse(value).success ||
          (o instanceof z.ZodObject &&
            isObject(value) &&
            Object.entries(o.shape).some(
              ([k, v]) => v instanceof z.ZodLiteral && v.values.has(value[k] as never),
            )),
      )
    else return s
  }
}

/** One zod issue as `field: problem`, the fix included where there is one. */
function describeIssue(issue: z.core.$ZodIssue, input: unknown): string {
  const field = fieldOf(issue.path)
  const at = (path: readonly PropertyKey[]) =>
    path.reduce<unknown>(
      (v, k) =>
        isObject(v) || Array.isArray(v) ? (v as Record<PropertyKey, unknown>)[k] : undefined,
      input,
    )
  const value = at(issue.path)
  switch (issue.code) {
    case 'unrecognized_keys': {
      const key = issue.keys[0]!
      const object = schemaAt(issue.path, input)
      const known = object instanceof z.ZodObject ? Object.keys(object.shape) : []
      const near = closestMatch(key, known)
      return `${fieldOf([...issue.path, key])}: unknown setting; ${near ? `did you mean \`${near}\`?` : `known: ${known.join(', ')}`}`
    }
    case 'invalid_type': {
      if (value === undefined) return `${field}: is required`
      const expected = schemaAt(issue.path, input)?.meta()?.expected
      return `${field}: expected ${typeof expected === 'string' ? expected : article(issue.expected)}, got ${describe(value)}`
    }
    case 'invalid_key':
      return `${field}: ${issue.issues[0]?.message ?? issue.message}`
    case 'too_small':
    case 'too_big':
    case 'not_multiple_of': {
      const expected = schemaAt(issue.path, input)?.meta()?.expected
      return `${field}: expected ${typeof expected === 'string' ? expected : bound(issue)}, got ${describe(value)}`
    }
    case 'invalid_value':
      return `${field}: expected one of ${issue.values.map((v) => `\`${String(v)}\``).join(', ')}, got ${describe(value)}`
    case 'invalid_union':
      if ('discriminator' in issue && issue.discriminator)
        return `${field}: expected one of ${((issue as unknown as { options?: unknown[] }).options ?? []).map((v) => `\`${String(v)}\``).join(', ')}, got ${describe(isObject(value) ? value[issue.discriminator as string] : value)}`
      return `${field}: ${issue.message}`
    default:
      return `${field}: ${issue.message}`
  }
}

/** A range issue from a schema without a phrase of its own (the paginators'). */
function bound(issue: z.core.$ZodIssue): string {
  if (issue.code === 'too_small')
    return issue.origin === 'string'
      ? `at least ${String(issue.minimum)} character(s)`
      : `a number ${issue.inclusive ? '≥' : '>'} ${String(issue.minimum)}`
  if (issue.code === 'too_big')
    return issue.origin === 'string'
      ? `at most ${String(issue.maximum)} characters`
      : `a number ${issue.inclusive ? '≤' : '<'} ${String(issue.maximum)}`
  return issue.message
}

const article = (type: string) =>
  ({
    number: 'a number',
    string: 'a string',
    boolean: '`true` or `false`',
    object: 'an object',
    array: 'a list',
  })[type] ?? type

const validated = new WeakSet<object>()

/**
 * Checks a whole config against the schema; throws one `ConfigError` line for the first
 * problem (`pipelines.thena.http.concurency: unknown setting; did you mean \`concurrency\`?`).
 */
export function validateConfig(config: unknown): ThenaSyncConfig {
  if (isObject(config) && validated.has(config)) return config as unknown as ThenaSyncConfig
  const result = configSchema.safeParse(config)
  if (!result.success) {
    // An unknown key next to a missing one is most likely its misspelling: it is named first.
    const issues = result.error.issues
    const issue = issues.find((i) => i.code === 'unrecognized_keys') ?? issues[0]!
    throw new ConfigError(describeIssue(issue, config))
  }
  validated.add(config as object)
  return config as ThenaSyncConfig
}

type SameKeys<A, B> = [Exclude<keyof A, keyof B>, Exclude<keyof B, keyof A>] extends [never, never]
  ? true
  : false
type Assert<T extends true> = T
type PipelineInput = z.input<typeof pipelineSchema>

/** Compile-time guard: the documented interfaces and this schema know the same settings. */
export type SchemaMatchesInterfaces = [
  Assert<SameKeys<ThenaSyncConfig, z.input<typeof configSchema>>>,
  Assert<SameKeys<PipelineConfig, PipelineInput>>,
  Assert<SameKeys<HttpConfig, NonNullable<PipelineInput['http']>>>,
  Assert<SameKeys<ResourceConfig, NonNullable<PipelineInput['resources']>[string]>>,
  Assert<SameKeys<ScheduleConfig, NonNullable<PipelineInput['schedule']>>>,
  Assert<SameKeys<ReconcileConfig, NonNullable<PipelineInput['reconcile']>>>,
  Assert<SameKeys<DuckDbSettings, NonNullable<PipelineInput['duckdb']>>>,
  Assert<SameKeys<NotifyConfig, NonNullable<PipelineInput['notify']>>>,
]
