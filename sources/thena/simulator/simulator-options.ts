import { z } from 'zod'
import { invalidOption } from '../../../src/stand-in/invalid-option.js'

/** Where the next-page cursor sits in a list response. */
export const CURSOR_LOCATIONS = ['data', 'top'] as const
export type CursorLocation = (typeof CURSOR_LOCATIONS)[number]

/** How list endpoints page: an opaque keyset cursor, or page number + limit. */
export const PAGING_MODES = ['cursor', 'page'] as const
export type PagingMode = (typeof PAGING_MODES)[number]

/** What `GET /users/{id}` returns for an unknown id (bolt's behaviour is not documented). */
export const NOT_FOUND_STYLES = ['404', 'null-data'] as const
export type NotFoundStyle = (typeof NOT_FOUND_STYLES)[number]

const rate = z.number().min(0).max(1)

export const pagingOptionsSchema = z.strictObject({
  /** Paging scheme of the request list endpoints. Default `cursor`. */
  mode: z.enum(PAGING_MODES).default('cursor'),
  /** `data` puts the cursor at `data.next_cursor`, `top` at top-level `next_cursor`. Default `data`. */
  cursorLocation: z.enum(CURSOR_LOCATIONS).default('data'),
  /** Query parameter the client sends the cursor back in. Default `cursor`. */
  cursorParam: z.string().min(1).default('cursor'),
  /** Query parameter for the page size. Default `limit`. */
  limitParam: z.string().min(1).default('limit'),
  /** Query parameter for the page number in `page` mode. Default `page`. */
  pageParam: z.string().min(1).default('page'),
  /** Number of the first page in `page` mode. Default 1. */
  firstPage: z.number().int().min(0).default(1),
  /** Page size when the client sends none. Default 100. */
  defaultLimit: z.number().int().min(1).default(100),
  /** Larger page sizes are clamped to this. Default 1000. */
  maxLimit: z.number().int().min(1).default(1000),
  /**
   * When true, a full last page still carries a cursor and the client learns the end from a
   * following empty page (the lazy end detection many keyset APIs use). Default false.
   */
  lazyEnd: z.boolean().default(false),
  /** When true, `/rest/v2/users` pages too (cursor at top-level `next_cursor`). Default false. */
  paginateUsers: z.boolean().default(false),
})

export const rateLimitOptionsSchema = z.strictObject({
  /** Requests allowed per window and token. Default 60. */
  limit: z.number().int().min(1).default(60),
  /** Window length in ms; windows are aligned to the epoch. Default 60000 (one minute). */
  windowMs: z.number().int().min(100).default(60_000),
  /** Send `X-RateLimit-Limit/Remaining/Reset` on every response. Default true. */
  headers: z.boolean().default(true),
  /** Send `Retry-After` (seconds) with a 429. Default false (bolt's behaviour is unknown). */
  retryAfter: z.boolean().default(false),
})

export const faultOptionsSchema = z.strictObject({
  /** Share of responses replaced by a 5xx with an HTML body. Default 0. */
  serverError: rate.default(0),
  /** Share of responses delayed, and by how long. Default none. */
  latency: z.strictObject({ rate: rate.default(1), ms: z.number().int().min(0) }).optional(),
  /** Share of 200 responses whose JSON body is cut short. Default 0. */
  truncate: rate.default(0),
  /** Share of requests whose connection is dropped without (or part way through) a response. */
  drop: rate.default(0),
  /** Share of next pages that repeat the previous page's last record. Default 0. */
  duplicate: rate.default(0),
  /** Share of next-page requests that first insert new requests at the end. Default none. */
  insertWhilePaging: z
    .strictObject({ rate: rate.default(1), count: z.number().int().min(1).default(1) })
    .optional(),
})

export const simulatorOptionsSchema = z.strictObject({
  /** TCP port; 0 picks a free one. Default 0. */
  port: z.number().int().min(0).max(65535).default(0),
  /** Interface to listen on. Default `127.0.0.1` (loopback only). */
  host: z.string().default('127.0.0.1'),
  /** Seed for every generated value and every fault decision. Default 1. */
  seed: z.number().int().default(1),
  /** Number of requests at start. Default 1000. */
  records: z.number().int().min(0).max(16_000_000).default(1000),
  /** Number of users at start, hidden ones included. Default 40. */
  users: z.number().int().min(1).max(100_000).default(40),
  /** Users that requests are assigned to but `/users` leaves out. Default 10 % of users (≥ 1). */
  hiddenUsers: z.number().int().min(0).optional(),
  /** Bearer token the API accepts. Default `sim-token`. */
  token: z.string().min(1).default('sim-token'),
  /** Token for the `/__admin` routes. Default `<token>-admin`. */
  adminToken: z.string().min(1).optional(),
  /** Creation time of the newest initial request (ISO). Default: start of the current UTC day. */
  endAt: z.iso.datetime().optional(),
  /** Days between the oldest and the newest initial request. Default 365. */
  spanDays: z.number().positive().default(365),
  paging: pagingOptionsSchema.default(pagingOptionsSchema.parse({})),
  /** Fixed-window rate limit per token, or `false` for none. */
  rateLimit: z
    .union([rateLimitOptionsSchema, z.literal(false)])
    .default(rateLimitOptionsSchema.parse({})),
  faults: faultOptionsSchema.default(faultOptionsSchema.parse({})),
  /** Response to an unknown id. Default `404`. */
  notFound: z.enum(NOT_FOUND_STYLES).default('404'),
})

/** Options accepted by `startSimulator()`; every field is optional. */
export type SimulatorOptions = z.input<typeof simulatorOptionsSchema>
/** Options with every default filled in. */
export type ResolvedSimulatorOptions = z.output<typeof simulatorOptionsSchema>
export type FaultOptions = z.output<typeof faultOptionsSchema>

export function resolveSimulatorOptions(options: SimulatorOptions = {}): ResolvedSimulatorOptions {
  const parsed = simulatorOptionsSchema.safeParse(options)
  if (!parsed.success) throw invalidOption('simulator', parsed.error)
  return parsed.data
}
