import type { ByteWriter } from '../../../src/stand-in/byte-writer.js'
import { isoSeconds as iso } from '../../../src/stand-in/iso-seconds.js'
import { Rng, hashInts } from '../../../src/stand-in/prng.js'
import {
  CATEGORIES,
  COMPANIES,
  CUSTOM_FIELD_CATEGORIES,
  EVALUATED_STATES,
  FIRST_NAMES,
  LAST_NAMES,
  MESSAGES,
  SENTIMENTS,
  SOURCES,
  STATUSES,
  TAGS,
  URGENCIES,
} from './text-pools.js'

/** Inputs a generated request depends on besides its position. */
export interface RequestContext {
  readonly seed: number
  /** Machine part of request ids (10 hex). */
  readonly requestMachine: string
  /** User ids that requests may be assigned to (listed and hidden). */
  readonly assignableUserIds: readonly string[]
  readonly subStatusIds: readonly string[]
}

/**
 * Requests are built from a fixed pool of templates (the slow part: texts, names, nested
 * objects, pre-encoded as UTF-8 once) plus per-record slots (ids, times, status, assignee...).
 * Serving a page is then byte copies, which is what lets one core serve over a thousand pages
 * of 100 per second while memory stays flat at any record count.
 */
const TEMPLATE_COUNT = 1024

const SLOT = {
  /** `{"id":…` through the value of `original_message_ts`: every per-record head field. */
  head: 0,
  permalinkTs: 1,
  firstResponse: 2,
  updatedOn: 3,
  assignee: 4,
} as const
type Slot = (typeof SLOT)[keyof typeof SLOT]

interface RequestTemplate {
  /** Static byte runs; slot `slots[i]` goes between `statics[i]` and `statics[i + 1]`. */
  readonly statics: readonly Buffer[]
  readonly slots: readonly Slot[]
  readonly bytes: number
  /** Email-like sources carry an ISO `original_message_ts`, Slack ones a Slack ts. */
  readonly isoTs: boolean
}

/** Stream numbers for `hashInts`, so each kind of value draws from its own sequence. */
export const STREAM_REQUEST = 1
export const STREAM_CREATED = 2
export const STREAM_UPDATED = 3
const STREAM_TEMPLATE = 4

/** Room for every slot value of one record (ids, timestamps, the first_response_time object). */
const SLOT_BYTES = 512

const esc = (s: string): string => JSON.stringify(s).slice(1, -1)

function messageText(rng: Rng): string {
  const first = rng.pick(MESSAGES)
  // Roughly one message in 400 is very long, as pasted logs are.
  if (rng.chance(0.0025)) {
    return `${first}\n${`[log] ${rng.pick(MESSAGES)}\t`.repeat(rng.int(200, 600))}`
  }
  return rng.chance(0.3) ? `${first}\n\n${rng.pick(MESSAGES)}` : first
}

function buildTemplate(seed: number, k: number): RequestTemplate {
  const rng = new Rng(hashInts(seed, STREAM_TEMPLATE, k))
  const parts: (string | Slot)[] = []
  const s = (text: string) => parts.push(text)
  const slot = (id: Slot) => parts.push(id)
  const q = (text: string) => `"${esc(text)}"`

  const roll = rng.next()
  const channel =
    roll < 0.72 ? 'SLACK' : roll < 0.92 ? 'EMAIL' : roll < 0.96 ? 'MS_TEAMS' : 'WEB_CHAT'
  const slack = channel === 'SLACK'
  const isoTs = !slack && rng.chance(0.5)
  const first = rng.pick(FIRST_NAMES)
  const last = rng.pick(LAST_NAMES)
  const company = rng.pick(COMPANIES)
  const slackUser = `U0${rng.int(0x10000000, 0x7fffffff).toString(36).toUpperCase()}`
  const avatar = `https://avatars.slack-edge.com/2024-01-01/${slackUser}`
  const orNull = (value: string) => (slack ? q(value) : 'null')

  slot(SLOT.head)
  s(`","original_message_text":${q(messageText(rng))},"original_message_source":"${channel}",`)
  const email =
    `${first}.${last}`.toLowerCase().replace(/[^a-z0-9.]/g, '') +
    `@${company.toLowerCase()}.example`
  s(`"original_message_user_id":${q(slack ? slackUser : email)},"original_message_permalink":`)
  if (slack) {
    s(
      `"https://${company.toLowerCase()}.slack.com/archives/C0${rng.int(0x10000000, 0x7fffffff).toString(36).toUpperCase()}/p`,
    )
    slot(SLOT.permalinkTs)
    s('"')
  } else s('null')
  s(`,"original_message_user_name":${q(`${first} ${last}`)}`)
  s(`,"original_message_user_slack_name":${orNull(`${first}.${last}`.toLowerCase())}`)
  s(`,"original_message_user_slack_profile_real_name":${orNull(`${first} ${last}`)}`)
  s(`,"original_message_user_slack_profile_image_48":${orNull(`${avatar}_48.png`)}`)
  s(`,"original_message_user_slack_profile_image_72":${orNull(`${avatar}_72.png`)}`)
  s(`,"original_message_user_slack_profile_image_512":${orNull(`${avatar}_512.png`)}`)
  s(
    `,"sla_metrics":{"first_response_sla":{"is_valid":${rng.chance(0.9)},"evaluated_state":"${rng.pick(EVALUATED_STATES)}","is_breached":${rng.chance(0.15)}},` +
      `"resolution_sla":{"is_valid":${rng.chance(0.85)},"is_breached":${rng.chance(0.2)},"evaluated_state":"${rng.pick(EVALUATED_STATES)}"}}`,
  )
  s(',"first_response_time":')
  slot(SLOT.firstResponse)
  const tags = TAGS.filter(() => rng.chance(0.2))
  s(
    `,"ai_metadata":{"title":${q(`${rng.pick(CATEGORIES)}: ${rng.pick(TAGS)} issue for ${company}`)},"summary":${q(rng.pick(MESSAGES))},` +
      `"internal_summary":${q(rng.chance(0.5) ? rng.pick(MESSAGES) : '')},"tags":${JSON.stringify(tags)},"category":"${rng.pick(CATEGORIES)}",` +
      `"userDefinedTags":${JSON.stringify(rng.chance(0.3) ? [rng.pick(TAGS)] : [])},"urgency":"${rng.pick(URGENCIES)}",` +
      `"urgencySource":"${rng.chance(0.9) ? 'AI' : 'MANUAL'}","actionable":"${rng.chance(0.7)}",` +
      `"sentiment":"${rng.pick(SENTIMENTS)}","sentimentSource":"AI","updatedOn":"`,
  )
  slot(SLOT.updatedOn)
  s('"}')
  s(`,"custom_fields":${JSON.stringify(customFields(rng, k))},"assigned_to_user_id":`)
  slot(SLOT.assignee)
  s('}')

  const statics: Buffer[] = []
  const slots: Slot[] = []
  let run = ''
  for (const part of parts) {
    if (typeof part === 'string') run += part
    else {
      statics.push(Buffer.from(run))
      slots.push(part)
      run = ''
    }
  }
  statics.push(Buffer.from(run))
  return { statics, slots, isoTs, bytes: statics.reduce((n, b) => n + b.length, 0) }
}

function customFields(rng: Rng, k: number) {
  const count = rng.int(0, 3)
  const fields = []
  for (let c = 0; c < count; c++) {
    const def = CUSTOM_FIELD_CATEGORIES[(k + c) % CUSTOM_FIELD_CATEGORIES.length]!
    let values: { name: string; value: string }[]
    if (def.options.length === 0) {
      const value =
        def.field_type === 'date'
          ? iso(Date.UTC(2026, 0, 1) / 1000 + rng.int(0, 365) * 86_400).slice(0, 10)
          : `PROJ-${rng.int(1, 9999)}`
      values = [{ name: def.category_name, value }]
    } else {
      const multi = def.field_type === 'multi_select'
      values = def.options
        .filter(() => rng.chance(multi ? 0.5 : 0.34))
        .slice(0, multi ? 3 : 1)
        .map((option) => ({ name: option, value: option }))
    }
    fields.push({ category_name: def.category_name, values, manual: rng.chance(0.6) })
  }
  return fields
}

const ascii = (text: string) => Buffer.from(text, 'latin1')
const K = {
  id: ascii('{"id":"'),
  created: ascii('","created_at":"'),
  updated: ascii('","updated_at":"'),
  status: ascii('","status":"'),
  subStatus: ascii('","sub_status":'),
  source: ascii(',"source":"'),
  ts: ascii('","original_message_ts":"'),
  frtTs: ascii('{"ts":"'),
  frtActual: ascii('","actual_time":'),
  frtWorking: ascii(',"time_in_working_hours":'),
  null: ascii('null'),
  quote: ascii('"'),
}
const STATUS_BYTES = STATUSES.map(ascii)
const SOURCE_BYTES = SOURCES.map(ascii)
const quoted = (id: string) => ascii(`"${id}"`)

/** Writes generated requests as JSON into a `ByteWriter`. */
export class RequestWriter {
  readonly #ctx: RequestContext
  readonly #templates: (RequestTemplate | undefined)[] = new Array(TEMPLATE_COUNT)
  readonly #machine: Buffer
  readonly #subStatusIds: readonly Buffer[]
  readonly #userIds: readonly Buffer[]

  constructor(ctx: RequestContext) {
    this.#ctx = ctx
    this.#machine = ascii(ctx.requestMachine)
    this.#subStatusIds = ctx.subStatusIds.map(quoted)
    this.#userIds = ctx.assignableUserIds.map(quoted)
  }

  get machine(): string {
    return this.#ctx.requestMachine
  }

  /** Appends request number `index`, created at `createdAt`, updated at `updatedAt` (UNIX s). */
  write(out: ByteWriter, index: number, createdAt: number, updatedAt: number): void {
    const rng = new Rng(hashInts(this.#ctx.seed, STREAM_REQUEST, index))
    const k = rng.int(0, TEMPLATE_COUNT - 1)
    const template = (this.#templates[k] ??= buildTemplate(this.#ctx.seed, k))
    out.reserve(template.bytes + SLOT_BYTES)
    const { statics, slots } = template
    for (let i = 0; i < slots.length; i++) {
      out.bytesReserved(statics[i]!)
      this.#writeSlot(out, slots[i]!, rng, template, index, createdAt, updatedAt)
    }
    out.bytesReserved(statics[slots.length]!)
  }

  #writeSlot(
    out: ByteWriter,
    slot: Slot,
    rng: Rng,
    t: RequestTemplate,
    index: number,
    created: number,
    updated: number,
  ): void {
    switch (slot) {
      case SLOT.head:
        out.bytesReserved(K.id)
        out.hexReserved(created, 8)
        out.bytesReserved(this.#machine)
        out.hexReserved(index, 6)
        out.bytesReserved(K.created)
        out.isoReserved(created)
        out.bytesReserved(K.updated)
        out.isoReserved(updated)
        out.bytesReserved(K.status)
        out.bytesReserved(STATUS_BYTES[rng.int(0, STATUS_BYTES.length - 1)]!)
        out.bytesReserved(K.subStatus)
        out.bytesReserved(
          rng.chance(0.6) ? this.#subStatusIds[rng.int(0, this.#subStatusIds.length - 1)]! : K.null,
        )
        out.bytesReserved(K.source)
        out.bytesReserved(SOURCE_BYTES[rng.int(0, SOURCE_BYTES.length - 1)]!)
        out.bytesReserved(K.ts)
        if (t.isoTs) out.isoReserved(created)
        else {
          out.intReserved(created)
          out.bytesReserved(DOT)
          out.intReserved(rng.int(0, 999_999), 6)
        }
        return
      case SLOT.permalinkTs:
        out.intReserved(created)
        out.intReserved(rng.int(0, 999_999), 6)
        return
      case SLOT.firstResponse: {
        if (!rng.chance(0.8)) return out.bytesReserved(K.null)
        const after = rng.int(30, 86_400)
        out.bytesReserved(K.frtTs)
        out.isoReserved(created + after)
        out.bytesReserved(K.frtActual)
        out.intReserved(after)
        out.bytesReserved(K.frtWorking)
        out.intReserved(Math.round(after * rng.next()))
        out.bytesReserved(CLOSE)
        return
      }
      case SLOT.updatedOn:
        return out.isoReserved(Math.min(updated, created + rng.int(1, 600)))
      case SLOT.assignee:
        return out.bytesReserved(
          rng.chance(0.75) ? this.#userIds[rng.int(0, this.#userIds.length - 1)]! : K.null,
        )
    }
  }
}

const DOT = ascii('.')
const CLOSE = ascii('}')
