import { makeObjectId } from './object-id.js'
import { Rng, hash32 } from '../../../src/stand-in/prng.js'
import { isoSeconds } from '../../../src/stand-in/iso-seconds.js'
import type { JsonObject } from '../../../src/stand-in/json-path.js'
import {
  CUSTOM_FIELD_CATEGORIES,
  FIRST_NAMES,
  LAST_NAMES,
  SUB_STATUSES,
  TIMEZONES,
} from './text-pools.js'

/** Inputs a generated user depends on besides its index. */
export interface UserContext {
  readonly seed: number
  /** Machine part of user ids (10 hex). */
  readonly userMachine: string
}

const iso = isoSeconds

/** Builds user number `index` created at `createdAt` (UNIX seconds). */
export function generateUser(ctx: UserContext, index: number, createdAt: number): JsonObject {
  const rng = new Rng(hash32(ctx.seed, 'user', index))
  const first = rng.pick(FIRST_NAMES)
  const last = rng.pick(LAST_NAMES)
  // About one user in four signs in by email only: every Slack field is null for them.
  const slack = rng.chance(0.75)
  const [tz, tzLabel, tzOffset] = rng.pick(TIMEZONES)
  const slackId = `U0${rng.hex(8).toUpperCase()}`
  const handle = `${first}.${last}`.toLowerCase().replace(/[^a-z0-9.]/g, '')
  return {
    id: makeObjectId(createdAt, ctx.userMachine, index),
    created_at: iso(createdAt),
    updated_at: iso(createdAt + rng.int(0, 86_400 * 90)),
    name: `${first} ${last}`,
    slack_tz: slack ? tz : null,
    slack_id: slack ? slackId : null,
    slack_name: slack ? handle : null,
    slack_team_id: slack ? `T0${hash32(ctx.seed, 'team').toString(16).toUpperCase()}` : null,
    slack_tz_label: slack ? tzLabel : null,
    slack_tz_offset: slack ? tzOffset : null,
    slack_profile_email: slack ? `${handle}@support.example` : null,
    slack_profile_title: slack ? rng.pick(['Support Engineer', 'Team Lead', 'CSM', '']) : null,
    slack_profile_image_24: slack ? `https://avatars.slack-edge.com/${slackId}_24.png` : null,
    slack_profile_real_name: slack ? `${first} ${last}` : null,
    slack_profile_display_name: slack ? first : null,
    slack_profile_image_original: slack
      ? `https://avatars.slack-edge.com/${slackId}_original.png`
      : null,
  }
}

/** Small fixed lists: each entry gets an ObjectId and timestamps a second apart. */
function definitions<T>(
  seed: number,
  salt: string,
  suffix: string,
  createdAt: number,
  items: readonly T[],
  fields: (item: T) => JsonObject,
): JsonObject[] {
  const machine = hash32(seed, salt).toString(16).padStart(8, '0') + suffix
  return items.map((item, i) => ({
    id: makeObjectId(createdAt + i, machine, i),
    ...fields(item),
    created_at: iso(createdAt + i),
    updated_at: iso(createdAt + i),
  }))
}

export const generateSubStatuses = (seed: number, createdAt: number): JsonObject[] =>
  definitions(seed, 'sub-status-machine', '5b', createdAt, SUB_STATUSES, (s) => ({
    name: s.name,
    description: s.description,
    parent_status: s.parent_status,
  }))

export const generateCustomFields = (seed: number, createdAt: number): JsonObject[] =>
  definitions(seed, 'custom-field-machine', 'cf', createdAt, CUSTOM_FIELD_CATEGORIES, (c) => ({
    category_name: c.category_name,
    field_type: c.field_type,
    options: c.options.map((name) => ({ name, value: name })),
  }))
