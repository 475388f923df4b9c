/**
 * Thena's Platform API (https://platform.thena.ai/v1, header `x-api-key`): tickets, their
 * comments, accounts, contacts, teams and their members, users, tags, custom fields, declared
 * as data. shared/reference/thena-api.md §7 has every public fact; where it is silent (page
 * sizes, order, paging of some lists), the declaration says what it assumes, and a pipeline
 * overrides it per resource (`resources: { tickets: { paginator, path, params } }`).
 *
 * Freshness (docs/decisions.md #56): no list filters by update time, so each `run` reads the
 * lists whole and merges only the pages that changed (`page_digest`); comments are read only
 * for tickets whose `updatedAt` passed the comments' watermark, so a run where nothing changed
 * makes no comment request at all. `reconcile` re-reads every child and soft-deletes what is
 * gone; tickets and comments listed with `deletedAt` are marked without it.
 */
import { env } from '../../src/config/env.js'
import type { PipelineConfig } from '../../src/config/define-config.js'
import { defineResource, defineSource } from '../../src/source/define-source.js'
import {
  AccountAttributeSchema,
  AccountSchema,
  CommentSchema,
  ContactSchema,
  PlatformCustomFieldSchema,
  PlatformUserSchema,
  TagSchema,
  TeamMemberSchema,
  TeamSchema,
  TicketSchema,
  TicketStatusSchema,
} from '../../schemas/thena-platform/index.js'
import { PLATFORM_VIEWS } from './views.js'

/** The kinds `GET /v1/accounts/attributes?attribute=` takes (§7.3): one request each. */
export const ACCOUNT_ATTRIBUTE_KINDS = [
  'account_status',
  'account_classification',
  'account_health',
  'account_industry',
  'contact_type',
  'activity_type',
  'activity_status',
  'note_type',
  'task_type',
  'task_status',
  'task_priority',
] as const

/**
 * 0-based `page` + `limit`, the end a short or empty page (§7.1). The largest `limit` is not
 * documented: a server that serves fewer is detected (`learnPageSize`), not taken for the end.
 */
const paged = {
  type: 'page',
  firstPage: 0,
  limit: 100,
  learnPageSize: true,
  // The documented default page size (§7.1, MCP docs): the server serves at least that.
  minServerPageSize: 10,
} as const

/** Lists documented without paging parameters: one request. */
const onePage = { type: 'single_page' } as const

export const platformSource = defineSource({
  name: 'thena-platform',
  client: {
    baseUrl: env('THENA_PLATFORM_BASE_URL', 'https://platform.thena.ai'),
    auth: { type: 'api_key', header: 'x-api-key', key: env('THENA_PLATFORM_API_KEY') },
    paginator: paged,
  },
  resourceDefaults: {
    recordsPath: 'data',
    // "Only available for standard and enterprise tier organizations": that list is skipped
    // with one line, the others load. Any other 403 (one ticket's comments, say) still fails
    // the run loudly rather than skipping the rest of a resource.
    skipOn: [{ status: 403, bodyIncludes: 'tier' }],
  },
  resources: [
    // First: the one request that checks the key before anything is written.
    defineResource({
      name: 'ticket_statuses',
      path: '/v1/tickets/status',
      schema: TicketStatusSchema,
      recordsPath: 'data',
      primaryKey: 'id',
      paginator: onePage,
      incremental: 'full_refresh',
    }),
    defineResource({
      name: 'tickets',
      path: '/v1/tickets',
      schema: TicketSchema,
      recordsPath: 'data',
      primaryKey: 'id',
      incremental: 'page_digest',
      createdAtField: 'createdAt',
      // Not documented; `backfill` reads the whole list and keeps the range.
      order: 'unordered',
      updatedAtField: 'updatedAt',
      deletedAtField: 'deletedAt',
    }),
    defineResource({
      name: 'comments',
      path: '/v1/comments',
      params: { entityType: 'ticket', entityId: '{ticketId}' },
      schema: CommentSchema,
      recordsPath: 'data',
      primaryKey: 'id',
      // Comment ids are unique across tickets: the row's key is the comment's own.
      parent: { resource: 'tickets', fields: { ticketId: 'id' }, compositeKey: false },
      incremental: 'full_refresh',
      createdAtField: 'createdAt',
      deletedAtField: 'deletedAt',
    }),
    defineResource({
      name: 'accounts',
      path: '/v1/accounts',
      schema: AccountSchema,
      recordsPath: 'data',
      primaryKey: 'id',
      incremental: 'page_digest',
      createdAtField: 'createdAt',
      order: 'unordered',
    }),
    defineResource({
      name: 'contacts',
      path: '/v1/accounts/contacts',
      schema: ContactSchema,
      recordsPath: 'data',
      primaryKey: 'id',
      incremental: 'page_digest',
      createdAtField: 'createdAt',
      order: 'unordered',
    }),
    defineResource({
      name: 'account_attributes',
      path: '/v1/accounts/attributes',
      params: { attribute: '{attribute}' },
      schema: AccountAttributeSchema,
      recordsPath: 'data',
      primaryKey: 'id',
      // One table for every kind; each row says its kind in `attribute`.
      forEach: { placeholder: 'attribute', values: ACCOUNT_ATTRIBUTE_KINDS },
      paginator: onePage,
      incremental: 'full_refresh',
    }),
    defineResource({
      name: 'teams',
      path: '/v1/teams',
      schema: TeamSchema,
      recordsPath: 'data',
      primaryKey: 'id',
      paginator: onePage,
      incremental: 'full_refresh',
      updatedAtField: 'updatedAt',
    }),
    defineResource({
      name: 'team_members',
      path: '/v1/teams/{teamId}/members',
      schema: TeamMemberSchema,
      recordsPath: 'data',
      primaryKey: 'id',
      // A user in two teams is two rows: keyed by team and user.
      parent: { resource: 'teams', fields: { teamId: 'id' }, compositeKey: 'teamMemberKey' },
      paginator: onePage,
      incremental: 'full_refresh',
    }),
    defineResource({
      name: 'users',
      path: '/v1/users/list',
      schema: PlatformUserSchema,
      recordsPath: 'data',
      primaryKey: 'id',
      incremental: 'page_digest',
    }),
    defineResource({
      name: 'tags',
      path: '/v1/tags',
      schema: TagSchema,
      recordsPath: 'data',
      primaryKey: 'id',
      incremental: 'page_digest',
    }),
    defineResource({
      name: 'custom_fields',
      path: '/v1/custom-field',
      schema: PlatformCustomFieldSchema,
      recordsPath: 'data',
      primaryKey: 'uid',
      incremental: 'page_digest',
    }),
  ],
  views: PLATFORM_VIEWS,
})

/**
 * The `platform` pipeline: dataset `thena_platform`, in the same destination as `thena`, run
 * once `THENA_PLATFORM_API_KEY` is set.
 */
export const platformPipeline: PipelineConfig = {
  enabled: env('THENA_PLATFORM_API_KEY', ''),
  source: platformSource,
  dataset: 'thena_platform',
  destination: env('THENA_DESTINATION', 'duckdb:./thena.duckdb'),
  schedule: {
    cron: env('THENA_SCHEDULE', ''),
    reconcile: env('THENA_RECONCILE_SCHEDULE', ''),
    timezone: env('THENA_SCHEDULE_TIMEZONE', 'UTC'),
  },
}
