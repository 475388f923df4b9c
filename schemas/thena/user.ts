/**
 * Changelog: v1 (2026-11): the fields in shared/reference/thena-api.md §3.5. Slack fields are
 * null for users who sign in by email.
 */
import { z } from 'zod'

const text = z.string().nullish()

export const UserSchema = z
  .looseObject({
    id: z.string().min(1),
    created_at: z.iso.datetime({ offset: true }).nullish(),
    updated_at: z.iso.datetime({ offset: true }).nullish(),
    name: text,
    slack_tz: text,
    slack_id: text,
    slack_name: text,
    slack_team_id: text,
    slack_tz_label: text,
    slack_tz_offset: z.number().int().nullish().describe('Seconds east of UTC.'),
    slack_profile_email: text,
    slack_profile_title: text,
    slack_profile_image_24: text,
    slack_profile_real_name: text,
    slack_profile_display_name: text,
    slack_profile_image_original: text,
  })
  .describe('A Thena user (bolt `/rest/v2/users`, `/rest/v2/users/{id}`).')

export type User = z.infer<typeof UserSchema>
