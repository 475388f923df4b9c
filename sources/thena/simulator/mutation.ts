import { z } from 'zod'
import { DRIFT_RESOURCES, FIELD_TYPES } from './simulated-dataset.js'
import type { SimulatedDataset } from './simulated-dataset.js'

const path = z.union([z.string().min(1), z.array(z.string()).min(1)])
const selection = {
  /** Explicit request ids. */
  ids: z.array(z.string()).optional(),
  /** Or this many ids picked deterministically (with `salt`), optionally within a created-at range. */
  count: z.number().int().min(0).optional(),
  salt: z.number().int().default(0),
  createdAfter: z.iso.datetime().optional(),
  createdBefore: z.iso.datetime().optional(),
}

/** A change to the simulated source, as sent to `POST /__admin/mutations` or `simulator.mutate()`. */
export const mutationSchema = z.discriminatedUnion('op', [
  z.strictObject({ op: z.literal('insertRequests'), count: z.number().int().min(1) }),
  z.strictObject({
    op: z.literal('updateRequests'),
    ...selection,
    set: z.record(z.string(), z.unknown()).optional(),
  }),
  z.strictObject({ op: z.literal('deleteRequests'), ...selection }),
  z.strictObject({
    op: z.literal('addField'),
    resource: z.enum(DRIFT_RESOURCES).default('requests'),
    path,
    type: z.enum(FIELD_TYPES),
    fromIndex: z.number().int().min(0).default(0),
  }),
  z.strictObject({
    op: z.literal('changeFieldType'),
    resource: z.enum(DRIFT_RESOURCES).default('requests'),
    path,
    type: z.enum(FIELD_TYPES),
    fromIndex: z.number().int().min(0).default(0),
  }),
  z.strictObject({
    op: z.literal('removeField'),
    resource: z.enum(DRIFT_RESOURCES).default('requests'),
    path,
    fromIndex: z.number().int().min(0).default(0),
  }),
  z.strictObject({ op: z.literal('addUsers'), count: z.number().int().min(1) }),
  z.strictObject({ op: z.literal('renameSubStatus'), id: z.string(), name: z.string().min(1) }),
  z.strictObject({
    op: z.literal('addCustomField'),
    /** The definition's name, as requests' `custom_fields[].category_name` carry it. */
    name: z.string().min(1),
    fieldType: z.string().min(1).default('text'),
    options: z.array(z.string()).default([]),
  }),
])

export type Mutation = z.input<typeof mutationSchema>

/** What a mutation touched: the ids inserted, updated, deleted or renamed (empty for drift). */
export interface MutationResult {
  readonly op: Mutation['op']
  readonly ids: readonly string[]
}

const toPath = (p: string | readonly string[]): string[] =>
  typeof p === 'string' ? p.split('.') : [...p]
const seconds = (iso: string | undefined) =>
  iso === undefined ? undefined : Date.parse(iso) / 1000

export function applyMutation(dataset: SimulatedDataset, input: Mutation): MutationResult {
  const m = mutationSchema.parse(input)
  const select = (s: {
    ids?: string[] | undefined
    count?: number | undefined
    salt: number
    createdAfter?: string | undefined
    createdBefore?: string | undefined
  }) =>
    s.ids ??
    dataset.pickRequestIds(s.count ?? 1, s.salt, seconds(s.createdAfter), seconds(s.createdBefore))
  switch (m.op) {
    case 'insertRequests':
      return { op: m.op, ids: dataset.insertRequests(m.count) }
    case 'updateRequests':
      return { op: m.op, ids: dataset.updateRequests(select(m), m.set) }
    case 'deleteRequests':
      return { op: m.op, ids: dataset.deleteRequests(select(m)) }
    case 'addField':
      dataset.addField(m.resource, toPath(m.path), m.type, m.fromIndex)
      return { op: m.op, ids: [] }
    case 'changeFieldType':
      dataset.changeFieldType(m.resource, toPath(m.path), m.type, m.fromIndex)
      return { op: m.op, ids: [] }
    case 'removeField':
      dataset.removeField(m.resource, toPath(m.path), m.fromIndex)
      return { op: m.op, ids: [] }
    case 'addUsers':
      return { op: m.op, ids: dataset.addUsers(m.count) }
    case 'renameSubStatus':
      return { op: m.op, ids: dataset.renameSubStatus(m.id, m.name) ? [m.id] : [] }
    case 'addCustomField':
      return { op: m.op, ids: [dataset.addCustomField(m.name, m.fieldType, m.options)] }
  }
}
