/**
 * Thena's bolt REST API (https://bolt.thena.ai/rest/v2), declared as data. Paging parameters
 * are not public (shared/reference/thena-api.md §8): the defaults below follow the documented
 * v3 endpoints and the legacy v1 API, and every one can be overridden per resource in
 * pipelines.config.ts.
 */
import { env } from '../../src/config/env.js'
import { defineResource, defineSource } from '../../src/source/define-source.js'
import {
  CustomFieldSchema,
  RequestSchema,
  SubStatusSchema,
  UserSchema,
} from '../../schemas/thena/index.js'
import { THENA_VIEWS } from './views.js'

/** The cursor may sit at `data.next_cursor` or top-level `next_cursor`; both are tried. */
const cursorPaging = { type: 'cursor', limit: 100 } as const

/** Lists with no documented paging: one request, but a cursor that shows up is followed. */
const followCursorIfAny = { type: 'cursor', limitParam: null } as const

const assignedUsers = {
  resource: 'users',
  field: 'assigned_to_user_id',
  path: '/rest/v2/users/{id}',
  recordPath: ['data'],
} as const

/** The two request lists share everything but their path (same record, oldest first). */
const requestList = (name: string, path: string) =>
  defineResource({
    name,
    path,
    schema: RequestSchema,
    recordsPath: ['data', 'results'],
    primaryKey: 'id',
    paginator: cursorPaging,
    incremental: 'page_lookback',
    createdAtField: 'created_at',
    // With `history`, a version begins at the request's update time rather than when read.
    updatedAtField: 'updated_at',
    dependents: [assignedUsers],
  })

export const thenaSource = defineSource({
  name: 'thena',
  client: {
    baseUrl: env('THENA_BASE_URL', 'https://bolt.thena.ai'),
    auth: { type: 'bearer', token: env('THENA_API_TOKEN') },
  },
  resources: [
    defineResource({
      name: 'sub_statuses',
      path: '/rest/v2/requests/sub-status',
      schema: SubStatusSchema,
      recordsPath: [],
      primaryKey: 'id',
      paginator: followCursorIfAny,
      incremental: 'full_refresh',
    }),
    defineResource({
      name: 'custom_fields',
      path: '/rest/v2/requests/custom-fields',
      schema: CustomFieldSchema,
      recordsPath: ['data'],
      primaryKey: 'id',
      paginator: followCursorIfAny,
      incremental: 'full_refresh',
    }),
    defineResource({
      name: 'users',
      path: '/rest/v2/users',
      schema: UserSchema,
      recordsPath: ['data'],
      primaryKey: 'id',
      paginator: followCursorIfAny,
      incremental: 'full_refresh',
    }),
    requestList('requests', '/rest/v2/requests'),
    requestList('requests_v3', '/rest/v2/requests/v3'),
  ],
  views: THENA_VIEWS,
})
