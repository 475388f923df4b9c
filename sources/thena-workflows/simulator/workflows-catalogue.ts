/**
 * The plausible content the Workflows simulator draws on: activities, events and workflow
 * templates of a support team's automations. Invented (the reference documents none beyond the
 * create example's field names), and kept small: records past a list's end repeat it with a
 * higher version or a numbered name.
 */

type Json = Record<string, unknown>

/** One activity of the registry, before ids and times. */
export interface ActivityTemplate {
  readonly uniqueIdentifier: string
  readonly name: string
  readonly description: string
  readonly source: string
  /** A step's `input`; `{{…}}` values are filled from the execution's context in tasks. */
  readonly input: Json
  /** A completed task's `output`; null for activities that return nothing. */
  readonly output: Json | null
  readonly isSleepActivity?: boolean
  /** The activity that undoes this one, when there is one. */
  readonly compensation?: { readonly name: string; readonly uniqueIdentifier: string }
}

export const ACTIVITY_TEMPLATES: readonly ActivityTemplate[] = [
  {
    uniqueIdentifier: 'platform-update-ticket-status',
    name: 'Update ticket status',
    description: 'Moves a ticket to another status.',
    source: 'platform_app',
    input: { ticketId: '{{context.entityId}}', statusName: 'In progress' },
    output: { status: 'In progress' },
  },
  {
    uniqueIdentifier: 'platform-assign-ticket',
    name: 'Assign ticket',
    description: "Assigns a ticket to an agent of the ticket's team.",
    source: 'platform_app',
    input: { ticketId: '{{context.entityId}}', strategy: 'round_robin' },
    output: { assignedAgentEmail: 'agent@example.com' },
  },
  {
    uniqueIdentifier: 'platform-add-comment',
    name: 'Add ticket comment',
    description: 'Adds a private note or a public reply to a ticket.',
    source: 'platform_app',
    input: {
      ticketId: '{{context.entityId}}',
      content: 'We are on it.',
      commentVisibility: 'private',
    },
    output: { commentType: 'note', isPinned: false },
  },
  {
    uniqueIdentifier: 'platform-add-tags',
    name: 'Add ticket tags',
    description: 'Adds tags to a ticket.',
    source: 'platform_app',
    input: { ticketId: '{{context.entityId}}', tags: ['automated'] },
    output: { tags: ['automated'] },
  },
  {
    uniqueIdentifier: 'platform-set-priority',
    name: 'Set ticket priority',
    description: "Changes a ticket's priority.",
    source: 'platform_app',
    input: { ticketId: '{{context.entityId}}', priorityName: 'Urgent' },
    output: { priority: 'Urgent' },
  },
  {
    uniqueIdentifier: 'slack-send-message',
    name: 'Send Slack message',
    description: 'Posts a message to a Slack channel.',
    source: 'slack',
    input: { channel: '#support-escalations', text: 'Ticket {{context.entityId}} needs attention' },
    output: { ok: true, ts: '1767225600.000100' },
  },
  {
    uniqueIdentifier: 'email-send',
    name: 'Send email',
    description: 'Sends a templated email to a contact.',
    source: 'email',
    input: { to: '{{context.contactEmail}}', templateId: 'csat-follow-up' },
    output: { accepted: 1 },
  },
  {
    uniqueIdentifier: 'jira-create-issue',
    name: 'Create Jira issue',
    description: 'Opens a Jira issue linked to a ticket.',
    source: 'jira',
    input: { projectKey: 'SUP', summary: 'Escalation of {{context.entityId}}' },
    output: { issueKey: 'SUP-1042' },
    compensation: { name: 'Delete Jira issue', uniqueIdentifier: 'jira-delete-issue' },
  },
  {
    uniqueIdentifier: 'http-call-webhook',
    name: 'Call webhook',
    description: 'Sends the context to an HTTP endpoint.',
    source: 'http',
    input: { url: 'https://hooks.example.com/thena', method: 'POST' },
    output: { statusCode: 200 },
  },
  {
    uniqueIdentifier: 'ai-classify-ticket',
    name: 'Classify ticket with AI',
    description: 'Guesses the category and urgency of a ticket.',
    source: 'ai',
    input: { ticketId: '{{context.entityId}}' },
    output: { category: 'billing', urgency: 'high', confidence: 0.92 },
  },
  {
    uniqueIdentifier: 'sleep',
    name: 'Wait',
    description: 'Waits before the next step.',
    source: 'workflow_app',
    input: { durationMs: 3_600_000 },
    output: null,
    isSleepActivity: true,
  },
  {
    uniqueIdentifier: 'platform-update-account',
    name: 'Update account field',
    description: 'Sets a field of an account.',
    source: 'platform_app',
    input: { accountId: '{{context.entityId}}', field: 'health', value: 'At risk' },
    output: { health: 'At risk' },
  },
]

/** One event of the registry, before ids and times. */
export interface EventTemplate {
  readonly eventName: string
  readonly description: string
  /** The entity the payload carries (`ticket`, `account`, `contact`). */
  readonly entity: string
}

export const EVENT_TEMPLATES: readonly EventTemplate[] = [
  { eventName: 'ticket:created', description: 'A ticket is created', entity: 'ticket' },
  { eventName: 'ticket:updated', description: 'A ticket is updated', entity: 'ticket' },
  {
    eventName: 'ticket:status:changed',
    description: "A ticket's status changes",
    entity: 'ticket',
  },
  {
    eventName: 'ticket:priority:changed',
    description: "A ticket's priority changes",
    entity: 'ticket',
  },
  { eventName: 'ticket:escalated', description: 'A ticket is escalated', entity: 'ticket' },
  {
    eventName: 'ticket:comment:added',
    description: 'A comment is added to a ticket',
    entity: 'ticket',
  },
  { eventName: 'account:created', description: 'An account is created', entity: 'account' },
  { eventName: 'account:updated', description: 'An account is updated', entity: 'account' },
  { eventName: 'contact:created', description: 'A contact is created', entity: 'contact' },
  { eventName: 'csat:submitted', description: 'A customer rates a ticket', entity: 'ticket' },
  { eventName: 'ticket:assigned', description: 'A ticket is assigned', entity: 'ticket' },
  { eventName: 'user:created', description: 'A user joins the organization', entity: 'user' },
]

/** A workflow to generate: its trigger and its steps (2 to 5), by name. */
export interface WorkflowTemplate {
  readonly name: string
  readonly type: 'AUTOMATED' | 'MANUAL'
  readonly eventName: string
  readonly steps: readonly string[]
  readonly filters: Json
}

export const WORKFLOW_TEMPLATES: readonly WorkflowTemplate[] = [
  {
    name: 'Escalate urgent tickets',
    type: 'AUTOMATED',
    eventName: 'ticket:priority:changed',
    steps: ['slack-send-message', 'platform-assign-ticket', 'platform-add-comment'],
    filters: { '{{context.priority}}': { '~eq': 'Urgent' } },
  },
  {
    name: 'Auto-assign new tickets',
    type: 'AUTOMATED',
    eventName: 'ticket:created',
    steps: ['ai-classify-ticket', 'platform-assign-ticket'],
    filters: {},
  },
  {
    name: 'Sync escalations to Jira',
    type: 'AUTOMATED',
    eventName: 'ticket:escalated',
    steps: ['jira-create-issue', 'platform-add-comment', 'platform-add-tags'],
    filters: {},
  },
  {
    name: 'CSAT follow-up',
    type: 'AUTOMATED',
    eventName: 'csat:submitted',
    steps: ['sleep', 'email-send'],
    filters: { '{{context.rating}}': { '~lte': 2 } },
  },
  {
    name: 'Close stale tickets',
    type: 'AUTOMATED',
    eventName: 'ticket:updated',
    steps: ['sleep', 'platform-add-comment', 'platform-update-ticket-status'],
    filters: { '{{context.status}}': { '~eq': 'On hold' } },
  },
  {
    name: 'Flag at-risk accounts',
    type: 'AUTOMATED',
    eventName: 'account:updated',
    steps: ['platform-update-account', 'slack-send-message'],
    filters: { '{{context.name}}': { '~starts': 'T' } },
  },
  {
    name: 'Triage with AI',
    type: 'AUTOMATED',
    eventName: 'ticket:created',
    steps: [
      'ai-classify-ticket',
      'platform-set-priority',
      'platform-add-tags',
      'slack-send-message',
    ],
    filters: {},
  },
  {
    name: 'Page on-call for P0',
    type: 'AUTOMATED',
    eventName: 'ticket:escalated',
    steps: [
      'platform-set-priority',
      'http-call-webhook',
      'slack-send-message',
      'platform-assign-ticket',
      'platform-add-comment',
    ],
    filters: { '{{context.priority}}': { '~eq': 'Urgent' } },
  },
  {
    name: 'Welcome new contacts',
    type: 'MANUAL',
    eventName: 'contact:created',
    steps: ['email-send', 'slack-send-message'],
    filters: {},
  },
  {
    name: 'Notify on status change',
    type: 'AUTOMATED',
    eventName: 'ticket:status:changed',
    steps: ['slack-send-message', 'http-call-webhook'],
    filters: {},
  },
]
