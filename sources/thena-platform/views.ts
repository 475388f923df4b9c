/**
 * The views of the Platform source (docs/decisions.md #65-#67): tickets with the names of
 * their account, team, status and assignee, and one column per ticket custom field. Names come
 * from the loaded lists (current), else from the ticket's own copy (`account`, `teamName`, …).
 */
import { customFieldColumns } from '../../src/views/custom-field-columns.js'
import type { CustomFieldColumn } from '../../src/views/custom-field-columns.js'
import type { ViewContext, ViewDeclaration } from '../../src/views/view-declaration.js'

/** What `ticketsEnrichedView` reads; every setting is a warehouse table or column name. */
export interface TicketViewSettings {
  /** Name of the view. Default `tickets_enriched`. */
  readonly name?: string
  /** Table of the custom field definitions (§7.6). Default `custom_fields`. */
  readonly definitionsTable?: string
  /** Column of a definition its values point at. Default `uid`. */
  readonly definitionKeyColumn?: string
  /** Column of a definition holding its name. Default `name`. */
  readonly definitionNameColumn?: string
  /** Column of a definition saying what it is of, and the value meaning tickets. Default `source`, `ticket`. */
  readonly definitionSourceColumn?: string
  readonly definitionSourceValue?: string
  /**
   * Whether `tickets__custom_field_values__data.value` is a JSON column (the schema takes any
   * JSON value) rather than text. Default true.
   */
  readonly valueIsJson?: boolean
  /** Prefix of the custom-field columns. Default `cf_`. */
  readonly columnPrefix?: string
}

/**
 * `tickets_enriched`: one row per ticket not soft-deleted, with its account's name, team's
 * name, status' display name, assignee's email, and one `cf_*` column per ticket custom field
 * (values joined with `, ` in the API's order).
 */
export function ticketsEnrichedView(settings: TicketViewSettings = {}): ViewDeclaration {
  const s = {
    name: 'tickets_enriched',
    definitionsTable: 'custom_fields',
    definitionKeyColumn: 'uid',
    definitionNameColumn: 'name',
    definitionSourceColumn: 'source',
    definitionSourceValue: 'ticket',
    valueIsJson: true,
    columnPrefix: 'cf_',
    ...settings,
  }
  return {
    name: s.name,
    description:
      'one row per ticket (soft-deleted ones left out), with account, team, status and assignee names and one column per custom field',
    requires: [{ table: 'tickets' }],
    sql: async (ctx) => {
      const i = ctx.ident
      const t = (column: string, type: Parameters<ViewContext['column']>[3] = 'text') =>
        ctx.column('t', 'tickets', column, type)
      const lookups = [
        { alias: 'a', table: 'accounts', from: 'account_id' },
        { alias: 'tm', table: 'teams', from: 'team_id' },
        { alias: 'st', table: 'ticket_statuses', from: 'status_id' },
        { alias: 'u', table: 'users', from: 'assigned_agent_id' },
      ].filter((l) => ctx.hasColumn(l.table, 'id') && ctx.hasColumn('tickets', l.from))
      const joined = new Set(lookups.map((l) => l.alias))
      // The loaded list's current value first, else the ticket's own copy of it.
      const named = (alias: string, table: string, columns: readonly string[], own: string) =>
        `coalesce(${[...(joined.has(alias) ? columns.map((c) => ctx.column(alias, table, c)) : []), t(own)].join(', ')})`
      const base: readonly (readonly [string, string])[] = [
        ['ticket_id', t('id')],
        ['ticket_identifier', t('ticket_identifier')],
        ['title', t('title')],
        ['created_at', t('created_at', 'timestamp')],
        ['updated_at', t('updated_at', 'timestamp')],
        ['priority', t('priority')],
        ['source', t('source')],
        ['account_id', t('account_id')],
        ['account_name', named('a', 'accounts', ['name'], 'account')],
        ['team_id', t('team_id')],
        ['team_name', named('tm', 'teams', ['name'], 'team_name')],
        ['status_id', t('status_id')],
        ['status_display_name', named('st', 'ticket_statuses', ['display_name', 'name'], 'status')],
        ['assignee_id', t('assigned_agent_id')],
        ['assignee_email', named('u', 'users', ['email'], 'assigned_agent_email')],
        ['requestor_email', t('requestor_email')],
        ['sentiment', t('sentiment')],
      ]
      const fields = await ticketCustomFieldColumns(
        ctx,
        s,
        base.map(([n]) => n),
      )
      const values = ticketValuesOf(ctx, s.valueIsJson)
      const select = [
        ...base.map(([name, sql]) => `  ${sql} AS ${i(name)}`),
        ...fields.map((f) =>
          values ? `  cf.${i(f.column)}` : `  ${ctx.cast('NULL', 'text')} AS ${i(f.column)}`,
        ),
      ]
      const joins = lookups.map(
        (l) =>
          `LEFT JOIN ${ctx.table(l.table)} AS ${l.alias} ON ${l.alias}.${i('id')} = t.${i(l.from)}`,
      )
      if (values && fields.length > 0) {
        const columns = fields.map(
          (f) =>
            `    string_agg(${values.value}, ', ' ORDER BY ${values.order}) FILTER (WHERE ${values.field} = ${ctx.literal(f.key)}) AS ${i(f.column)}`,
        )
        joins.push(
          [
            'LEFT JOIN (',
            `  SELECT ${values.root} AS ${i('ticket_id')},`,
            columns.join(',\n'),
            `  ${values.from}`,
            `  GROUP BY ${values.root}`,
            `) AS cf ON cf.${i('ticket_id')} = t.${i('id')}`,
          ].join('\n'),
        )
      }
      const live = ctx.hasColumn('tickets', '_thena_deleted_at')
        ? 'WHERE t._thena_deleted_at IS NULL'
        : ''
      return [`SELECT\n${select.join(',\n')}`, `FROM ${ctx.table('tickets')} AS t`, ...joins, live]
        .filter((line) => line !== '')
        .join('\n')
    },
  }
}

/** The ticket custom field definitions (not soft-deleted), each with its column. */
async function ticketCustomFieldColumns(
  ctx: ViewContext,
  s: Required<Omit<TicketViewSettings, 'name' | 'valueIsJson'>>,
  taken: readonly string[],
): Promise<CustomFieldColumn[]> {
  const table = s.definitionsTable
  if (!ctx.hasColumn(table, s.definitionKeyColumn) || !ctx.hasColumn(table, s.definitionNameColumn))
    return []
  const where = [
    `${ctx.ident(s.definitionKeyColumn)} IS NOT NULL`,
    ctx.hasColumn(table, '_thena_deleted_at') && '_thena_deleted_at IS NULL',
    ctx.hasColumn(table, s.definitionSourceColumn) &&
      `${ctx.ident(s.definitionSourceColumn)} = ${ctx.literal(s.definitionSourceValue)}`,
  ].filter((w): w is string => typeof w === 'string')
  const rows = await ctx.rows(
    `SELECT ${ctx.cast(ctx.ident(s.definitionKeyColumn), 'text')} AS k, ${ctx.cast(ctx.ident(s.definitionNameColumn), 'text')} AS n
     FROM ${ctx.table(table)} WHERE ${where.join(' AND ')}`,
  )
  return customFieldColumns(
    rows.map((row) => ({
      key: String(row.k),
      name: row.n == null ? String(row.k) : String(row.n),
    })),
    { prefix: s.columnPrefix, taken, maxLength: ctx.capabilities.maxIdentifierLength },
  )
}

/** The values of the tickets' custom fields, when both child tables exist with their columns. */
function ticketValuesOf(ctx: ViewContext, json: boolean) {
  const fields = 'tickets__custom_field_values'
  const data = `${fields}__data`
  const needs = [
    [fields, '_thena_id'],
    [fields, '_thena_root_id'],
    [fields, '_thena_list_idx'],
    [fields, 'custom_field_id'],
    [data, '_thena_parent_id'],
    [data, '_thena_list_idx'],
    [data, 'value'],
  ] as const
  if (!needs.every(([t, c]) => ctx.hasColumn(t, c))) return undefined
  const i = ctx.ident
  const value = `d.${i('value')}`
  return {
    from: `FROM ${ctx.table(fields)} AS f JOIN ${ctx.table(data)} AS d ON d.${i('_thena_parent_id')} = f.${i('_thena_id')}`,
    root: `f.${i('_thena_root_id')}`,
    field: `f.${i('custom_field_id')}`,
    value: json ? ctx.capabilities.jsonText(value) : ctx.cast(value, 'text'),
    order: `f.${i('_thena_list_idx')}, d.${i('_thena_list_idx')}`,
  }
}

/** The Platform source's views. */
export const PLATFORM_VIEWS: readonly ViewDeclaration[] = [ticketsEnrichedView()]
