/**
 * Builders of the Platform simulator's records. Each takes the record's number and its times
 * and draws everything else from (seed, kind, n), so the same seed builds the same bytes.
 */
import type { JsonObject } from '../../../src/stand-in/json-path.js'
import {
  ATTRIBUTE_KINDS,
  ATTRIBUTE_VALUES,
  CHOICES,
  COLORS,
  COMMENT_LINES,
  COMPANY_SUFFIXES,
  COMPANY_WORDS,
  DAY_MS,
  Draw,
  FIELD_TYPES,
  FIRST_NAMES,
  LAST_NAMES,
  PRIORITIES,
  SENTIMENTS,
  SOURCES,
  STATUSES,
  TAG_WORDS,
  TEAM_NAMES,
  TICKET_TITLES,
  TICKET_TYPES,
  TIMEZONES,
  iso,
  platformId,
  slugOf,
} from './platform-pools.js'
import type { AttributeKind } from './platform-pools.js'

/** A named reference value a ticket points at (priority, type, sentiment). */
export interface Ref {
  readonly id: string
  readonly name: string
}

/** What a ticket points at, chosen by the data set. */
export interface TicketLinks {
  readonly team: JsonObject
  readonly subTeam: JsonObject | null
  readonly account: JsonObject | undefined
  readonly contact: JsonObject | undefined
  readonly assignee: JsonObject | null
  /** The ticket's number within its team (`ticketId`, the number in `ticketIdentifier`). */
  readonly number: number
}

/** Who wrote a comment. */
export type CommentAuthor =
  | { readonly kind: 'agent'; readonly user: JsonObject }
  | { readonly kind: 'customer'; readonly contact: JsonObject }

interface CommentText {
  readonly content: string
  readonly contentHtml: string
  readonly contentJson: string
  readonly contentMarkdown: string
}

/**
 * Shared by the many comments without mentions, reactions or attachments, to keep 100,000
 * comments small. Frozen, since records are replaced and never changed in place.
 */
const EMPTY: readonly never[] = Object.freeze([])
const EMPTY_METADATA = Object.freeze({ mentions: EMPTY, userReactions: EMPTY })

const CUSTOM_FIELD_SOURCES = ['ticket', 'ticket', 'account', 'customer_contact'] as const

/** The records' shared vocabulary and the builders; one per simulator. */
export class RecordFactory {
  readonly seed: number
  readonly orgId: string
  /** Creation time of the organisation: the reference data is this old. */
  readonly orgCreatedMs: number
  readonly statuses: JsonObject[]
  readonly priorities: Ref[]
  readonly types: Ref[]
  readonly sentiments: Ref[]
  /** Attribute values per kind; ids are unique across kinds. */
  readonly attributes: ReadonlyMap<AttributeKind, JsonObject[]>
  readonly #draws = new Map<string, Draw>()
  readonly #texts = new Map<string, CommentText>()

  constructor(seed: number, endMs: number, spanDays: number) {
    this.seed = seed
    this.orgId = platformId(seed, 'OR', 0)
    this.orgCreatedMs = endMs - (spanDays + 365) * DAY_MS
    const at = iso(this.orgCreatedMs)
    this.statuses = STATUSES.map(([name, parent], n) => ({
      id: this.id('ST', n),
      name,
      displayName: name,
      description: parent < 0 ? `Default ${name.toLowerCase()} status` : `${name} (custom)`,
      isDefault: parent < 0,
      teamId: null,
      organizationId: this.orgId,
      parentStatusId: parent < 0 ? null : this.id('ST', parent),
      createdAt: at,
      updatedAt: at,
    }))
    const refs = (prefix: string, names: readonly string[]) =>
      names.map((name, n) => ({ id: this.id(prefix, n), name }))
    this.priorities = refs('PR', PRIORITIES)
    this.types = refs('TY', TICKET_TYPES)
    this.sentiments = refs('SN', SENTIMENTS)
    let attributeNo = 0
    this.attributes = new Map(
      ATTRIBUTE_KINDS.map((kind) => [
        kind,
        ATTRIBUTE_VALUES[kind].map((value, i) => ({
          id: this.id('AT', attributeNo++),
          attribute: kind,
          value,
          isDefault: i === 0,
          configuration: { color: COLORS[i % COLORS.length], order: i },
          createdAt: at,
          updatedAt: at,
        })),
      ]),
    )
  }

  id(prefix: string, n: number): string {
    return platformId(this.seed, prefix, n)
  }

  draw(kind: string): Draw {
    let d = this.#draws.get(kind)
    if (!d) this.#draws.set(kind, (d = new Draw(this.seed, kind)))
    return d
  }

  /** A value of an attribute kind, drawn for record `n`. */
  attribute(kind: AttributeKind, n: number, salt: number): JsonObject {
    return this.draw(`attr-${kind}`).pick(n, salt, this.attributes.get(kind)!)
  }

  user(n: number, createdMs: number): JsonObject {
    const d = this.draw('user')
    const first = FIRST_NAMES[n % FIRST_NAMES.length]!
    const last = d.pick(n, 1, LAST_NAMES)
    const active = n === 0 || !d.chance(n, 2, 0.1)
    const updatedMs = createdMs + d.int(n, 3, 0, 90) * DAY_MS
    return {
      id: this.id('US', n),
      name: `${first} ${last}`,
      email: `${slugOf(first)}.${slugOf(last)}${n}@sim-org.example`,
      userType: n % 8 === 0 ? 'ORG_ADMIN' : 'USER',
      status: active ? 'ACTIVE' : 'INACTIVE',
      isActive: active,
      lastLoginAt: active ? iso(updatedMs + d.int(n, 4, 0, DAY_MS)) : null,
      avatarUrl: d.chance(n, 5, 0.6) ? `https://avatars.sim.example/u/${n}.png` : null,
      timezone: d.pick(n, 6, TIMEZONES),
      createdAt: iso(createdMs),
      updatedAt: iso(updatedMs),
    }
  }

  /** Team `n`; `parent` is the team a sub-team belongs to, `owner` its first member. */
  team(n: number, createdMs: number, parent: JsonObject | null, owner: JsonObject): JsonObject {
    const d = this.draw('team')
    const [name, identifier, icon] =
      n < TEAM_NAMES.length ? TEAM_NAMES[n]! : [`Team ${n}`, `T${n}`, '👥']
    return {
      id: this.id('TM', n),
      name,
      icon,
      color: COLORS[n % COLORS.length],
      parentTeamId: parent?.id ?? null,
      parentTeamName: parent?.name ?? null,
      teamId: this.id('TM', n),
      identifier,
      description: `${name} team`,
      teamOwner: owner.name,
      teamOwnerId: owner.id,
      fallbackSubTeam: null,
      createdAt: iso(createdMs),
      isActive: true,
      isPrivate: n % 5 === 4,
      archivedAt: null,
      updatedAt: iso(createdMs + d.int(n, 1, 0, 30) * DAY_MS),
    }
  }

  member(
    team: JsonObject,
    user: JsonObject,
    owner: JsonObject,
    joinedMs: number,
    n: number,
  ): JsonObject {
    const isOwner = user.id === owner.id
    return {
      id: user.id,
      name: user.name,
      email: user.email,
      teamId: team.id,
      teamName: team.name,
      isActive: user.isActive,
      role: isOwner ? 'admin' : 'member',
      userType: user.userType,
      isOwner,
      avatarUrl: user.avatarUrl,
      joinedAt: iso(joinedMs),
      createdAt: iso(joinedMs),
      metadata: this.draw('member').chance(n, 1, 0.3) ? { source: 'invite', skills: ['api'] } : {},
      invitedBy: isOwner ? null : owner.id,
    }
  }

  tag(n: number, createdMs: number): JsonObject {
    const d = this.draw('tag')
    const word = TAG_WORDS[n % TAG_WORDS.length]!
    const name = n < TAG_WORDS.length ? word : `${word}-${n}`
    return {
      id: this.id('TG', n),
      name,
      description: d.chance(n, 1, 0.3) ? null : `Tickets about ${word.replace('-', ' ')}`,
      color: d.pick(n, 2, COLORS),
      tagType: d.chance(n, 3, 0.25) ? 'skills' : 'ticket',
      createdAt: iso(createdMs),
      updatedAt: iso(createdMs + d.int(n, 4, 0, 10) * DAY_MS),
    }
  }

  customField(n: number, createdMs: number, teamId: string | null): JsonObject {
    const d = this.draw('field')
    const fieldType = FIELD_TYPES[n % FIELD_TYPES.length]!
    const source = CUSTOM_FIELD_SOURCES[n % CUSTOM_FIELD_SOURCES.length]!
    const name = `${source === 'ticket' ? 'Ticket' : source === 'account' ? 'Account' : 'Contact'} ${fieldType.replace('_', ' ')} ${n}`
    const choice = /choice|radio/.test(fieldType)
    return {
      name,
      uid: this.id('CF', n),
      slug: slugOf(name),
      organizationId: this.orgId,
      source,
      fieldType,
      options: choice
        ? CHOICES.slice(0, 3 + (n % 3)).map((value, order) => ({
            id: this.id('CO', n * 8 + order),
            value,
            order,
            isDisabled: false,
          }))
        : [],
      metadata: d.chance(n, 1, 0.5) ? { createdFrom: 'settings' } : {},
      createdAt: iso(createdMs),
      updatedAt: iso(createdMs + d.int(n, 2, 0, 20) * DAY_MS),
      isActive: !d.chance(n, 3, 0.1),
      teamId,
      autoAddToAllForms: d.chance(n, 4, 0.5),
      hintText: d.chance(n, 5, 0.5) ? `What is the ${fieldType.replace('_', ' ')}?` : null,
      placeholderText: d.chance(n, 6, 0.5) ? 'Type here…' : null,
      mandatoryOnCreation: d.chance(n, 7, 0.2),
      mandatoryOnClose: d.chance(n, 8, 0.2),
      visibleToCustomer: d.chance(n, 9, 0.5),
      editableByCustomer: d.chance(n, 10, 0.3),
      defaultValue: fieldType === 'checkbox' ? 'false' : null,
    }
  }

  /** `customFieldValues` of record `n` of a kind: values for some of the fields given. */
  fieldValues(kind: string, n: number, fields: readonly JsonObject[]): JsonObject[] {
    const d = this.draw(`values-${kind}`)
    const out: JsonObject[] = []
    fields.forEach((field, i) => {
      if (!d.chance(n, i * 2, 0.7)) return
      const h = Math.floor(d.unit(n, i * 2 + 1) * 1e6)
      const options = (field.options as JsonObject[]).map((o) => o.value)
      const one = (value: unknown) => [{ value }]
      const data = ((): JsonObject[] => {
        switch (field.fieldType) {
          case 'integer':
            return one(String(h % 1000))
          case 'decimal':
          case 'currency':
            return one(((h % 100000) / 100).toFixed(2))
          case 'checkbox':
            return one(String(h % 2 === 0))
          case 'date':
            return one(iso(this.orgCreatedMs + (h % 700) * DAY_MS).slice(0, 10))
          case 'date_time':
            return one(iso(this.orgCreatedMs + h * 60_000))
          case 'email':
            return one(`contact${h % 97}@example.com`)
          case 'phone_number':
            return one(`+1 555 01${String(h % 100).padStart(2, '0')}`)
          case 'single_choice':
          case 'radio_button':
            return one(options[h % options.length])
          case 'multi_choice':
            return options
              .filter((_, k) => (h >> k) % 2 === 1 || k === h % options.length)
              .map((value) => ({ value }))
          case 'rich_text':
            return one(`<p>Note <strong>${h % 50}</strong></p>`)
          case 'multi_line':
            return one(`Line one\nLine two (${h % 10})`)
          default:
            return one(`Value ${h % 500}`)
        }
      })()
      out.push({ customFieldId: field.uid, data })
    })
    return out
  }

  account(n: number, createdMs: number, owner: JsonObject, fields: JsonObject[]): JsonObject {
    const d = this.draw('account')
    const word = COMPANY_WORDS[n % COMPANY_WORDS.length]!
    const suffix = d.pick(n, 1, COMPANY_SUFFIXES)
    const name = n < COMPANY_WORDS.length ? `${word} ${suffix}` : `${word} ${suffix} ${n}`
    const status = this.attribute('account_status', n, 2)
    const classification = this.attribute('account_classification', n, 3)
    return {
      id: this.id('AC', n),
      name,
      statusId: status.id,
      status: status.value,
      classificationId: classification.id,
      classification: classification.value,
      primaryDomain: `${slugOf(word)}-${n}.example.com`,
      accountOwner: owner.name,
      accountOwnerId: owner.id,
      accountOwnerEmail: owner.email,
      customFieldValues: this.fieldValues('account', n, fields),
      createdAt: iso(createdMs),
      updatedAt: iso(createdMs + d.int(n, 4, 0, 60) * DAY_MS),
    }
  }

  contact(n: number, createdMs: number, accounts: JsonObject[], fields: JsonObject[]): JsonObject {
    const d = this.draw('contact')
    const first = d.pick(n, 1, FIRST_NAMES)
    const last = d.pick(n, 2, LAST_NAMES)
    const type = this.attribute('contact_type', n, 3)
    const domain = (accounts[0]?.primaryDomain as string | undefined) ?? 'example.com'
    return {
      id: this.id('CT', n),
      firstName: first,
      lastName: last,
      email: `${slugOf(first)}.${slugOf(last)}.${n}@${domain}`,
      phoneNumber: d.chance(n, 4, 0.3) ? null : `+44 20 7946 ${String(n % 10000).padStart(4, '0')}`,
      avatarUrl: d.chance(n, 5, 0.5) ? null : `https://avatars.sim.example/c/${n}.png`,
      accounts: accounts.map((a) => ({ id: a.id, name: a.name })),
      contactTypeId: type.id,
      contactType: type.value,
      customFieldValues: this.fieldValues('contact', n, fields),
      metadata: d.chance(n, 6, 0.5) ? { source: d.pick(n, 7, SOURCES) } : {},
      createdAt: iso(createdMs),
      updatedAt: iso(createdMs + d.int(n, 8, 0, 30) * DAY_MS),
    }
  }

  ticket(
    n: number,
    createdMs: number,
    updatedMs: number,
    status: JsonObject,
    links: TicketLinks,
    fields: readonly JsonObject[],
  ): JsonObject {
    const d = this.draw('ticket')
    const { team, subTeam, account, contact, assignee } = links
    const title = this.ticketTitle(n, 0)
    const source = d.pick(n, 1, SOURCES)
    const priority = d.pick(n, 2, this.priorities)
    const type = d.pick(n, 3, this.types)
    const sentiment = d.chance(n, 4, 0.3) ? null : d.pick(n, 5, this.sentiments)
    return {
      id: this.id('TK', n),
      ticketIdentifier: `${String(team.identifier)}-${links.number}`,
      title,
      ticketId: links.number,
      description: `${title}.\n\nReported via ${source}: ${this.commentText(n, 6)}`,
      source,
      accountId: account?.id ?? null,
      account: account?.name ?? null,
      status: status.name,
      statusId: status.id,
      priority: priority.name,
      priorityId: priority.id,
      storyPoints: d.chance(n, 7, 0.4) ? null : d.pick(n, 8, [1, 2, 3, 5, 8, 13]),
      teamId: team.id,
      teamName: team.name,
      teamIdentifier: team.identifier,
      subTeamId: subTeam?.id ?? null,
      subTeamName: subTeam?.name ?? null,
      subTeamIdentifier: subTeam?.identifier ?? null,
      isPrivate: d.chance(n, 9, 0.1),
      typeId: type.id,
      type: type.name,
      assignedAgent: assignee?.name ?? null,
      assignedAgentId: assignee?.id ?? null,
      assignedAgentEmail: assignee?.email ?? null,
      assignedAgentAvatar: assignee?.avatarUrl ?? null,
      requestorEmail: contact?.email ?? null,
      customerContactId: contact?.id ?? null,
      customerContactFirstName: contact?.firstName ?? null,
      customerContactLastName: contact?.lastName ?? null,
      customerContactEmail: contact?.email ?? null,
      submitterEmail: (source === 'manual' ? assignee?.email : contact?.email) ?? null,
      customFieldValues: this.fieldValues('ticket', n, fields),
      deletedAt: null,
      archivedAt: null,
      createdAt: iso(createdMs),
      updatedAt: iso(updatedMs),
      formId: d.chance(n, 10, 0.5) ? this.id('FM', n % 3) : null,
      aiGeneratedTitle: d.chance(n, 11, 0.3) ? null : `${title} (summarised)`,
      aiGeneratedSummary: d.chance(n, 12, 0.3)
        ? null
        : `The customer reports: ${title.toLowerCase()}. ${this.commentText(n, 13)}`,
      sentiment: sentiment?.name ?? null,
      sentimentId: sentiment?.id ?? null,
      teamIcon: team.icon,
      teamColor: team.color,
      teamOrganizationId: this.orgId,
      teamParentTeamId: team.parentTeamId,
      teamDescription: team.description,
      teamConfigurationId: `TC${String(team.id).slice(2)}`,
      teamTeamOwnerId: team.teamOwnerId,
      teamIsActive: team.isActive,
      teamIsPrivate: team.isPrivate,
      teamCreatedAt: team.createdAt,
      teamUpdatedAt: team.updatedAt,
      teamDeletedAt: null,
      teamArchivedAt: team.archivedAt,
    }
  }

  /** Comment `n` on `ticket`, by an agent (a user) or by the customer (a contact). */
  comment(
    n: number,
    createdMs: number,
    ticket: JsonObject,
    author: CommentAuthor,
    parentId: string | null,
  ): JsonObject {
    const d = this.draw('comment')
    const id = this.id('CM', n)
    const agent = author.kind === 'agent' ? author.user : null
    const customer = author.kind === 'customer' ? author.contact : null
    const internal = agent !== null && d.chance(n, 1, 0.25)
    const mention = agent !== null && d.chance(n, 2, 0.15)
    const reaction = d.chance(n, 3, 0.1)
    const text = this.#text(this.commentText(n, 0))
    const at = iso(createdMs)
    return {
      id,
      content: text.content,
      contentHtml: text.contentHtml,
      contentJson: text.contentJson,
      contentMarkdown: text.contentMarkdown,
      isEdited: false,
      threadName: d.chance(n, 4, 0.8) ? null : `Thread ${ticket.ticketIdentifier as string}`,
      commentVisibility: internal ? 'private' : 'public',
      commentType: internal ? 'note' : parentId ? 'reply' : 'comment',
      isPinned: d.chance(n, 5, 0.05),
      sourceEmailId:
        customer && ticket.source === 'email' ? `<${id.toLowerCase()}@mail.sim.example>` : null,
      metadata:
        mention || reaction
          ? {
              mentions: mention
                ? [
                    {
                      id: ticket.assignedAgentId ?? agent.id,
                      type: 'user',
                      name: ticket.assignedAgent,
                    },
                  ]
                : EMPTY,
              userReactions: reaction
                ? [{ emoji: '+1', userId: agent?.id ?? ticket.assignedAgentId, reactedAt: at }]
                : EMPTY,
            }
          : EMPTY_METADATA,
      parentCommentId: parentId,
      createdAt: at,
      updatedAt: at,
      author: agent ? agent.name : `${String(customer!.firstName)} ${String(customer!.lastName)}`,
      authorId: agent ? agent.id : customer!.id,
      authorUserType: agent ? agent.userType : 'CUSTOMER_USER',
      customerContactId: customer?.id ?? null,
      customerContactEmail: customer?.email ?? null,
      customerContactFirstName: customer?.firstName ?? null,
      customerContactLastName: customer?.lastName ?? null,
      customerContactAvatarUrl: customer?.avatarUrl ?? null,
      authorAvatarUrl: (agent ?? customer)!.avatarUrl,
      impersonatedUserEmail: null,
      impersonatedUserName: null,
      impersonatedUserAvatar: null,
      attachments: d.chance(n, 6, 0.1)
        ? [
            {
              id: this.id('AF', n),
              name: 'screenshot.png',
              url: `https://files.sim.example/${id}/screenshot.png`,
              size: 20_000 + d.int(n, 7, 0, 500_000),
              contentType: 'image/png',
            },
          ]
        : EMPTY,
      deletedAt: null,
    }
  }

  /** The text fields of a comment; `edit` > 0 for the `edit`-th edit. */
  commentContent(n: number, edit: number, isEdited: boolean): JsonObject {
    const line = this.commentText(n, edit)
    return { ...this.#text(edit === 0 ? line : `${line} (edit ${edit})`), isEdited }
  }

  /** The content fields of a text; shared between the comments that say the same. */
  #text(text: string): CommentText {
    let t = this.#texts.get(text)
    if (t) return t
    const html = text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
    t = {
      content: text,
      contentHtml: `<p>${html}</p>`,
      contentJson: JSON.stringify({
        type: 'doc',
        content: [{ type: 'paragraph', content: [{ type: 'text', text }] }],
      }),
      contentMarkdown: text,
    }
    if (this.#texts.size > 10_000) this.#texts.clear()
    this.#texts.set(text, t)
    return t
  }

  ticketTitle(n: number, salt: number): string {
    return this.draw('title').pick(n, salt, TICKET_TITLES)
  }

  commentText(n: number, salt: number): string {
    return this.draw('comment-text').pick(n, salt, COMMENT_LINES)
  }
}
