/**
 * Deterministic building blocks of the Platform simulator's data: opaque ids, per-record draws
 * and the word pools records are made of. Every value is a pure function of (seed, kind, n).
 */
import { hash32, hashInts } from '../../../src/stand-in/prng.js'

/** Crockford's base32: uppercase, no I, L, O or U, as Platform ids look (`T00M677SAK`). */
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'
const HALF = 0x100000

/**
 * The id of the `n`-th record of a kind: its two-letter prefix and 8 base32 characters. The
 * characters are a 4-round Feistel permutation of `n` over 40 bits keyed on (seed, prefix), so
 * ids look random yet never collide within a kind.
 */
export function platformId(seed: number, prefix: string, n: number): string {
  const cacheKey = `${seed}|${prefix}`
  let key = idKeys.get(cacheKey)
  if (key === undefined) idKeys.set(cacheKey, (key = hash32(seed, 'id', prefix)))
  let left = Math.floor(n / HALF) % HALF
  let right = n % HALF
  for (let round = 0; round < 4; round++) {
    const next = left ^ (hashInts(key, round, right) % HALF)
    left = right
    right = next
  }
  // Both halves are 20 bits: four base32 digits each.
  return (
    prefix +
    ALPHABET[left >>> 15]! +
    ALPHABET[(left >>> 10) & 31]! +
    ALPHABET[(left >>> 5) & 31]! +
    ALPHABET[left & 31]! +
    ALPHABET[right >>> 15]! +
    ALPHABET[(right >>> 10) & 31]! +
    ALPHABET[(right >>> 5) & 31]! +
    ALPHABET[right & 31]!
  )
}
const idKeys = new Map<string, number>()

/** Per-record draws for one kind: `draw.int(n, salt, min, max)` is the same for every run. */
export class Draw {
  readonly #key: number

  constructor(seed: number, kind: string) {
    this.#key = hash32(seed, 'draw', kind)
  }

  /** Uniform float in [0, 1). */
  unit(n: number, salt: number): number {
    return hashInts(this.#key, n, salt) / 4294967296
  }

  int(n: number, salt: number, min: number, max: number): number {
    return min + Math.floor(this.unit(n, salt) * (max - min + 1))
  }

  chance(n: number, salt: number, p: number): boolean {
    return this.unit(n, salt) < p
  }

  pick<T>(n: number, salt: number, items: readonly T[]): T {
    return items[Math.floor(this.unit(n, salt) * items.length)]!
  }
}

export const DAY_MS = 86_400_000

const PAD2 = Array.from({ length: 60 }, (_, i) => String(i).padStart(2, '0'))
const PAD3 = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'))
const dayPrefixes = new Map<number, string>()

/**
 * ISO 8601 with milliseconds and `Z`, as the Platform sends; `new Date(ms).toISOString()`
 * without a Date per call (the simulator makes a quarter of a million of them at start).
 */
export function iso(epochMs: number): string {
  const ms = Math.floor(epochMs)
  const day = Math.floor(ms / DAY_MS)
  let prefix = dayPrefixes.get(day)
  if (prefix === undefined) {
    if (dayPrefixes.size > 10_000) dayPrefixes.clear()
    prefix = new Date(day * DAY_MS).toISOString().slice(0, 11)
    dayPrefixes.set(day, prefix)
  }
  const r = ms - day * DAY_MS
  const time = `${PAD2[Math.floor(r / 3_600_000)]}:${PAD2[Math.floor(r / 60_000) % 60]}:${PAD2[Math.floor(r / 1000) % 60]}`
  return `${prefix}${time}.${PAD3[r % 1000]}Z`
}

export const FIRST_NAMES = [
  'Ava',
  'Liam',
  'Maya',
  'Noah',
  'Zoë',
  'Ethan',
  'Priya',
  'Lucas',
  'Sofia',
  'Kenji',
  'Amara',
  'Mateo',
  'Chloé',
  'Omar',
  'Ingrid',
  'Ravi',
  'Hana',
  'Diego',
  'Freya',
  'Tomás',
  'Aisha',
  'Jonas',
  'Mei',
  'Björn',
] as const

export const LAST_NAMES = [
  'Nguyen',
  'Smith',
  'García',
  'Okafor',
  'Müller',
  'Tanaka',
  'Rossi',
  'Kowalski',
  'Patel',
  'Johansson',
  "O'Brien",
  'Dubois',
  'Silva',
  'Kim',
  'Haddad',
  'Novak',
  'Cohen',
  'Larsen',
  'Ibrahim',
  'Moreau',
  'Schmidt',
  'Reyes',
  'Andersen',
  'Yilmaz',
] as const

export const COMPANY_WORDS = [
  'Acme',
  'Globex',
  'Initech',
  'Umbrella',
  'Hooli',
  'Stark',
  'Wayne',
  'Wonka',
  'Cyberdyne',
  'Soylent',
  'Tyrell',
  'Aperture',
  'Vandelay',
  'Massive',
  'Oscorp',
  'Monarch',
  'Nakatomi',
  'Gekko',
  'Prestige',
  'Zorg',
  'Dunder',
  'Bluth',
  'Sterling',
  'Nordström',
] as const

export const COMPANY_SUFFIXES = ['Inc', 'Labs', 'Corp', 'GmbH', 'Systems', 'Health', 'AB'] as const

export const TIMEZONES = [
  'America/New_York',
  'America/Los_Angeles',
  'Europe/London',
  'Europe/Berlin',
  'Asia/Kolkata',
  'Asia/Tokyo',
  'Australia/Sydney',
  'America/Sao_Paulo',
] as const

export const TICKET_TITLES = [
  'Login fails with SSO',
  'Export to CSV times out',
  'Webhook not firing on ticket update',
  'Update billing address',
  'Slack integration disconnected',
  'API returns 500 on create',
  'Invite email never arrives',
  'Dashboard loads slowly',
  'Custom field missing on form',
  'Cannot reset password',
  'Duplicate tickets created from email',
  'SLA timer paused unexpectedly',
  'Need more seats on our plan',
  'Search ignores accented names (é, ü, ñ)',
  'Attachments over 10 MB rejected',
  'Question about the "Enterprise" tier',
  'Data residency in the EU?',
  'Mobile app crashes on launch 📱',
  'Reports show wrong time zone',
  'Request: dark mode',
  '日本語の件名が文字化けする',
  'Bulk import stuck at 99%',
  'Routing sends tickets to the wrong team',
  'CSAT survey not sent after close',
] as const

export const COMMENT_LINES = [
  'Thanks for reaching out, we are looking into it.',
  'Could you share a screenshot of the error?',
  'Here is the HAR file you asked for.',
  'We reproduced it and filed a bug with engineering.',
  'A fix is rolling out today; please try again in an hour.',
  'Still happening on my side, unfortunately.',
  'That worked, thank you! 🎉',
  'Internal: customer is on the legacy plan, check limits first.',
  'Looping in @billing for the invoice question.',
  'Can we schedule a call tomorrow at 10:00 CET?',
  'Closing this as resolved; reply to reopen.',
  'Merci, c’est réglé.',
  'The logs show a timeout at the gateway ("upstream took too long").',
  'Escalating to tier 2.',
] as const

export const TAG_WORDS = [
  'bug',
  'billing',
  'vip',
  'onboarding',
  'sso',
  'api',
  'mobile',
  'feature-request',
  'urgent',
  'churn-risk',
  'integration',
  'security',
  'english',
  'german',
  'japanese',
  'escalated',
] as const

export const TEAM_NAMES = [
  ['Support', 'SUP', '🎧'],
  ['Engineering', 'ENG', '🛠️'],
  ['Operations', 'OPS', '⚙️'],
  ['Support Tier 2', 'ST2', '🧯'],
  ['Billing', 'BIL', '💳'],
  ['Security', 'SEC', '🔒'],
  ['Success', 'CSM', '🤝'],
  ['Billing Escalations', 'BLE', '📈'],
] as const

export const COLORS = [
  '#4f46e5',
  '#0ea5e9',
  '#10b981',
  '#f59e0b',
  '#ef4444',
  '#8b5cf6',
  '#ec4899',
  '#64748b',
] as const

export const SOURCES = ['email', 'slack', 'web', 'api', 'manual', 'ms_teams'] as const

/** Custom-field types in the order definitions cycle through them. */
export const FIELD_TYPES = [
  'single_line',
  'single_choice',
  'integer',
  'multi_choice',
  'checkbox',
  'date',
  'decimal',
  'email',
  'multi_line',
  'rich_text',
  'date_time',
  'phone_number',
  'radio_button',
  'currency',
] as const

export const CHOICES = ['Alpha', 'Beta', 'Gamma', 'Delta', 'Epsilon'] as const

/** Statuses: the four default parents, then their children (name, parent index or -1). */
export const STATUSES = [
  ['Open', -1],
  ['In progress', -1],
  ['On hold', -1],
  ['Closed', -1],
  ['New', 0],
  ['Reopened', 0],
  ['Investigating', 1],
  ['Waiting on engineering', 1],
  ['Waiting on customer', 2],
  ['Waiting on third party', 2],
  ['Resolved', 3],
  ["Won't fix", 3],
] as const

export const PRIORITIES = ['Urgent', 'High', 'Medium', 'Low'] as const
export const TICKET_TYPES = ['Question', 'Incident', 'Bug', 'Feature request'] as const
export const SENTIMENTS = ['Positive', 'Neutral', 'Negative', 'Frustrated'] as const

/** The kinds `GET /v1/accounts/attributes?attribute=` takes, and the values of each. */
export const ATTRIBUTE_VALUES = {
  account_status: ['Active', 'Trial', 'Churned', 'Prospect'],
  account_classification: ['Enterprise', 'Mid-market', 'SMB'],
  account_health: ['Healthy', 'At risk', 'Critical'],
  account_industry: ['Software', 'Financial services', 'Healthcare', 'Retail', 'Education'],
  contact_type: ['Customer', 'Partner', 'Vendor'],
  activity_type: ['Call', 'Meeting', 'Email'],
  activity_status: ['Planned', 'Completed'],
  note_type: ['General', 'Escalation'],
  task_type: ['Follow-up', 'Onboarding', 'Renewal'],
  task_status: ['To do', 'In progress', 'Done'],
  task_priority: ['Low', 'Medium', 'High', 'Urgent'],
} as const satisfies Record<string, readonly string[]>

export type AttributeKind = keyof typeof ATTRIBUTE_VALUES
export const ATTRIBUTE_KINDS = Object.keys(ATTRIBUTE_VALUES) as AttributeKind[]

/** `a-b-c` of a name, ASCII only. */
export const slugOf = (name: string): string =>
  name
    .normalize('NFKD')
    .replace(/[^\w\s-]/g, '')
    .trim()
    .toLowerCase()
    .replace(/[\s_]+/g, '-')
