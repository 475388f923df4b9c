/**
 * The views of the bolt source (docs/decisions.md #65-#67): requests with their assignee,
 * sub-status, first response and SLA flags and one column per custom field, and the custom
 * field values in long form. The API does not document several fields these views read
 * (shared/reference/thena-api.md §3.4-3.7): each is a setting whose default matches the
 * simulator, named by its warehouse column.
 */
import { TerminalError } from '../../src/errors.js'
import { customFieldColumns } from '../../src/views/custom-field-columns.js'
import type { CustomFieldColumn } from '../../src/views/custom-field-columns.js'
import type { ViewContext, ViewDeclaration } from '../../src/views/view-declaration.js'

/** Units `first_response_time.actual_time` may be in (undocumented; seconds in the simulator). */
export const DURATION_UNITS = ['seconds', 'milliseconds', 'minutes'] as const
export type DurationUnit = (typeof DURATION_UNITS)[number]

const PER_MINUTE: Readonly<Record<DurationUnit, number>> = {
  seconds: 60,
  milliseconds: 60_000,
  minutes: 1,
}

/** Where a request's custom field values are, and the definitions' names. */
export interface RequestCustomFieldSettings {
  /** Table of the definitions (`/requests/custom-fields`). Default `custom_fields`. */
  readonly definitionsTable?: string
  /** Column of a definition holding its name (§3.6 does not document it). Default `category_name`. */
  readonly definitionNameColumn?: string
  /** Column of `<requests>__custom_fields` naming the field of a value. Default `category_name`. */
  readonly fieldNameColumn?: string
  /** Column of `<requests>__custom_fields__values` holding a value. Default `value`. */
  readonly valueColumn?: string
  /** Column of `<requests>__custom_fields__values` holding a value's label. Default `name`. */
  readonly valueNameColumn?: string
  /** Prefix of the custom-field columns of `requests_enriched`. Default `cf_`. */
  readonly columnPrefix?: string
}

/** What `requestsEnrichedView` reads; every setting is a warehouse table or column name. */
export interface RequestViewSettings {
  /** Table of the requests. Default `requests`. */
  readonly table?: string
  /** Name of the view. Default `<table>_enriched`. */
  readonly name?: string
  /** Column of a request holding its assignee's user id (§3.4: unknown). Default `assigned_to_user_id`. */
  readonly assigneeColumn?: string
  /** Table of the users. Default `users`. */
  readonly usersTable?: string
  /** Column of a user holding their name. Default `name`. */
  readonly userNameColumn?: string
  /** Column of a user holding their email (§3.5: the only one). Default `slack_profile_email`. */
  readonly userEmailColumn?: string
  /** Column of a request holding its sub-status id (§3.4: unknown shape). Default `sub_status`. */
  readonly subStatusColumn?: string
  /** Table of the sub-statuses. Default `sub_statuses`. */
  readonly subStatusesTable?: string
  /** Column of a sub-status holding its name (§3.7: unknown). Default `name`. */
  readonly subStatusNameColumn?: string
  /** Column holding the first response time. Default `first_response_time__actual_time`. */
  readonly firstResponseColumn?: string
  /** Column holding it in working hours. Default `first_response_time__time_in_working_hours`. */
  readonly firstResponseWorkingColumn?: string
  /** Unit of both (§3.4: unknown). Default `seconds`. */
  readonly firstResponseUnit?: DurationUnit
  /** Custom fields: see `RequestCustomFieldSettings`. */
  readonly customFields?: RequestCustomFieldSettings
}

const fieldDefaults = (
  s: RequestCustomFieldSettings = {},
): Required<RequestCustomFieldSettings> => ({
  definitionsTable: 'custom_fields',
  definitionNameColumn: 'category_name',
  fieldNameColumn: 'category_name',
  valueColumn: 'value',
  valueNameColumn: 'name',
  columnPrefix: 'cf_',
  ...s,
})

const defaults = (s: RequestViewSettings = {}) => {
  const table = s.table ?? 'requests'
  return {
    table,
    name: `${table}_enriched`,
    assigneeColumn: 'assigned_to_user_id',
    usersTable: 'users',
    userNameColumn: 'name',
    userEmailColumn: 'slack_profile_email',
    subStatusColumn: 'sub_status',
    subStatusesTable: 'sub_statuses',
    subStatusNameColumn: 'name',
    firstResponseColumn: 'first_response_time__actual_time',
    firstResponseWorkingColumn: 'first_response_time__time_in_working_hours',
    firstResponseUnit: 'seconds' as DurationUnit,
    ...s,
    customFields: fieldDefaults(s.customFields),
  }
}

/** The request columns every enriched view has, before the custom fields: `[name, SQL]`. */
type Select = readonly (readonly [string, string])[]

/**
 * `requests_enriched` (or `<table>_enriched`): one row per request not soft-deleted, with its
 * assignee's name and email, its sub-status' name, first response in minutes, SLA flags, and
 * one `cf_*` column per custom field definition (values joined with `, ` in the API's order).
 */
export function requestsEnrichedView(settings: RequestViewSettings = {}): ViewDeclaration {
  const s = defaults(settings)
  return {
    name: s.name,
    description: `one row per request of ${s.table} (soft-deleted ones left out), with names, minutes, SLA flags and one column per custom field`,
    requires: [{ table: s.table }],
    sql: async (ctx) => {
      const r = (column: string, type: Parameters<ViewContext['column']>[3] = 'text') =>
        ctx.column('r', s.table, column, type)
      const joinable = (table: string, key: string, from: string) =>
        ctx.hasColumn(table, key) && ctx.hasColumn(s.table, from)
      const users = joinable(s.usersTable, 'id', s.assigneeColumn)
      const subStatuses = joinable(s.subStatusesTable, 'id', s.subStatusColumn)
      const u = (column: string) =>
        users ? ctx.column('u', s.usersTable, column) : ctx.cast('NULL', 'text')
      const st = (column: string) =>
        subStatuses ? ctx.column('st', s.subStatusesTable, column) : ctx.cast('NULL', 'text')
      const minutes = (column: string) =>
        `${r(column, 'double')} / ${PER_MINUTE[s.firstResponseUnit]}.0`
      const base: Select = [
        ['request_id', r('id')],
        ['created_at', r('created_at', 'timestamp')],
        ['updated_at', r('updated_at', 'timestamp')],
        ['status', r('status')],
        ['sub_status_id', r(s.subStatusColumn)],
        ['sub_status_name', st(s.subStatusNameColumn)],
        ['source', r('source')],
        ['channel', r('original_message_source')],
        ['title', r('ai_metadata__title')],
        ['category', r('ai_metadata__category')],
        ['urgency', r('ai_metadata__urgency')],
        ['sentiment', r('ai_metadata__sentiment')],
        ['assignee_id', r(s.assigneeColumn)],
        ['assignee_name', u(s.userNameColumn)],
        ['assignee_email', u(s.userEmailColumn)],
        ['first_response_at', r('first_response_time__ts')],
        ['first_response_minutes', minutes(s.firstResponseColumn)],
        ['first_response_working_minutes', minutes(s.firstResponseWorkingColumn)],
        [
          'first_response_sla_breached',
          r('sla_metrics__first_response_sla__is_breached', 'boolean'),
        ],
        ['first_response_sla_valid', r('sla_metrics__first_response_sla__is_valid', 'boolean')],
        ['first_response_sla_state', r('sla_metrics__first_response_sla__evaluated_state')],
        ['resolution_sla_breached', r('sla_metrics__resolution_sla__is_breached', 'boolean')],
        ['resolution_sla_valid', r('sla_metrics__resolution_sla__is_valid', 'boolean')],
        ['resolution_sla_state', r('sla_metrics__resolution_sla__evaluated_state')],
      ]
      const fields = await requestCustomFieldColumns(
        ctx,
        s.customFields,
        base.map(([n]) => n),
      )
      const values = customFieldValuesOf(ctx, s.table, s.customFields)
      const select = [
        ...base.map(([name, sql]) => `  ${sql} AS ${ctx.ident(name)}`),
        ...fields.map((f) =>
          values
            ? `  cf.${ctx.ident(f.column)}`
            : `  ${ctx.cast('NULL', 'text')} AS ${ctx.ident(f.column)}`,
        ),
      ]
      const joins = [
        users &&
          `LEFT JOIN ${ctx.table(s.usersTable)} AS u ON u.${ctx.ident('id')} = r.${ctx.ident(s.assigneeColumn)}`,
        subStatuses &&
          `LEFT JOIN ${ctx.table(s.subStatusesTable)} AS st ON st.${ctx.ident('id')} = r.${ctx.ident(s.subStatusColumn)}`,
        values &&
          fields.length > 0 &&
          `LEFT JOIN (\n${pivot(ctx, values, fields)}\n) AS cf ON cf.${ctx.ident('request_id')} = r.${ctx.ident('id')}`,
      ].filter((j): j is string => typeof j === 'string')
      return [
        `SELECT\n${select.join(',\n')}`,
        `FROM ${ctx.table(s.table)} AS r`,
        ...joins,
        notDeleted(ctx, s.table, 'r'),
      ].join('\n')
    },
  }
}

/** `WHERE <alias>._thena_deleted_at IS NULL` when the table has the column (it always should). */
const notDeleted = (ctx: ViewContext, table: string, alias: string): string =>
  ctx.hasColumn(table, '_thena_deleted_at') ? `WHERE ${alias}._thena_deleted_at IS NULL` : ''

/** The custom field definitions (not soft-deleted), each with its column. */
async function requestCustomFieldColumns(
  ctx: ViewContext,
  s: Required<RequestCustomFieldSettings>,
  taken: readonly string[],
): Promise<CustomFieldColumn[]> {
  if (!ctx.hasColumn(s.definitionsTable, s.definitionNameColumn)) return []
  const name = ctx.ident(s.definitionNameColumn)
  const rows = await ctx.rows(
    `SELECT DISTINCT ${ctx.cast(name, 'text')} AS name FROM ${ctx.table(s.definitionsTable)}
     WHERE ${name} IS NOT NULL ${ctx.hasColumn(s.definitionsTable, '_thena_deleted_at') ? 'AND _thena_deleted_at IS NULL' : ''}`,
  )
  // A request's values name their field, not a definition's id: the name is the key.
  const definitions = rows.map((row) => ({ key: String(row.name), name: String(row.name) }))
  return customFieldColumns(definitions, {
    prefix: s.columnPrefix,
    taken,
    maxLength: ctx.capabilities.maxIdentifierLength,
  })
}

/** Where one request's values are: the two child tables, when both exist with their columns. */
interface ValueSource {
  /** `FROM … JOIN …` of the values, with `f` the fields and `v` the values. */
  readonly from: string
  /** The request's id, the field's name, a value, a value's label, and the order of both. */
  readonly root: string
  readonly field: string
  readonly value: string
  readonly valueName: string
  readonly order: string
}

function customFieldValuesOf(
  ctx: ViewContext,
  table: string,
  s: Required<RequestCustomFieldSettings>,
): ValueSource | undefined {
  const fields = `${table}__custom_fields`
  const values = `${fields}__values`
  const needs: readonly (readonly [string, string])[] = [
    [fields, '_thena_id'],
    [fields, '_thena_root_id'],
    [fields, '_thena_list_idx'],
    [fields, s.fieldNameColumn],
    [values, '_thena_parent_id'],
    [values, '_thena_list_idx'],
    [values, s.valueColumn],
  ]
  if (!needs.every(([t, c]) => ctx.hasColumn(t, c))) return undefined
  const i = ctx.ident
  return {
    from: `FROM ${ctx.table(fields)} AS f JOIN ${ctx.table(values)} AS v ON v.${i('_thena_parent_id')} = f.${i('_thena_id')}`,
    root: `f.${i('_thena_root_id')}`,
    field: `f.${i(s.fieldNameColumn)}`,
    value: ctx.cast(`v.${i(s.valueColumn)}`, 'text'),
    valueName: ctx.column('v', values, s.valueNameColumn),
    order: `f.${i('_thena_list_idx')}, v.${i('_thena_list_idx')}`,
  }
}

/** One row per request: each field's values joined with `, `, in the API's order. */
function pivot(
  ctx: ViewContext,
  values: ValueSource,
  fields: readonly CustomFieldColumn[],
): string {
  const columns = fields.map(
    (f) =>
      `    string_agg(${values.value}, ', ' ORDER BY ${values.order}) FILTER (WHERE ${values.field} = ${ctx.literal(f.key)}) AS ${ctx.ident(f.column)}`,
  )
  return [
    `  SELECT ${values.root} AS ${ctx.ident('request_id')},`,
    columns.join(',\n'),
    `  ${values.from}`,
    `  GROUP BY ${values.root}`,
  ].join('\n')
}

/** What `requestCustomFieldValuesView` reads. */
export interface RequestCustomFieldValuesSettings {
  /** Table of the requests. Default `requests`. */
  readonly table?: string
  /** Name of the view. Default `request_custom_field_values` (`<table>` in place of `request`s otherwise). */
  readonly name?: string
  /** Custom fields: see `RequestCustomFieldSettings`. */
  readonly customFields?: RequestCustomFieldSettings
}

/**
 * `request_custom_field_values`: one row per request (not soft-deleted), field and value, with
 * the field's and the value's position in the request as the API listed them.
 */
export function requestCustomFieldValuesView(
  settings: RequestCustomFieldValuesSettings = {},
): ViewDeclaration {
  const table = settings.table ?? 'requests'
  const name =
    settings.name ??
    (table === 'requests' ? 'request_custom_field_values' : `${table}_custom_field_values`)
  const s = fieldDefaults(settings.customFields)
  return {
    name,
    description: `one row per request of ${table} (soft-deleted ones left out), custom field and value`,
    requires: [
      { table },
      { table: `${table}__custom_fields` },
      { table: `${table}__custom_fields__values` },
    ],
    sql: (ctx) => {
      const values = customFieldValuesOf(ctx, table, s)
      if (!values)
        throw new TerminalError(
          'view_unbuildable',
          `${table}__custom_fields and its __values lack columns this view reads`,
        )
      const i = ctx.ident
      return [
        'SELECT',
        `  ${values.root} AS ${i('request_id')},`,
        `  ${values.field} AS ${i('field_name')},`,
        `  ${values.value} AS ${i('value')},`,
        `  ${values.valueName} AS ${i('value_name')},`,
        `  ${ctx.column('f', `${table}__custom_fields`, 'manual', 'boolean')} AS ${i('manual')},`,
        `  f.${i('_thena_list_idx')} AS ${i('field_position')},`,
        `  v.${i('_thena_list_idx')} AS ${i('value_position')}`,
        values.from,
        `JOIN ${ctx.table(table)} AS r ON r.${i('id')} = ${values.root}`,
        notDeleted(ctx, table, 'r'),
      ].join('\n')
    },
  }
}

/** What `requestStatusPeriodsView` reads. */
export interface RequestStatusPeriodsSettings {
  /** Table of the requests; its history table is `<table>_history`. Default `requests`. */
  readonly table?: string
  /** Name of the view. Default `request_status_periods` (`<table>_status_periods` otherwise). */
  readonly name?: string
  /** Column of a request holding its status. Default `status`. */
  readonly statusColumn?: string
  /** Column of a request holding its sub-status id (§3.4: unknown shape). Default `sub_status`. */
  readonly subStatusColumn?: string
  /** Table of the sub-statuses. Default `sub_statuses`. */
  readonly subStatusesTable?: string
  /** Column of a sub-status holding its name (§3.7: unknown). Default `name`. */
  readonly subStatusNameColumn?: string
}

/**
 * `request_status_periods`: for each request, each stretch of time it was seen in one status
 * and sub-status, from the versions of `requests_history` (docs/decisions.md #71). Consecutive
 * versions in the same status and sub-status are one period; a period still open runs to now;
 * a soft delete ends the last one. Periods of one request follow each other without gaps, so
 * their durations add up to the time from its first observed version to its last end (or now).
 */
export function requestStatusPeriodsView(
  settings: RequestStatusPeriodsSettings = {},
): ViewDeclaration {
  const table = settings.table ?? 'requests'
  const s = {
    name: table === 'requests' ? 'request_status_periods' : `${table}_status_periods`,
    statusColumn: 'status',
    subStatusColumn: 'sub_status',
    subStatusesTable: 'sub_statuses',
    subStatusNameColumn: 'name',
    ...settings,
  }
  const history = `${table}_history`
  return {
    name: s.name,
    description: `one row per request of ${table} and stretch of time in one status and sub-status, from ${history}`,
    requires: [{ table: history, hint: `needs \`resources.${table}.history: true\`` }],
    sql: (ctx) => {
      const i = ctx.ident
      const order = `ORDER BY ${i('valid_from')}, ${i('valid_to')} NULLS LAST`
      const sameAsBefore = [
        `${i('prev_to')} = ${i('valid_from')}`,
        `${i('prev_status')} IS NOT DISTINCT FROM ${i('status')}`,
        `${i('prev_sub_status')} IS NOT DISTINCT FROM ${i('sub_status_id')}`,
      ].join(' AND ')
      const names = ctx.hasColumn(s.subStatusesTable, s.subStatusNameColumn)
      const epoch = (expr: string) => `EXTRACT(EPOCH FROM ${expr})`
      return [
        `WITH ${i('versions')} AS (`,
        '  SELECT',
        `    h.${i('id')} AS ${i('request_id')},`,
        `    ${ctx.column('h', history, s.statusColumn)} AS ${i('status')},`,
        `    ${ctx.column('h', history, s.subStatusColumn)} AS ${i('sub_status_id')},`,
        `    h.${i('_thena_valid_from')} AS ${i('valid_from')},`,
        `    h.${i('_thena_valid_to')} AS ${i('valid_to')}`,
        `  FROM ${ctx.table(history)} AS h`,
        `), ${i('neighbours')} AS (`,
        `  SELECT v.*,`,
        `    LAG(${i('status')}) OVER w AS ${i('prev_status')},`,
        `    LAG(${i('sub_status_id')}) OVER w AS ${i('prev_sub_status')},`,
        `    LAG(${i('valid_to')}) OVER w AS ${i('prev_to')}`,
        `  FROM ${i('versions')} AS v`,
        `  WINDOW w AS (PARTITION BY ${i('request_id')} ${order})`,
        `), ${i('numbered')} AS (`,
        `  SELECT n.*, SUM(CASE WHEN ${sameAsBefore} THEN 0 ELSE 1 END) OVER (`,
        `    PARTITION BY ${i('request_id')} ${order} ROWS UNBOUNDED PRECEDING) AS ${i('period')}`,
        `  FROM ${i('neighbours')} AS n`,
        `), ${i('periods')} AS (`,
        '  SELECT',
        `    ${i('request_id')}, ${i('period')}, ${i('status')}, ${i('sub_status_id')},`,
        `    MIN(${i('valid_from')}) AS ${i('started_at')},`,
        // A period is open while its last version is: no end yet.
        `    CASE WHEN COUNT(*) = COUNT(${i('valid_to')}) THEN MAX(${i('valid_to')}) END AS ${i('ended_at')},`,
        `    COUNT(*) AS ${i('versions')}`,
        `  FROM ${i('numbered')}`,
        `  GROUP BY ${i('request_id')}, ${i('period')}, ${i('status')}, ${i('sub_status_id')}`,
        ')',
        'SELECT',
        `  p.${i('request_id')},`,
        `  p.${i('period')},`,
        `  p.${i('status')},`,
        `  p.${i('sub_status_id')},`,
        `  ${names ? `ss.${i(s.subStatusNameColumn)}` : ctx.cast('NULL', 'text')} AS ${i('sub_status_name')},`,
        `  p.${i('started_at')},`,
        `  p.${i('ended_at')},`,
        `  p.${i('ended_at')} IS NULL AS ${i('is_current')},`,
        `  (${epoch(`COALESCE(p.${i('ended_at')}, CURRENT_TIMESTAMP)`)} - ${epoch(`p.${i('started_at')}`)}) / 60.0 AS ${i('duration_minutes')},`,
        `  p.${i('versions')}`,
        `FROM ${i('periods')} AS p`,
        ...(names
          ? [
              `LEFT JOIN ${ctx.table(s.subStatusesTable)} AS ss ON ${ctx.cast(`ss.${i('id')}`, 'text')} = p.${i('sub_status_id')}`,
            ]
          : []),
      ].join('\n')
    },
  }
}

/**
 * The bolt source's views: both request lists enriched, the custom field values, and the
 * status periods of requests (built once `requests` keeps history).
 */
export const THENA_VIEWS: readonly ViewDeclaration[] = [
  requestsEnrichedView(),
  requestsEnrichedView({ table: 'requests_v3' }),
  requestCustomFieldValuesView(),
  requestStatusPeriodsView(),
]
