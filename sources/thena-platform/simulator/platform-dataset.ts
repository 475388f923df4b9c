/**
 * What the Platform simulator serves: every record, built once at start and then changed only
 * by mutations. Records are never changed in place (a change stores a new object), so a
 * `truth()` taken earlier keeps showing what was served then.
 */
import type { JsonObject } from '../../../src/stand-in/json-path.js'
import { hash32, Rng } from '../../../src/stand-in/prng.js'
import { DAY_MS, TICKET_TITLES, iso } from './platform-pools.js'
import type { AttributeKind } from './platform-pools.js'
import { RecordFactory } from './platform-records.js'
import type { CommentAuthor, TicketLinks } from './platform-records.js'
import type {
  PlatformRoute,
  ResolvedPlatformSimulatorOptions,
} from './platform-simulator-options.js'

/** Types a field added by `addField` can have. */
export const FIELD_VALUE_TYPES = ['string', 'number', 'boolean', 'object'] as const
export type FieldValueType = (typeof FIELD_VALUE_TYPES)[number]

/** A schema change replayed on every record of a resource created after it. */
type Drift =
  | { readonly kind: 'add'; readonly field: string; readonly value: FieldValueType }
  | { readonly kind: 'convert'; readonly field: string }

/** What a complete, correct load holds: the records exactly as the API serves them now. */
export interface PlatformTruth {
  /** Soft-deleted tickets included when they are `flagged`, left out when `hidden`. */
  readonly tickets: ReadonlyMap<string, JsonObject>
  readonly ticketStatuses: ReadonlyMap<string, JsonObject>
  readonly accounts: ReadonlyMap<string, JsonObject>
  readonly contacts: ReadonlyMap<string, JsonObject>
  /** Values of every attribute kind, by id (each record names its `attribute`). */
  readonly accountAttributes: ReadonlyMap<string, JsonObject>
  readonly teams: ReadonlyMap<string, JsonObject>
  /** One entry per (team, member): a user in two teams appears twice. */
  readonly teamMembers: readonly { readonly teamId: string; readonly member: JsonObject }[]
  readonly users: ReadonlyMap<string, JsonObject>
  readonly tags: ReadonlyMap<string, JsonObject>
  /** Custom-field definitions by `uid`. */
  readonly customFields: ReadonlyMap<string, JsonObject>
  /** Comments in ticket creation order, oldest first within a ticket. */
  readonly comments: readonly { readonly ticketId: string; readonly comment: JsonObject }[]
  /** Ids of soft-deleted records the lists leave out (`hidden`), so no load can see them. */
  readonly hiddenDeleted: {
    readonly tickets: readonly string[]
    readonly comments: readonly string[]
  }
}

/** What one mutation did. */
export interface MutationOutcome {
  /** Keys of the records created, changed or removed (`teamId/userId` for team members). */
  readonly ids: string[]
  /** Tickets whose `updatedAt` a comment change bumped. */
  readonly touchedTickets: string[]
  /** Records reached (equal to `ids.length`, except for `addField`, which lists no ids). */
  readonly count: number
}

const CLOSED = [3, 10, 11]
const OPEN = [0, 1, 2, 4, 5, 6, 7, 8, 9]
const spread = (n: number, count: number, from: number, to: number) =>
  from + Math.floor(((to - from) * n) / Math.max(1, count))

/** `count` distinct indices below `length`, evenly spread from a random offset. */
function spreadPick(length: number, count: number, rng: Rng): number[] {
  const k = Math.min(count, length)
  if (k <= 0) return []
  const step = length / k
  const offset = rng.next() * step
  return Array.from({ length: k }, (_, i) => Math.floor(offset + i * step))
}

/** A changed type: number → `"3 pts"`, string → a number, boolean → `yes`/`no`, object → JSON. */
function convertValue(value: unknown): unknown {
  if (value === null || value === undefined) return value
  if (typeof value === 'number') return `${value} pts`
  if (typeof value === 'string') {
    const digits = /-?\d+(\.\d+)?/.exec(value)
    return digits ? Number(digits[0]) : value.length
  }
  if (typeof value === 'boolean') return value ? 'yes' : 'no'
  return JSON.stringify(value)
}

export class PlatformDataset {
  readonly factory: RecordFactory
  /** The newest initial creation time (epoch ms). */
  readonly endMs: number
  readonly #o: ResolvedPlatformSimulatorOptions
  readonly #stamp: () => number
  #tickets: JsonObject[] = []
  readonly #ticketPos = new Map<string, number>()
  readonly #comments = new Map<string, JsonObject[]>()
  #accounts: JsonObject[] = []
  readonly #contacts: JsonObject[] = []
  readonly #contactsOfAccount = new Map<string, number[]>()
  readonly #teams: JsonObject[] = []
  readonly #members = new Map<string, JsonObject[]>()
  readonly #users: JsonObject[] = []
  readonly #userPos = new Map<string, number>()
  readonly #tags: JsonObject[] = []
  readonly #fields: JsonObject[] = []
  readonly #statuses: JsonObject[]
  readonly #attributes: JsonObject[]
  readonly #teamSeq = new Map<string, number>()
  readonly #drift = new Map<PlatformRoute, Drift[]>()
  readonly #next = { ticket: 0, comment: 0, account: 0, contact: 0, tag: 0, member: 0 }
  #mutations = 0
  readonly #ticketLists = new Map<string, JsonObject[]>()

  constructor(options: ResolvedPlatformSimulatorOptions, endMs: number, stamp: () => number) {
    this.#o = options
    this.endMs = endMs
    this.#stamp = stamp
    const f = (this.factory = new RecordFactory(options.seed, endMs, options.spanDays))
    this.#statuses = [...f.statuses]
    this.#attributes = [...f.attributes.values()].flat()
    const o = options
    const start = endMs - o.spanDays * DAY_MS
    const org = f.orgCreatedMs
    const cap = (r: JsonObject) =>
      Date.parse(r.updatedAt as string) > endMs ? { ...r, updatedAt: iso(endMs) } : r

    for (let n = 0; n < o.users; n++) {
      this.#userPos.set(this.factory.id('US', n), n)
      this.#users.push(cap(f.user(n, spread(n, o.users, org, (org + start) / 2))))
    }
    const perTeam = Math.min(o.membersPerTeam, o.users)
    const step = Math.max(1, Math.floor(perTeam / 2))
    for (let t = 0; t < o.teams; t++) {
      const chosen = Array.from(
        { length: perTeam },
        (_, j) => this.#users[(t * step + j) % o.users]!,
      )
      const owner = chosen[0]!
      const createdMs = org + t * DAY_MS
      const team = cap(f.team(t, createdMs, t % 4 === 3 ? this.#teams[t - 3]! : null, owner))
      this.#teams.push(team)
      this.#members.set(
        team.id as string,
        chosen.map((u, j) => f.member(team, u, owner, createdMs + j * DAY_MS, this.#next.member++)),
      )
    }
    for (let n = 0; n < o.tags; n++)
      this.#tags.push(cap(f.tag(this.#next.tag++, spread(n, o.tags, org, start))))
    for (let n = 0; n < o.customFields; n++) {
      const teamId = n % 5 === 4 ? (this.#teams[0]!.id as string) : null
      this.#fields.push(cap(f.customField(n, spread(n, o.customFields, org, start), teamId)))
    }
    for (let n = 0; n < o.accounts; n++) {
      const owner = this.#users[f.draw('account-owner').int(n, 0, 0, o.users - 1)]!
      const createdMs = spread(n, o.accounts, start - 90 * DAY_MS, start)
      this.#accounts.push(
        cap(f.account(this.#next.account++, createdMs, owner, this.#fieldsOf('account'))),
      )
    }
    for (let a = 0; a < o.accounts; a++) {
      for (let k = 0; k < o.contactsPerAccount; k++) {
        const n = this.#next.contact
        const linked = [this.#accounts[a]!]
        if (n % 7 === 3 && o.accounts > 1) linked.push(this.#accounts[(a + 1) % o.accounts]!)
        const createdMs = Date.parse(linked[0]!.createdAt as string) + k * 3_600_000
        this.#addContact(cap(f.contact(n, createdMs, linked, this.#fieldsOf('customer_contact'))))
      }
    }
    for (let n = 0; n < o.tickets; n++) this.#initialTicket(n, start)
  }

  // ---- reading ----

  /**
   * Tickets as listed: soft-deleted ones per `deletedTickets`, in `ticketOrder`, of a team (or
   * sub-team) and with `dateRangeField` at or after `sinceMs` when asked. Cached until the next
   * mutation: paging through 20,000 tickets must not filter them again for every page.
   */
  tickets(
    filter: { teamId?: string | undefined; sinceMs?: number | undefined } = {},
  ): JsonObject[] {
    const key = `${filter.teamId ?? ''}|${filter.sinceMs ?? ''}`
    let list = this.#ticketLists.get(key)
    if (list) return list
    const o = this.#o
    const field = o.dateRangeField
    list = this.#tickets.filter(
      (t) =>
        !(o.deletedTickets === 'hidden' && t.deletedAt != null) &&
        (filter.teamId === undefined ||
          t.teamId === filter.teamId ||
          t.subTeamId === filter.teamId) &&
        (filter.sinceMs === undefined || Date.parse(t[field] as string) >= filter.sinceMs),
    )
    if (o.ticketOrder === 'created_desc') list.reverse()
    else if (o.ticketOrder === 'updated_desc') {
      const pos = this.#ticketPos
      list.sort((a, b) =>
        a.updatedAt === b.updatedAt
          ? pos.get(b.id as string)! - pos.get(a.id as string)!
          : (a.updatedAt as string) < (b.updatedAt as string)
            ? 1
            : -1,
      )
    }
    if (this.#ticketLists.size > 64) this.#ticketLists.clear()
    this.#ticketLists.set(key, list)
    return list
  }

  /** Comments of a ticket as listed, oldest first; none for an unknown or hidden ticket. */
  commentsOf(ticketId: string): JsonObject[] {
    const pos = this.#ticketPos.get(ticketId)
    if (pos === undefined) return []
    if (this.#o.deletedTickets === 'hidden' && this.#tickets[pos]!.deletedAt != null) return []
    const list = this.#comments.get(ticketId)!
    return this.#o.deletedComments === 'hidden' ? list.filter((c) => c.deletedAt == null) : list
  }

  accounts(): readonly JsonObject[] {
    return this.#accounts
  }

  contacts(accountId?: string): readonly JsonObject[] {
    if (accountId === undefined) return this.#contacts
    return this.#contacts.filter((c) =>
      (c.accounts as JsonObject[] | undefined)?.some((a) => a.id === accountId),
    )
  }

  attributes(kind: AttributeKind): JsonObject[] {
    return this.#attributes.filter((a) => a.attribute === kind)
  }

  statuses(): readonly JsonObject[] {
    return this.#statuses
  }

  teams(): readonly JsonObject[] {
    return this.#teams
  }

  /** Members of a team, or undefined for an unknown team. */
  members(teamId: string): readonly JsonObject[] | undefined {
    return this.#members.get(teamId)
  }

  users(): readonly JsonObject[] {
    return this.#users
  }

  tags(): readonly JsonObject[] {
    return this.#tags
  }

  customFields(): readonly JsonObject[] {
    return this.#fields
  }

  truth(): PlatformTruth {
    const byKey = (records: readonly JsonObject[], key = 'id') =>
      new Map(records.map((r) => [r[key] as string, r]))
    const hideTickets = this.#o.deletedTickets === 'hidden'
    const hideComments = this.#o.deletedComments === 'hidden'
    const hidden = { tickets: [] as string[], comments: [] as string[] }
    const tickets = new Map<string, JsonObject>()
    const comments: { ticketId: string; comment: JsonObject }[] = []
    for (const t of this.#tickets) {
      const ticketId = t.id as string
      const gone = hideTickets && t.deletedAt != null
      if (gone) hidden.tickets.push(ticketId)
      else tickets.set(ticketId, t)
      for (const c of this.#comments.get(ticketId)!) {
        if (gone || (hideComments && c.deletedAt != null)) hidden.comments.push(c.id as string)
        else comments.push({ ticketId, comment: c })
      }
    }
    return {
      tickets,
      ticketStatuses: byKey(this.#statuses),
      accounts: byKey(this.#accounts),
      contacts: byKey(this.#contacts),
      accountAttributes: byKey(this.#attributes),
      teams: byKey(this.#teams),
      teamMembers: [...this.#members].flatMap(([teamId, list]) =>
        list.map((member) => ({ teamId, member })),
      ),
      users: byKey(this.#users),
      tags: byKey(this.#tags),
      customFields: byKey(this.#fields, 'uid'),
      comments,
      hiddenDeleted: hidden,
    }
  }

  // ---- mutations ----

  newTickets(count: number): MutationOutcome {
    const ids: string[] = []
    for (let i = 0; i < count; i++) {
      const ms = this.#stamp()
      const n = this.#next.ticket
      const plan = this.factory.draw('ticket-plan')
      const status = this.#statuses[plan.pick(n, 3, [0, 4])]!
      ids.push(this.#addTicket(this.#finish('tickets', this.#buildTicket(n, ms, ms, status))))
    }
    return this.#changed(ids)
  }

  updateTickets(count: number): MutationOutcome {
    const rng = this.#rng()
    const live = this.#livePositions()
    const ids = spreadPick(live.length, count, rng).map((i) => {
      const pos = live[i]!
      const t = this.#tickets[pos]!
      const status = rng.pick(this.#statuses.filter((x) => x.id !== t.statusId))
      const priority = rng.pick(this.factory.priorities.filter((x) => x.id !== t.priorityId))
      let title: string = rng.pick(TICKET_TITLES)
      if (title === t.title) title = `${title} (follow-up)`
      this.#tickets[pos] = {
        ...t,
        title,
        status: status.name,
        statusId: status.id,
        priority: priority.name,
        priorityId: priority.id,
        updatedAt: iso(this.#stamp()),
      }
      return t.id as string
    })
    return this.#changed(ids)
  }

  deleteTickets(count: number): MutationOutcome {
    const live = this.#livePositions()
    const ids = spreadPick(live.length, count, this.#rng()).map((i) => {
      const t = this.#tickets[live[i]!]!
      const at = iso(this.#stamp())
      this.#tickets[live[i]!] = { ...t, deletedAt: at, updatedAt: at }
      return t.id as string
    })
    return this.#changed(ids)
  }

  newComments(count: number): MutationOutcome {
    const rng = this.#rng()
    const live = this.#livePositions()
    const picked = spreadPick(live.length, count, rng)
    const ids: string[] = []
    const touched: string[] = []
    for (let i = 0; picked.length > 0 && i < count; i++) {
      const pos = live[picked[i % picked.length]!]!
      const ticket = this.#tickets[pos]!
      const list = this.#comments.get(ticket.id as string)!
      const ms = this.#stamp()
      const author = this.#author(ticket, list.length)
      const n = this.#next.comment++
      const parent = list.length > 0 && rng.chance(0.3) ? (list.at(-1)!.id as string) : null
      const comment = this.#finish('comments', this.factory.comment(n, ms, ticket, author, parent))
      list.push(comment)
      ids.push(comment.id as string)
      this.#touch(pos, ms, touched)
    }
    return this.#changed(ids, touched)
  }

  updateComments(count: number): MutationOutcome {
    return this.#changeComments(count, (c, ms, edit) => ({
      ...c,
      ...this.factory.commentContent(hash32(String(c.id)), edit, true),
      updatedAt: iso(ms),
    }))
  }

  deleteComments(count: number): MutationOutcome {
    return this.#changeComments(count, (c, ms) => ({
      ...c,
      deletedAt: iso(ms),
      updatedAt: iso(ms),
    }))
  }

  newAccounts(count: number): MutationOutcome {
    const ids: string[] = []
    for (let i = 0; i < count; i++) {
      const n = this.#next.account++
      const ms = this.#stamp()
      const owner =
        this.#users[this.factory.draw('account-owner').int(n, 0, 0, this.#users.length - 1)]!
      const a = this.factory.account(n, ms, owner, this.#fieldsOf('account'))
      this.#accounts.push(this.#finish('accounts', { ...a, updatedAt: a.createdAt }))
      ids.push(a.id as string)
    }
    return this.#changed(ids)
  }

  updateAccounts(count: number): MutationOutcome {
    const rng = this.#rng()
    const ids = spreadPick(this.#accounts.length, count, rng).map((i) => {
      const a = this.#accounts[i]!
      const pickOther = (kind: AttributeKind, current: unknown) =>
        rng.pick(this.attributes(kind).filter((x) => x.id !== current))
      const status = pickOther('account_status', a.statusId)
      const classification = pickOther('account_classification', a.classificationId)
      this.#accounts[i] = {
        ...a,
        statusId: status.id,
        status: status.value,
        classificationId: classification.id,
        classification: classification.value,
        updatedAt: iso(this.#stamp()),
      }
      return a.id as string
    })
    return this.#changed(ids)
  }

  removeAccounts(count: number): MutationOutcome {
    const gone = new Set(spreadPick(this.#accounts.length, count, this.#rng()))
    const ids = this.#accounts.filter((_, i) => gone.has(i)).map((a) => a.id as string)
    this.#accounts = this.#accounts.filter((_, i) => !gone.has(i))
    return this.#changed(ids)
  }

  newContacts(count: number): MutationOutcome {
    const rng = this.#rng()
    const picked = spreadPick(this.#accounts.length, count, rng)
    const ids: string[] = []
    for (let i = 0; picked.length > 0 && i < count; i++) {
      const account = this.#accounts[picked[i % picked.length]!]!
      const ms = this.#stamp()
      const c = this.factory.contact(
        this.#next.contact,
        ms,
        [account],
        this.#fieldsOf('customer_contact'),
      )
      this.#addContact(this.#finish('contacts', { ...c, updatedAt: c.createdAt }))
      ids.push(c.id as string)
    }
    return this.#changed(ids)
  }

  addTeamMembers(count: number): MutationOutcome {
    const rng = this.#rng()
    const ids: string[] = []
    let t = rng.int(0, this.#teams.length - 1)
    for (let idle = 0; ids.length < count && idle < this.#teams.length; t++) {
      const team = this.#teams[t % this.#teams.length]!
      const list = this.#members.get(team.id as string)!
      const inTeam = new Set(list.map((m) => m.id))
      const candidates = this.#users.filter((u) => !inTeam.has(u.id))
      if (candidates.length === 0) {
        idle++
        continue
      }
      idle = 0
      const user = rng.pick(candidates)
      const owner = this.#users[this.#userPos.get(team.teamOwnerId as string)!]!
      const member = this.factory.member(team, user, owner, this.#stamp(), this.#next.member++)
      list.push(this.#finish('team-members', member))
      ids.push(`${team.id as string}/${user.id as string}`)
    }
    return this.#changed(ids)
  }

  removeTeamMembers(count: number): MutationOutcome {
    const rng = this.#rng()
    const ids: string[] = []
    let t = rng.int(0, this.#teams.length - 1)
    for (let idle = 0; ids.length < count && idle < this.#teams.length; t++) {
      const team = this.#teams[t % this.#teams.length]!
      const list = this.#members.get(team.id as string)!
      const removable = list.flatMap((m, i) => (m.isOwner ? [] : [i]))
      if (removable.length === 0) {
        idle++
        continue
      }
      idle = 0
      const [member] = list.splice(rng.pick(removable), 1)
      ids.push(`${team.id as string}/${member!.id as string}`)
    }
    return this.#changed(ids)
  }

  newTags(count: number): MutationOutcome {
    const ids: string[] = []
    for (let i = 0; i < count; i++) {
      const tag = this.factory.tag(this.#next.tag++, this.#stamp())
      this.#tags.push(this.#finish('tags', { ...tag, updatedAt: tag.createdAt }))
      ids.push(tag.id as string)
    }
    return this.#changed(ids)
  }

  /** Every record of `resource`, existing and future, gets `field` (no `updatedAt` bump). */
  addField(resource: PlatformRoute, field: string, value: FieldValueType): MutationOutcome {
    const drift: Drift = { kind: 'add', field, value }
    this.#driftOf(resource).push(drift)
    const count = this.#replaceAll(resource, (r, key) => this.#applyDrift(r, drift, key))
    return { ...this.#changed([]), count }
  }

  /** `field` changes type on every record that has a value, which bumps its `updatedAt`. */
  changeFieldType(resource: PlatformRoute, field: string): MutationOutcome {
    const drift: Drift = { kind: 'convert', field }
    this.#driftOf(resource).push(drift)
    const ids: string[] = []
    this.#replaceAll(resource, (r, key) => {
      if (r[field] === null || r[field] === undefined) return r
      ids.push(key)
      const next = this.#applyDrift(r, drift, key)
      return 'updatedAt' in next ? { ...next, updatedAt: iso(this.#stamp()) } : next
    })
    return this.#changed(ids)
  }

  // ---- internals ----

  #initialTicket(n: number, start: number): void {
    const o = this.#o
    const plan = this.factory.draw('ticket-plan')
    const span = this.endMs - start
    const createdMs = start + Math.floor((span * (n + plan.unit(n, 0))) / o.tickets)
    const life = Math.floor(plan.unit(n, 1) ** 2 * 14 * DAY_MS) + 600_000
    const latest = this.endMs - plan.int(n, 2, 0, 3_600_000)
    const updatedMs = Math.max(createdMs, Math.min(createdMs + life, latest))
    const age = this.endMs - createdMs
    const closed = plan.chance(n, 4, age > 30 * DAY_MS ? 0.8 : 0.2)
    const status = this.#statuses[plan.pick(n, 5, closed ? CLOSED : OPEN)]!
    let ticket = this.#buildTicket(n, createdMs, updatedMs, status)
    const id = this.#addTicket(ticket)
    const list = this.#comments.get(id)!
    const C = o.commentsPerTicket
    for (let k = 0; k < C; k++) {
      const cn = this.#next.comment++
      const d = this.factory.draw('comment-plan')
      const ms = createdMs + Math.floor(((updatedMs - createdMs) * (k + 1)) / (C + 1))
      const parent = k > 0 && d.chance(cn, 0, 0.2) ? (list[k - 1]!.id as string) : null
      let c = this.factory.comment(cn, ms, ticket, this.#author(ticket, k), parent)
      if (d.chance(cn, 1, 0.1)) {
        const edited = iso(ms + Math.floor((updatedMs - ms) * d.unit(cn, 2)))
        c = { ...c, ...this.factory.commentContent(cn, 1, true), updatedAt: edited }
      }
      if (d.chance(cn, 3, 0.03)) c = { ...c, deletedAt: c.updatedAt }
      list.push(c)
    }
    if (plan.chance(n, 6, 0.02)) ticket = { ...ticket, deletedAt: ticket.updatedAt }
    else if (closed && age > 90 * DAY_MS && plan.chance(n, 7, 0.3))
      ticket = { ...ticket, archivedAt: ticket.updatedAt }
    this.#tickets[this.#ticketPos.get(id)!] = ticket
  }

  #buildTicket(n: number, createdMs: number, updatedMs: number, status: JsonObject): JsonObject {
    const plan = this.factory.draw('ticket-links')
    const tops = this.#teams.filter((t) => t.parentTeamId === null)
    const team = plan.pick(n, 0, tops)
    const children = this.#teams.filter((t) => t.parentTeamId === team.id)
    const subTeam = children.length > 0 && plan.chance(n, 1, 0.4) ? plan.pick(n, 2, children) : null
    const account = this.#accounts.length > 0 ? plan.pick(n, 3, this.#accounts) : undefined
    const contactPositions = account ? this.#contactsOfAccount.get(account.id as string) : undefined
    const contact = contactPositions?.length
      ? this.#contacts[plan.pick(n, 4, contactPositions)]
      : undefined
    const pool = this.#members.get((subTeam ?? team).id as string)!
    const assigneeId = pool.length > 0 && plan.chance(n, 5, 0.85) ? plan.pick(n, 6, pool).id : null
    const assignee = assigneeId ? this.#users[this.#userPos.get(assigneeId as string)!]! : null
    const number = (this.#teamSeq.get(team.id as string) ?? 0) + 1
    this.#teamSeq.set(team.id as string, number)
    const links: TicketLinks = { team, subTeam, account, contact, assignee, number }
    return this.factory.ticket(n, createdMs, updatedMs, status, links, this.#fieldsOf('ticket'))
  }

  #addTicket(ticket: JsonObject): string {
    const id = ticket.id as string
    this.#next.ticket++
    this.#ticketPos.set(id, this.#tickets.length)
    this.#tickets.push(ticket)
    this.#comments.set(id, [])
    return id
  }

  #addContact(contact: JsonObject): void {
    this.#next.contact++
    for (const a of contact.accounts as JsonObject[]) {
      const list = this.#contactsOfAccount.get(a.id as string)
      if (list) list.push(this.#contacts.length)
      else this.#contactsOfAccount.set(a.id as string, [this.#contacts.length])
    }
    this.#contacts.push(contact)
  }

  /** The customer writes the even comments (when there is one), an agent the others. */
  #author(ticket: JsonObject, k: number): CommentAuthor {
    const contactId = ticket.customerContactId as string | null
    if (k % 2 === 0 && contactId) {
      const positions = this.#contactsOfAccount.get(ticket.accountId as string) ?? []
      const contact = positions.map((p) => this.#contacts[p]!).find((c) => c.id === contactId)
      if (contact) return { kind: 'customer', contact }
    }
    const userId = (ticket.assignedAgentId ?? ticket.teamTeamOwnerId) as string
    return { kind: 'agent', user: this.#users[this.#userPos.get(userId)!]! }
  }

  #fieldsOf(source: string): JsonObject[] {
    return this.#fields.filter((f) => f.source === source)
  }

  /** Positions of tickets not soft-deleted, in creation order. */
  #livePositions(): number[] {
    const out: number[] = []
    this.#tickets.forEach((t, i) => {
      if (t.deletedAt == null) out.push(i)
    })
    return out
  }

  #touch(pos: number, ms: number, touched: string[]): void {
    if (!this.#o.commentsTouchTicket) return
    const t = this.#tickets[pos]!
    this.#tickets[pos] = { ...t, updatedAt: iso(ms) }
    if (touched.at(-1) !== t.id) touched.push(t.id as string)
  }

  #changeComments(
    count: number,
    change: (c: JsonObject, ms: number, edit: number) => JsonObject,
  ): MutationOutcome {
    const rng = this.#rng()
    const live: [number, number][] = []
    this.#tickets.forEach((t, pos) => {
      if (t.deletedAt != null) return
      this.#comments.get(t.id as string)!.forEach((c, k) => {
        if (c.deletedAt == null) live.push([pos, k])
      })
    })
    const edit = this.#mutations + 1
    const ids: string[] = []
    const touched: string[] = []
    for (const i of spreadPick(live.length, count, rng)) {
      const [pos, k] = live[i]!
      const list = this.#comments.get(this.#tickets[pos]!.id as string)!
      const ms = this.#stamp()
      list[k] = change(list[k]!, ms, edit)
      ids.push(list[k]!.id as string)
      this.#touch(pos, ms, touched)
    }
    return this.#changed(ids, touched)
  }

  #rng(): Rng {
    return new Rng(hash32(this.#o.seed, 'mutation', this.#mutations++))
  }

  #changed(ids: string[], touchedTickets: string[] = []): MutationOutcome {
    this.#ticketLists.clear()
    return { ids, touchedTickets, count: ids.length }
  }

  #driftOf(resource: PlatformRoute): Drift[] {
    let list = this.#drift.get(resource)
    if (!list) this.#drift.set(resource, (list = []))
    return list
  }

  /** A new record of `resource`, with every earlier schema change of it replayed. */
  #finish(resource: PlatformRoute, record: JsonObject): JsonObject {
    const key =
      resource === 'team-members'
        ? `${String(record.teamId)}/${String(record.id)}`
        : String(record.id ?? record.uid)
    let r = record
    for (const drift of this.#drift.get(resource) ?? []) r = this.#applyDrift(r, drift, key)
    return r
  }

  #applyDrift(record: JsonObject, drift: Drift, key: string): JsonObject {
    if (drift.kind === 'convert') {
      const value = record[drift.field]
      return value === null || value === undefined
        ? record
        : { ...record, [drift.field]: convertValue(value) }
    }
    const h = hash32(this.#o.seed, 'drift', drift.field, key)
    const value =
      drift.value === 'string'
        ? `${drift.field}-${h.toString(36)}`
        : drift.value === 'number'
          ? h % 1000
          : drift.value === 'boolean'
            ? h % 2 === 0
            : { kind: 'sim', score: h % 100, labels: [`label-${h % 7}`] }
    return { ...record, [drift.field]: value }
  }

  /** Replaces every record of a resource by `change(record, key)`; returns how many. */
  #replaceAll(resource: PlatformRoute, change: (r: JsonObject, key: string) => JsonObject): number {
    const each = (list: JsonObject[], key = (r: JsonObject) => String(r.id ?? r.uid)) => {
      for (let i = 0; i < list.length; i++) list[i] = change(list[i]!, key(list[i]!))
      return list.length
    }
    switch (resource) {
      case 'tickets':
        return each(this.#tickets)
      case 'comments':
        return [...this.#comments.values()].reduce((sum, list) => sum + each(list), 0)
      case 'team-members':
        return [...this.#members].reduce(
          (sum, [teamId, list]) => sum + each(list, (r) => `${teamId}/${String(r.id)}`),
          0,
        )
      case 'accounts':
        return each(this.#accounts)
      case 'contacts':
        return each(this.#contacts)
      case 'ticket-statuses':
        return each(this.#statuses)
      case 'account-attributes':
        return each(this.#attributes)
      case 'teams':
        return each(this.#teams)
      case 'users':
        return each(this.#users)
      case 'tags':
        return each(this.#tags)
      case 'custom-fields':
        return each(this.#fields)
    }
  }
}
