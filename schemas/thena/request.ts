/**
 * Changelog (additive only: a new field is optional, a field is never removed or narrowed):
 * - v1 (2026-11): every field in shared/reference/thena-api.md §3.4.
 *
 * Objects are loose: fields the API adds later are kept and land as new columns.
 */
import { z } from 'zod'

const text = z.string().nullish()
const flag = z.boolean().nullish()
const timestamp = z.iso.datetime({ offset: true })

export const RequestSchema = z
  .looseObject({
    id: z.string().min(1),
    created_at: timestamp,
    updated_at: timestamp,
    status: text,
    sub_status: text.describe('A sub-status id (see `sub_statuses`).'),
    source: text,
    original_message_ts: text.describe(
      'Slack ts (`"1704811145.999999"`) or ISO time, depending on the source: kept as text.',
    ),
    original_message_text: text,
    original_message_source: text,
    original_message_user_id: text,
    original_message_permalink: text,
    original_message_user_name: text,
    original_message_user_slack_name: text,
    original_message_user_slack_profile_real_name: text,
    original_message_user_slack_profile_image_48: text,
    original_message_user_slack_profile_image_72: text,
    original_message_user_slack_profile_image_512: text,
    sla_metrics: z
      .looseObject({
        first_response_sla: z
          .looseObject({ is_valid: flag, evaluated_state: text, is_breached: flag })
          .nullish(),
        resolution_sla: z
          .looseObject({ is_valid: flag, evaluated_state: text, is_breached: flag })
          .nullish(),
      })
      .nullish(),
    first_response_time: z
      .looseObject({
        ts: text.describe('Format not documented: kept as text.'),
        actual_time: z
          .number()
          .nullish()
          .describe('Unit not documented (seconds in the simulator).'),
        time_in_working_hours: z.number().nullish(),
      })
      .nullish(),
    ai_metadata: z
      .looseObject({
        title: text,
        summary: text,
        internal_summary: text,
        tags: z.array(z.string()).nullish(),
        category: text,
        userDefinedTags: z.array(z.string()).nullish(),
        urgency: text,
        urgencySource: text,
        actionable: text,
        sentiment: text,
        sentimentSource: text,
        updatedOn: text,
      })
      .nullish(),
    custom_fields: z
      .array(
        z.looseObject({
          category_name: text,
          values: z.array(z.looseObject({ name: text, value: text })).nullish(),
          manual: flag,
        }),
      )
      .nullish(),
    assigned_to_user_id: text,
  })
  .describe('A Thena request (bolt `/rest/v2/requests`, `/rest/v2/requests/v3`, `/v3/requests`).')

export type Request = z.infer<typeof RequestSchema>
