/**
 * The Workflows simulator's data: workflows with their executions and tasks, the activity and
 * event registries, every value a function of (seed, kind, n), and the mutations that change
 * them. Small by design (tens of workflows), so records are stored as the objects served.
 */
import { z } from 'zod'
import { hash32 } from '../../../src/stand-in/prng.js'
import { ACTIVITY_TEMPLATES, EVENT_TEMPLATES, WORKFLOW_TEMPLATES } from './workflows-catalogue.js'
import type { ActivityTemplate } from './workflows-catalogue.js'
import { WORKFLOWS_ROUTES } from './workflows-simulator-options.js'
import type { WorkflowsRoute } from './workflows-simulator-options.js'

type Obj = Record<string, unknown>

export const EXECUTION_STATUSES = ['RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED'] as const
export type ExecutionStatus = (typeof EXECUTION_STATUSES)[number]

export const TASK_STATUSES = ['PENDING', 'RUNNING', 'COMPLETED', 'FAILED', 'SKIPPED'] as const
export type TaskStatus = (typeof TASK_STATUSES)[number]

/** Types of a field that `addField` adds. */
export const FIELD_TYPES = ['string', 'number', 'boolean', 'object'] as const
export type FieldType = (typeof FIELD_TYPES)[number]

/** The key of each resource's records. */
const KEYS: Record<WorkflowsRoute, string> = {
  workflows: 'uid',
  executions: 'id',
  tasks: 'id',
  activities: 'uid',
  events: 'uid',
}
/** Fields whose type never changes: keys and links to a parent. */
const FIXED_FIELDS: Record<WorkflowsRoute, readonly string[]> = {
  workflows: ['uid'],
  executions: ['id', 'workflowUid'],
  tasks: ['id', 'executionId'],
  activities: ['uid'],
  events: ['uid'],
}

const count = z.number().int().min(0)
const resource = z.enum(WORKFLOWS_ROUTES)

/** A change to the served data, as `sim.mutate()` or `POST /__admin/mutations` takes it. */
export const workflowsMutationSchema = z.discriminatedUnion('op', [
  z.strictObject({ op: z.literal('newExecutions'), count }),
  z.strictObject({ op: z.literal('completeExecutions'), count }),
  z.strictObject({ op: z.literal('newWorkflows'), count }),
  z.strictObject({ op: z.literal('updateWorkflows'), count }),
  z.strictObject({ op: z.literal('toggleWorkflows'), count }),
  z.strictObject({ op: z.literal('deleteWorkflows'), count }),
  z.strictObject({ op: z.literal('newActivities'), count }),
  z.strictObject({ op: z.literal('newEvents'), count }),
  z.strictObject({
    op: z.literal('addField'),
    resource,
    field: z.string().min(1),
    value: z.enum(FIELD_TYPES),
  }),
  z.strictObject({ op: z.literal('changeFieldType'), resource, field: z.string().min(1) }),
])

/** A mutation, as accepted by `sim.mutate()`. */
export type WorkflowsMutation = z.input<typeof workflowsMutationSchema>

/** What a mutation touched: the keys of the records added, changed or deleted (none for drift). */
export interface WorkflowsMutationResult {
  readonly op: WorkflowsMutation['op']
  readonly ids: readonly string[]
}

/** What a complete, correct load holds: every record exactly as the API serves it now. */
export interface WorkflowsTruth {
  /** By `uid`, ordered by `createdAt`. */
  readonly workflows: ReadonlyMap<string, Obj>
  /** Workflow by workflow (in list order), each newest first. */
  readonly executions: readonly { readonly workflowUid: string; readonly execution: Obj }[]
  /** Execution by execution (in the order above), each in step order. */
  readonly tasks: readonly {
    readonly workflowUid: string
    readonly executionId: string
    readonly task: Obj
  }[]
  readonly activities: ReadonlyMap<string, Obj>
  readonly events: ReadonlyMap<string, Obj>
}

/** What the data set is made of. */
export interface WorkflowsDatasetOptions {
  readonly seed: number
  readonly workflows: number
  readonly executionsPerWorkflow: number
  readonly activities: number
  readonly events: number
  /** "Now" of the initial data, epoch ms. */
  readonly endAt: number
}

interface ExecutionEntry {
  /** Generation index: seeds the execution's ids and values. */
  readonly n: number
  readonly startedMs: number
  execution: Obj
  tasks: Obj[]
}

interface WorkflowEntry {
  readonly n: number
  readonly baseName: string
  record: Obj
  /** Newest first. */
  executions: ExecutionEntry[]
}

const SECOND = 1000
const HOUR = 3_600_000
const DAY = 86_400_000
const ENTITY_PREFIXES: Record<string, string> = {
  ticket: 'TK',
  account: 'AT',
  contact: 'CT',
  user: 'U',
}
const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'

/** An opaque, uppercase base32 id (as the Platform's `T00M677SAK`) derived from its parts. */
export function idOf(prefix: string, ...parts: readonly (string | number)[]): string {
  let out = prefix
  for (const half of ['a', 'b']) {
    let h = hash32(...parts, half)
    for (let i = 0; i < 5; i++, h >>>= 5) out += CROCKFORD[h & 31]
  }
  return out
}

const iso = (ms: number) => new Date(ms).toISOString()
const slug = (name: string) =>
  name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')

function jsonSchemaOf(example: Obj | null): Obj {
  if (!example) return {}
  const type = (v: unknown) => (Array.isArray(v) ? 'array' : typeof v)
  return {
    type: 'object',
    properties: Object.fromEntries(Object.entries(example).map(([k, v]) => [k, { type: type(v) }])),
    required: Object.keys(example),
  }
}

/** A step's input with its `{{context.x}}` placeholders filled, as a task receives it. */
function fill(input: unknown, context: Obj): Obj {
  const text = JSON.stringify(input ?? {}).replace(/\{\{context\.(\w+)\}\}/g, (whole, name) =>
    typeof context[name] === 'string' ? (context[name] as string) : whole,
  )
  return JSON.parse(text) as Obj
}

/** A value's type changed: `3` → `"v3"`, `true` → `"true"`, an object → its JSON text. */
function retype(value: unknown): unknown {
  if (typeof value === 'number') return `v${value}`
  if (typeof value === 'boolean') return String(value)
  if (value !== null && typeof value === 'object') return JSON.stringify(value)
  return value
}

export class WorkflowsDataset {
  readonly #seed: number
  #now: number
  #mutations = 0
  #nextWorkflow = 0
  #nextExecution = 0
  #nextActivity = 0
  #nextEvent = 0
  readonly #workflows: WorkflowEntry[] = []
  readonly #activities: Obj[] = []
  readonly #events: Obj[] = []
  readonly #added = new Map<WorkflowsRoute, Map<string, FieldType>>()
  readonly #changed = new Map<WorkflowsRoute, Set<string>>()

  constructor(o: WorkflowsDatasetOptions) {
    this.#seed = o.seed
    this.#now = o.endAt
    const end = o.endAt
    for (let n = 0; n < o.events; n++) {
      const created = this.#spread(end - 400 * DAY, end - 200 * DAY, n, o.events, 'event')
      this.#events.push(this.#event(this.#nextEvent++, created, created + this.#updateLag(n)))
    }
    for (let n = 0; n < o.activities; n++) {
      const created = this.#spread(end - 200 * DAY, end - 100 * DAY, n, o.activities, 'activity')
      this.#activities.push(
        this.#activity(this.#nextActivity++, created, created + this.#updateLag(n)),
      )
    }
    for (let n = 0; n < o.workflows; n++) {
      const created = this.#spread(end - 90 * DAY, end - 10 * DAY, n, o.workflows, 'workflow')
      const updated = this.#h('updated', n) % 2 === 1
      const entry = this.#workflow(
        this.#nextWorkflow++,
        created,
        updated ? created + this.#fraction('updatedAt', n) * (end - DAY - created) : created,
        updated ? 2 + (this.#h('version', n) % 3) : 1,
      )
      this.#workflows.push(entry)
    }
    // Counts pair up (w, W-1-w) as (r, 2·avg - r): each varies in 0..2·avg, the total is exact.
    const avg = o.executionsPerWorkflow
    const w = this.#workflows.length
    for (let i = 0; i < w; i++) {
      const entry = this.#workflows[i]!
      const mirror = w - 1 - i
      const pair = Math.min(i, mirror)
      const r = this.#h('executions', pair) % (2 * avg + 1)
      const first = i < mirror === (this.#h('side', pair) % 2 === 0)
      const executions = i === mirror ? avg : first ? r : 2 * avg - r
      const createdMs = Date.parse(String(entry.record.createdAt))
      const from = Math.max(createdMs + HOUR, end - 30 * DAY)
      for (let k = 0; k < executions; k++) {
        const n = this.#nextExecution++
        const status = this.#statusOf(n)
        const start =
          status === 'RUNNING'
            ? end - HOUR + this.#fraction('start', n) * (HOUR - 60 * SECOND)
            : from + this.#fraction('start', n) * (end - HOUR - from)
        entry.executions.push(this.#execution(entry, n, Math.floor(start), status).entry)
      }
      entry.executions.sort((a, b) => b.startedMs - a.startedMs || b.n - a.n)
    }
  }

  // --- reads -------------------------------------------------------------------------------

  workflows(): Obj[] {
    return this.#workflows.map((w) => this.#render('workflows', w.record))
  }

  hasWorkflow(uid: string): boolean {
    return this.#workflowEntry(uid) !== undefined
  }

  /** A workflow's executions, newest first; undefined for an unknown workflow. */
  executions(workflowUid: string): Obj[] | undefined {
    return this.#workflowEntry(workflowUid)?.executions.map((e) =>
      this.#render('executions', e.execution),
    )
  }

  /** An execution's tasks in step order; undefined when the workflow has no such execution. */
  tasks(workflowUid: string, executionId: string): Obj[] | undefined {
    const execution = this.#workflowEntry(workflowUid)?.executions.find(
      (e) => e.execution.id === executionId,
    )
    return execution?.tasks.map((t) => this.#render('tasks', t))
  }

  activities(): Obj[] {
    return this.#activities.map((a) => this.#render('activities', a))
  }

  events(): Obj[] {
    return this.#events.map((e) => this.#render('events', e))
  }

  /** Everything served now, as copies the caller may change. */
  truth(): WorkflowsTruth {
    const byKey = (records: Obj[], key: string) =>
      new Map(records.map((r) => [String(r[key]), structuredClone(r)]))
    const executions: { workflowUid: string; execution: Obj }[] = []
    const tasks: { workflowUid: string; executionId: string; task: Obj }[] = []
    for (const w of this.#workflows) {
      const workflowUid = String(w.record.uid)
      for (const e of w.executions) {
        const executionId = String(e.execution.id)
        executions.push({
          workflowUid,
          execution: structuredClone(this.#render('executions', e.execution)),
        })
        for (const t of e.tasks)
          tasks.push({
            workflowUid,
            executionId,
            task: structuredClone(this.#render('tasks', t)),
          })
      }
    }
    return {
      workflows: byKey(this.workflows(), 'uid'),
      executions,
      tasks,
      activities: byKey(this.activities(), 'uid'),
      events: byKey(this.events(), 'uid'),
    }
  }

  // --- mutations ---------------------------------------------------------------------------

  apply(input: WorkflowsMutation): WorkflowsMutationResult {
    const m = workflowsMutationSchema.parse(input)
    this.#mutations++
    switch (m.op) {
      case 'newExecutions':
        return { op: m.op, ids: this.#newExecutions(m.count) }
      case 'completeExecutions':
        return { op: m.op, ids: this.#completeExecutions(m.count) }
      case 'newWorkflows': {
        const ids: string[] = []
        for (let i = 0; i < m.count; i++) {
          const at = this.#tick()
          const entry = this.#workflow(this.#nextWorkflow++, at, at, 1)
          this.#workflows.push(entry)
          ids.push(String(entry.record.uid))
        }
        return { op: m.op, ids }
      }
      case 'updateWorkflows':
        return {
          op: m.op,
          ids: this.#leastRecentlyUpdated(m.count).map((w) => {
            const version = Number(w.record.version) + 1
            w.record = {
              ...w.record,
              name: `${w.baseName} (rev. ${version})`,
              version,
              updatedAt: iso(this.#tick()),
            }
            return String(w.record.uid)
          }),
        }
      case 'toggleWorkflows':
        return {
          op: m.op,
          ids: this.#leastRecentlyUpdated(m.count).map((w) => {
            w.record = { ...w.record, isActive: !w.record.isActive, updatedAt: iso(this.#tick()) }
            return String(w.record.uid)
          }),
        }
      case 'deleteWorkflows': {
        const gone = new Set(this.#leastRecentlyUpdated(m.count))
        const kept = this.#workflows.filter((w) => !gone.has(w))
        this.#workflows.splice(0, this.#workflows.length, ...kept)
        return { op: m.op, ids: [...gone].map((w) => String(w.record.uid)) }
      }
      case 'newActivities': {
        const ids: string[] = []
        for (let i = 0; i < m.count; i++) {
          const at = this.#tick()
          const record = this.#activity(this.#nextActivity++, at, at)
          this.#activities.push(record)
          ids.push(String(record.uid))
        }
        return { op: m.op, ids }
      }
      case 'newEvents': {
        const ids: string[] = []
        for (let i = 0; i < m.count; i++) {
          const at = this.#tick()
          const record = this.#event(this.#nextEvent++, at, at)
          this.#events.push(record)
          ids.push(String(record.uid))
        }
        return { op: m.op, ids }
      }
      case 'addField':
        this.#addField(m.resource, m.field, m.value)
        return { op: m.op, ids: [] }
      case 'changeFieldType':
        this.#changeFieldType(m.resource, m.field)
        return { op: m.op, ids: [] }
    }
  }

  #newExecutions(count: number): string[] {
    const active = this.#workflows.filter((w) => w.record.isActive === true)
    // Inactive workflows are not triggered; with none active, any workflow runs.
    const pool = active.length > 0 ? active : this.#workflows
    if (pool.length === 0) return []
    const offset = this.#h('spread', this.#mutations) % pool.length
    const ids: string[] = []
    for (let i = 0; i < count; i++) {
      const workflow = pool[(offset + i) % pool.length]!
      const n = this.#nextExecution++
      const { entry, lastMs } = this.#execution(workflow, n, this.#tick(), this.#statusOf(n))
      workflow.executions.unshift(entry)
      this.#now = Math.max(this.#now, lastMs)
      ids.push(String(entry.execution.id))
    }
    return ids
  }

  #completeExecutions(count: number): string[] {
    const running = this.#workflows
      .flatMap((w) => w.executions.map((e) => ({ w, e })))
      .filter(({ e }) => e.execution.status === 'RUNNING')
      .sort((a, b) => a.e.startedMs - b.e.startedMs || a.e.n - b.e.n)
      .slice(0, count)
    for (const { w, e } of running) {
      const steps = w.record.workflowDefinition as Obj[]
      const context = e.execution.context as Obj
      let t = this.#tick()
      const tasks = e.tasks.slice(0, -1)
      const current = e.tasks[e.tasks.length - 1]!
      // A PENDING step (awaiting approval) starts now; a RUNNING one finishes now.
      const startedAt = current.startedAt ?? iso(t)
      if (current.startedAt === null) t += this.#duration(e.n, tasks.length)
      tasks.push({
        ...current,
        status: 'COMPLETED',
        attempt: 1,
        output: this.#outputOf(steps[tasks.length]),
        startedAt,
        completedAt: iso(t),
        updatedAt: iso(t),
      })
      for (let i = tasks.length; i < steps.length; i++) {
        const start = t + 15
        t = start + this.#duration(e.n, i)
        tasks.push(this.#task(e, steps[i]!, i, context, 'COMPLETED', start, t, 1))
      }
      t += 10
      e.tasks = tasks
      e.execution = {
        ...e.execution,
        status: 'COMPLETED',
        completedAt: iso(t),
        updatedAt: iso(t),
        error: null,
      }
      this.#now = Math.max(this.#now, t)
    }
    return running.map(({ e }) => String(e.execution.id))
  }

  #leastRecentlyUpdated(count: number): WorkflowEntry[] {
    return this.#workflows
      .map((w, i) => ({ w, i, at: Date.parse(String(w.record.updatedAt)) }))
      .sort((a, b) => a.at - b.at || a.i - b.i)
      .slice(0, count)
      .map(({ w }) => w)
  }

  #addField(resource: WorkflowsRoute, field: string, type: FieldType): void {
    const sample = this.#sample(resource)
    const added = this.#added.get(resource) ?? new Map<string, FieldType>()
    if ((sample && field in sample) || added.has(field))
      throw new Error(`addField: ${resource} already have a field \`${field}\``)
    added.set(field, type)
    this.#added.set(resource, added)
  }

  #changeFieldType(resource: WorkflowsRoute, field: string): void {
    if (FIXED_FIELDS[resource].includes(field))
      throw new Error(`changeFieldType: \`${field}\` links ${resource} records and keeps its type`)
    const sample = this.#sample(resource)
    if (sample && !(field in sample))
      throw new Error(`changeFieldType: ${resource} have no field \`${field}\``)
    const value = this.#records(resource)
      .map((r) => r[field])
      .find((v) => v !== null && v !== undefined)
    if (typeof value === 'string')
      throw new Error(
        `changeFieldType: \`${field}\` is already a string (numbers, booleans and objects change)`,
      )
    const changed = this.#changed.get(resource) ?? new Set<string>()
    changed.add(field)
    this.#changed.set(resource, changed)
  }

  #records(resource: WorkflowsRoute): Obj[] {
    const all = {
      workflows: () => this.workflows(),
      executions: () =>
        this.#workflows.flatMap((w) =>
          w.executions.map((e) => this.#render(resource, e.execution)),
        ),
      tasks: () =>
        this.#workflows.flatMap((w) =>
          w.executions.flatMap((e) => e.tasks.map((t) => this.#render(resource, t))),
        ),
      activities: () => this.activities(),
      events: () => this.events(),
    }
    return all[resource]()
  }

  #sample(resource: WorkflowsRoute): Obj | undefined {
    return this.#records(resource)[0]
  }

  #render(resource: WorkflowsRoute, record: Obj): Obj {
    const added = this.#added.get(resource)
    const changed = this.#changed.get(resource)
    if (!added && !changed) return record
    const out = { ...record }
    const key = String(record[KEYS[resource]])
    for (const [field, type] of added ?? []) {
      const h = this.#h('drift', resource, field, key)
      out[field] =
        type === 'string'
          ? `${field}-${h % 1000}`
          : type === 'number'
            ? h % 1000
            : type === 'boolean'
              ? h % 2 === 0
              : { source: 'simulator', score: h % 100 }
    }
    for (const field of changed ?? []) if (field in out) out[field] = retype(out[field])
    return out
  }

  // --- generation --------------------------------------------------------------------------

  #h(...parts: (string | number)[]): number {
    return hash32(this.#seed, ...parts)
  }

  /** A fraction in [0, 1) from the parts. */
  #fraction(...parts: (string | number)[]): number {
    return this.#h(...parts) / 4294967296
  }

  /** The n-th of `total` times spread over [from, to), each jittered within its slot. */
  #spread(from: number, to: number, n: number, total: number, kind: string): number {
    const slot = (to - from) / Math.max(total, 1)
    return Math.floor(from + n * slot + this.#fraction('jitter', kind, n) * slot * 0.8)
  }

  /** Zero for half the records (never updated), up to 30 days for the others. */
  #updateLag(n: number): number {
    return this.#h('lag', n) % 2 === 0 ? 0 : Math.floor(this.#fraction('lag-ms', n) * 30 * DAY)
  }

  /** The simulated clock: one second per changed record, after everything generated so far. */
  #tick(): number {
    this.#now += SECOND
    return this.#now
  }

  #statusOf(n: number): ExecutionStatus {
    const r = this.#h('status', n) % 20
    return r < 14 ? 'COMPLETED' : r < 16 ? 'RUNNING' : r < 19 ? 'FAILED' : 'CANCELLED'
  }

  #duration(execution: number, step: number): number {
    return 150 + (this.#h('duration', execution, step) % 4850)
  }

  #user(k: number): string {
    return idOf('U', this.#seed, 'user', k % 6)
  }

  #team(k: number): string {
    return idOf('T', this.#seed, 'team', k % 3)
  }

  #event(n: number, createdMs: number, updatedMs: number): Obj {
    const t = EVENT_TEMPLATES[n % EVENT_TEMPLATES.length]!
    const round = Math.floor(n / EVENT_TEMPLATES.length)
    return {
      uid: idOf('EV', this.#seed, 'event', n),
      eventName: round === 0 ? t.eventName : `${t.eventName}.v${round + 1}`,
      description: round === 0 ? t.description : `${t.description} (v${round + 1})`,
      source: 'platform_app',
      schema: {
        type: 'object',
        properties: { entityId: { type: 'string' }, [t.entity]: { type: 'object' } },
        required: ['entityId'],
      },
      metadata: { entity: t.entity },
      createdAt: iso(createdMs),
      updatedAt: iso(updatedMs),
    }
  }

  #activity(n: number, createdMs: number, updatedMs: number): Obj {
    const t = ACTIVITY_TEMPLATES[n % ACTIVITY_TEMPLATES.length]!
    return {
      uid: idOf('AC', this.#seed, 'activity', n),
      uniqueIdentifier: t.uniqueIdentifier,
      name: t.name,
      version: Math.floor(n / ACTIVITY_TEMPLATES.length) + 1,
      description: t.description,
      source: t.source,
      inputSchema: jsonSchemaOf(t.input),
      outputSchema: jsonSchemaOf(t.output),
      isCompensable: t.compensation !== undefined,
      createdAt: iso(createdMs),
      updatedAt: iso(updatedMs),
    }
  }

  /**
   * Resolves a template's trigger or activity in its registry: the record of that name, else
   * one picked from the registry, else (an empty registry) one the registry does not serve.
   */
  #resolve(registry: Obj[], field: string, name: string, n: number, fallback: () => Obj): Obj {
    return (
      registry.find((r) => r[field] === name) ??
      registry[this.#h('resolve', field, name, n) % Math.max(registry.length, 1)] ??
      fallback()
    )
  }

  #workflow(n: number, createdMs: number, updatedMs: number, version: number): WorkflowEntry {
    const t = WORKFLOW_TEMPLATES[n % WORKFLOW_TEMPLATES.length]!
    const round = Math.floor(n / WORKFLOW_TEMPLATES.length)
    const name = round === 0 ? t.name : `${t.name} ${round + 1}`
    const eventIndex = Math.max(
      EVENT_TEMPLATES.findIndex((e) => e.eventName === t.eventName),
      0,
    )
    const event = this.#resolve(this.#events, 'eventName', t.eventName, n, () =>
      this.#event(eventIndex, createdMs, createdMs),
    )
    const entity = String((event.metadata as Obj | undefined)?.entity ?? 'ticket')
    const steps = t.steps.map((id, i) => {
      const templateIndex = ACTIVITY_TEMPLATES.findIndex((a) => a.uniqueIdentifier === id)
      const activity = this.#resolve(this.#activities, 'uniqueIdentifier', id, n * 8 + i, () =>
        this.#activity(templateIndex, createdMs, createdMs),
      )
      const template = ACTIVITY_TEMPLATES.find(
        (a) => a.uniqueIdentifier === activity.uniqueIdentifier,
      ) as ActivityTemplate
      const sleep = template.isSleepActivity === true
      const h = this.#h('step', n, i)
      return {
        stepIdentifier: i + 1,
        activity: {
          name: activity.name,
          uniqueIdentifier: activity.uniqueIdentifier,
          version: activity.version,
          autoUpgradeToLatestVersion: h % 3 !== 0,
        },
        input: structuredClone(template.input),
        retryPolicy: {
          maximumAttempts: 1 + (h % 5),
          initialInterval: 1000,
          backoffCoefficient: 2,
        },
        onFailure: template.compensation ? 'COMPENSATE' : h % 4 === 0 ? 'CONTINUE' : 'ABORT',
        isSleepActivity: sleep,
        executionTimeout: sleep ? 2 * HOUR : 30_000,
        approver: !sleep && h % 7 === 0 ? { type: 'TEAM', uid: this.#team(h), timeout: DAY } : null,
        dependencies: i === 0 ? [] : [i],
        filters: {},
        compensationActivity: template.compensation ? { ...template.compensation, version: 1 } : {},
      }
    })
    const h = this.#h('workflow', n)
    const record: Obj = {
      uid: idOf('WF', this.#seed, 'workflow', n),
      type: t.type,
      subType: 'WORKFLOW',
      uniqueIdentifier: slug(name),
      name,
      version,
      triggerEvent: {
        uid: event.uid,
        description: event.description,
        eventName: event.eventName,
        source: event.source,
        schema: structuredClone(event.schema),
        metadata: structuredClone(event.metadata),
      },
      filters: structuredClone(t.filters),
      annotations:
        entity === 'ticket'
          ? [
              {
                entityType: 'Ticket',
                requiredFields: { ticket: ['id', 'title', 'priority', 'status'] },
                relations: ['account'],
                pathToAnnotate: 'context.ticket',
              },
            ]
          : [],
      workflowDefinition: steps,
      executingAgent: h % 2 === 0 ? idOf('U', this.#seed, 'workflow-agent') : null,
      isActive: h % 5 !== 0,
      createdAt: iso(createdMs),
      updatedAt: iso(updatedMs),
      createdBy: this.#user(h >>> 3),
      teamId: h % 4 === 0 ? null : this.#team(h >>> 5),
      metadata: { createdFrom: h % 3 === 0 ? 'api' : 'ui' },
    }
    return { n, baseName: name, record, executions: [] }
  }

  #outputOf(step: Obj | undefined): Obj | null {
    const id = (step?.activity as Obj | undefined)?.uniqueIdentifier
    const output = ACTIVITY_TEMPLATES.find((a) => a.uniqueIdentifier === id)?.output
    return output ? structuredClone(output) : null
  }

  #task(
    e: { n: number; execution: Obj },
    step: Obj,
    i: number,
    context: Obj,
    status: TaskStatus,
    startMs: number | null,
    endMs: number | null,
    attempt: number,
    updatedMs = endMs ?? startMs ?? 0,
  ): Obj {
    const activity = step.activity as Obj
    return {
      id: idOf('TA', this.#seed, 'task', e.n, i),
      executionId: e.execution.id,
      stepIdentifier: step.stepIdentifier,
      activityName: activity.name,
      activityUniqueIdentifier: activity.uniqueIdentifier,
      status,
      attempt,
      input: fill(step.input, context),
      output: status === 'COMPLETED' ? this.#outputOf(step) : null,
      startedAt: startMs === null ? null : iso(startMs),
      completedAt: endMs === null ? null : iso(endMs),
      updatedAt: iso(updatedMs),
    }
  }

  /**
   * One execution of a workflow started at `startMs`, with the tasks its status implies: all
   * steps for COMPLETED, a prefix then the current step for RUNNING (PENDING while it awaits
   * approval), a prefix then a FAILED step for FAILED, a prefix for CANCELLED; the steps a
   * failure or a cancellation leaves are SKIPPED.
   */
  #execution(
    w: WorkflowEntry,
    n: number,
    startMs: number,
    status: ExecutionStatus,
  ): { entry: ExecutionEntry; lastMs: number } {
    const record = w.record
    const steps = record.workflowDefinition as Obj[]
    const event = record.triggerEvent as Obj
    const entity = String((event.metadata as Obj | undefined)?.entity ?? 'ticket')
    const h = this.#h('execution', n)
    const context: Obj = {
      eventName: event.eventName,
      entityType: entity,
      entityId: idOf(ENTITY_PREFIXES[entity] ?? 'EN', this.#seed, entity, h % 500),
      contactEmail: `contact${h % 97}@example.com`,
      priority: ['Low', 'Medium', 'High', 'Urgent'][h % 4],
    }
    // Runs before the workflow's last update ran the version before it.
    const version = Number(record.version)
    const workflowVersion =
      version > 1 && startMs < Date.parse(String(record.updatedAt)) ? version - 1 : version
    const execution: Obj = {
      id: idOf('EX', this.#seed, 'execution', n),
      workflowUid: record.uid,
      workflowVersion,
      status,
      triggeredBy:
        record.type === 'MANUAL'
          ? { type: 'USER', uid: this.#user(h >>> 4) }
          : { type: 'EVENT', uid: event.uid },
      context,
      startedAt: iso(startMs),
      completedAt: null,
      createdAt: iso(startMs - 5 - (h % 200)),
      updatedAt: iso(startMs),
      error: null,
    }
    const entry: ExecutionEntry = { n, startedMs: startMs, execution, tasks: [] }
    const done = status === 'COMPLETED' ? steps.length : this.#h('progress', n) % steps.length
    const tasks: Obj[] = []
    let t = startMs + 20
    for (let i = 0; i < done; i++) {
      const end = t + this.#duration(n, i)
      tasks.push(
        this.#task(
          entry,
          steps[i]!,
          i,
          context,
          'COMPLETED',
          t,
          end,
          1 + (this.#h('retry', n, i) % 5 === 0 ? 1 : 0),
        ),
      )
      t = end + 15
    }
    if (status === 'RUNNING') {
      const step = steps[done]!
      // A step that needs approval waits, not started, until someone approves it.
      const pending = step.approver !== null
      tasks.push(
        pending
          ? this.#task(entry, step, done, context, 'PENDING', null, null, 0, t)
          : this.#task(entry, step, done, context, 'RUNNING', t, null, 1),
      )
      entry.execution = { ...execution, updatedAt: iso(t) }
      entry.tasks = tasks
      return { entry, lastMs: t }
    }
    if (status === 'FAILED') {
      const step = steps[done]!
      const attempts = Number((step.retryPolicy as Obj).maximumAttempts)
      const end = t + this.#duration(n, done)
      tasks.push(this.#task(entry, step, done, context, 'FAILED', t, end, attempts))
      execution.error = {
        message: `Step ${done + 1} (${String((step.activity as Obj).name)}) failed after ${attempts} attempt${attempts === 1 ? '' : 's'}: upstream answered 502`,
      }
      t = end + 15
    }
    const endMs = t + 10
    execution.completedAt = iso(endMs)
    execution.updatedAt = iso(endMs)
    const skipFrom = status === 'FAILED' ? done + 1 : status === 'CANCELLED' ? done : steps.length
    for (let i = skipFrom; i < steps.length; i++)
      tasks.push(this.#task(entry, steps[i]!, i, context, 'SKIPPED', null, null, 0, endMs))
    entry.tasks = tasks
    return { entry, lastMs: endMs }
  }

  #workflowEntry(uid: string): WorkflowEntry | undefined {
    return this.#workflows.find((w) => w.record.uid === uid)
  }
}
