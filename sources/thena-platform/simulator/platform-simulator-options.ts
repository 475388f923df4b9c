import { z } from 'zod'
import { invalidOption } from '../../../src/stand-in/invalid-option.js'
import {
  faultOptionsSchema,
  rateLimitOptionsSchema,
} from '../../../src/stand-in/stand-in-options.js'

/**
 * Route names, as `forbidden`, `bareLists` and `stats.byRoute` spell them. Unknown paths are
 * counted as `unknown`.
 */
export const PLATFORM_ROUTES = [
  'tickets',
  'ticket-statuses',
  'accounts',
  'contacts',
  'account-attributes',
  'teams',
  'team-members',
  'users',
  'tags',
  'custom-fields',
  'comments',
] as const
export type PlatformRoute = (typeof PLATFORM_ROUTES)[number]

/** `page`: 0-based `page` + `limit`; `ignored`: every list returns everything (an unpaged API). */
export const PLATFORM_PAGING_MODES = ['page', 'ignored'] as const
export type PlatformPagingMode = (typeof PLATFORM_PAGING_MODES)[number]

/** Order of `GET /v1/tickets`. */
export const TICKET_ORDERS = ['created_desc', 'created_asc', 'updated_desc'] as const
export type TicketOrder = (typeof TICKET_ORDERS)[number]

/** `flagged`: soft-deleted records stay in lists with `deletedAt` set; `hidden`: left out. */
export const DELETED_STYLES = ['flagged', 'hidden'] as const
export type DeletedStyle = (typeof DELETED_STYLES)[number]

/** The ticket timestamp `dateRange` filters on. */
export const DATE_RANGE_FIELDS = ['createdAt', 'updatedAt'] as const
export type DateRangeField = (typeof DATE_RANGE_FIELDS)[number]

const count = (max: number) => z.number().int().min(0).max(max)

/** What the Platform simulator serves and how it behaves; every field has a default. */
export const platformSimulatorOptionsSchema = z.strictObject({
  /** TCP port on 127.0.0.1; 0 picks a free one. Default 0. */
  port: z.number().int().min(0).max(65535).default(0),
  /** Seed of every generated value, mutation choice and fault decision. Default 1. */
  seed: z.number().int().default(1),
  /** The key `x-api-key` must carry. Default `sim-platform-key`. */
  apiKey: z.string().min(1).default('sim-platform-key'),
  /** Bearer token of the `/__admin` routes. Default `<apiKey>-admin`. */
  adminToken: z.string().min(1).optional(),
  /** The clock's start, and the newest initial creation time (ISO). Default: start of today (UTC). */
  endAt: z.iso.datetime({ offset: true }).optional(),
  /** Days between the oldest initial record and `endAt`. Default 180. */
  spanDays: z.number().positive().max(3650).default(180),
  /** Tickets at start. Default 200. */
  tickets: count(1_000_000).default(200),
  /** Comments on each ticket at start. Default 5. */
  commentsPerTicket: count(100).default(5),
  /** Accounts at start. Default 30. */
  accounts: z.number().int().min(1).max(100_000).default(30),
  /** Contacts per account at start. Default 3. */
  contactsPerAccount: count(100).default(3),
  /** Teams; from the fourth on, every fourth is a sub-team of the team three before it. Default 4. */
  teams: z.number().int().min(1).max(500).default(4),
  /** Users. Default 24. */
  users: z.number().int().min(1).max(100_000).default(24),
  /** Members per team at start, drawn from the users so that teams overlap. Default 6. */
  membersPerTeam: z.number().int().min(1).default(6),
  /** Tags. Default 12. */
  tags: count(100_000).default(12),
  /** Custom-field definitions (sources ticket, account, customer_contact in turn). Default 10. */
  customFields: count(1000).default(10),
  /** Page size when the client sends no `limit`. Default 10 (the MCP docs' value). */
  defaultLimit: z.number().int().min(1).default(10),
  /** Larger `limit`s are clamped to this. Default 100 (the real maximum is not documented). */
  maxLimit: z.number().int().min(1).default(100),
  /** Whether the paged routes honour `page`/`limit`. Default `page`. */
  paging: z.enum(PLATFORM_PAGING_MODES).default('page'),
  /** Routes that return a bare array instead of the envelope (doc drift?). Default none. */
  bareLists: z.array(z.enum(PLATFORM_ROUTES)).default([]),
  /** Routes that answer 403 (a tier without them). Default none. */
  forbidden: z.array(z.enum(PLATFORM_ROUTES)).default([]),
  /** The ticket timestamp `dateRange` keeps recent values of. Default `createdAt`. */
  dateRangeField: z.enum(DATE_RANGE_FIELDS).default('createdAt'),
  /** Order of the ticket list. Default `created_desc` (newest first). */
  ticketOrder: z.enum(TICKET_ORDERS).default('created_desc'),
  /** How soft-deleted tickets are listed. Default `flagged`. */
  deletedTickets: z.enum(DELETED_STYLES).default('flagged'),
  /** How soft-deleted comments are listed. Default `flagged`. */
  deletedComments: z.enum(DELETED_STYLES).default('flagged'),
  /** Whether `/v1/accounts/contacts` refuses a request without `accountId`. Default false. */
  contactsRequireAccountId: z.boolean().default(false),
  /** Whether a new, edited or deleted comment bumps its ticket's `updatedAt`. Default true. */
  commentsTouchTicket: z.boolean().default(true),
  /** Fixed-window rate limit per API key, or `false` for none. Default 60 per minute. */
  rateLimit: rateLimitOptionsSchema({ limit: 60, windowMs: 60_000, headers: true }),
  /** Injected faults, decided per (seed, kind, request number). Default none. */
  faults: faultOptionsSchema,
})

/** Options accepted by `startPlatformSimulator()`; every field is optional. */
export type PlatformSimulatorOptions = z.input<typeof platformSimulatorOptionsSchema>
/** Options with every default filled in. */
export type ResolvedPlatformSimulatorOptions = z.output<typeof platformSimulatorOptionsSchema>

export function resolvePlatformSimulatorOptions(
  options: PlatformSimulatorOptions = {},
): ResolvedPlatformSimulatorOptions {
  const parsed = platformSimulatorOptionsSchema.safeParse(options)
  if (!parsed.success) throw invalidOption('Platform simulator', parsed.error)
  return parsed.data
}
