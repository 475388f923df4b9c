/**
 * Resolving what a child resource, a forEach resource and a pipeline's overrides declare:
 * which placeholders are filled by what, the fields and keys added to each row, and one-line
 * errors for what cannot work.
 */
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { defineResource } from '../../src/source/define-source.js'
import type { ResourceDefinition } from '../../src/source/define-source.js'
import { fillPlaceholders, resolveResource } from '../../src/source/resolve-resource.js'
import type { ResourceOverrides } from '../../src/source/resolve-resource.js'
import { skipReason } from '../../src/pipeline/run-lifecycle.js'
import { HttpRefusedError } from '../../src/http/http-client.js'

const obj = z.looseObject({ id: z.string() })
const workflows = defineResource({
  name: 'workflows',
  path: '/workflows',
  schema: obj,
  recordsPath: 'data',
  primaryKey: 'uid',
  updatedAtField: 'updatedAt',
})
const executions = defineResource({
  name: 'executions',
  path: '/workflows/{workflowUid}/executions',
  schema: obj,
  recordsPath: 'data',
  primaryKey: 'id',
  parent: { resource: 'workflows', fields: { workflowUid: 'uid' }, compositeKey: false },
  updatedAtField: 'updatedAt',
})

const resolve = (
  r: ResourceDefinition,
  earlier: ResourceDefinition[] = [],
  over?: ResourceOverrides,
) => resolveResource('s', r, over, undefined, earlier)

describe('a child resource', () => {
  it('binds each field to a placeholder and a row field; compositeKey false keeps its own key', () => {
    const tasks = resolve(
      defineResource({
        name: 'tasks',
        path: '/workflows/{workflowUid}/executions/{executionId}/tasks',
        schema: obj,
        recordsPath: 'data',
        primaryKey: 'id',
        parent: {
          resource: 'executions',
          fields: { workflowUid: 'workflowUid', executionId: 'id' },
          compositeKey: false,
        },
      }),
      [workflows, executions],
    )
    expect(tasks.resolvedParent).toEqual({
      resource: 'executions',
      bindings: [
        { from: 'workflowUid', placeholder: 'workflowUid', field: 'workflowUid' },
        { from: 'id', placeholder: 'executionId', field: 'executionId' },
      ],
      refresh: 'changed',
      updatedAtField: 'updatedAt',
    })
    expect(tasks.primaryKey).toBe('id')
    expect(tasks.childKey).toEqual({ field: 'id' })
  })

  it('the older `key` form still works, with its composite key', () => {
    const members = resolve(
      defineResource({
        name: 'members',
        path: '/teams/{id}/members',
        schema: obj,
        recordsPath: [],
        primaryKey: 'user',
        parent: { resource: 'workflows', key: 'team_id' },
      }),
      [workflows],
    )
    expect(members.resolvedParent?.bindings).toEqual([
      { from: 'uid', placeholder: 'id', field: 'team_id' },
    ])
    expect(members.primaryKey).toBe('team_id_user')
  })

  it.each<[string, Partial<ResourceDefinition>, RegExp]>([
    ['no field filled', { parent: { resource: 'workflows', fields: {} } }, /at least one field/],
    ['neither fields nor key', { parent: { resource: 'workflows' } }, /expected `fields`/],
    [
      'a placeholder nothing fills',
      { path: '/w/{workflowUid}/x/{other}' },
      /`\{other\}` is filled by nothing/,
    ],
    [
      'a field that fills no placeholder',
      { path: '/executions' },
      /expected `\{workflowUid\}` in `\/executions` or a parameter/,
    ],
    [
      'an unknown parent',
      { parent: { resource: 'nope', fields: { a: 'b' } } },
      /not a resource declared before/,
    ],
  ])('refuses %s, in one line', (_name, over, message) => {
    expect(() => resolve({ ...executions, ...over }, [workflows])).toThrow(message)
  })

  it('a parameter may hold the placeholder (comments of a ticket by query)', () => {
    const comments = resolve(
      { ...executions, path: '/comments', params: { entityId: '{workflowUid}' } },
      [workflows],
    )
    expect(comments.params).toEqual({ entityId: '{workflowUid}' })
    expect(fillPlaceholders('/a/{x}/{y}', { x: 'a/b', y: 'c' }, true)).toBe('/a/a%2Fb/c')
    expect(fillPlaceholders('{x}', { x: 'a/b' }, false)).toBe('a/b')
    // A parent id of `..` must not step up the path on the way.
    expect(fillPlaceholders('/t/{x}/c', { x: '..' }, true)).toBe('/t/%2E%2E/c')
    expect(fillPlaceholders('/t/{x}/c', { x: 'a.b' }, true)).toBe('/t/a.b/c')
  })

  it('a pipeline may read it for every parent (refresh), not a resource without a parent', () => {
    expect(resolve(executions, [workflows], { refresh: 'always' }).resolvedParent?.refresh).toBe(
      'always',
    )
    expect(() => resolve(workflows, [], { refresh: 'always' })).toThrow(
      /refresh: only a child resource/,
    )
  })
})

describe('forEach and overrides', () => {
  const attributes = defineResource({
    name: 'attributes',
    path: '/attributes',
    params: { attribute: '{kind}' },
    schema: z.object({ id: z.string() }),
    recordsPath: 'data',
    primaryKey: 'id',
    forEach: { placeholder: 'kind', values: ['a', 'b'], field: 'attribute' },
  })

  it('fills its placeholder, and adds its field to a schema that lacks it', () => {
    const r = resolve(attributes)
    expect((r.schema as z.ZodObject).shape).toHaveProperty('attribute')
    expect(() => resolve({ ...attributes, forEach: { placeholder: 'kind', values: [] } })).toThrow(
      /forEach.values: expected at least one value/,
    )
    expect(() => resolve({ ...attributes, params: {} })).toThrow(/expected `\{kind\}`/)
  })

  it('a pipeline replaces path, records path and order, and adds parameters', () => {
    const r = resolve(workflows, [], {
      path: '/v2/workflows',
      recordsPath: 'data.results',
      params: { teamId: 'T1' },
      order: 'newest_first',
    })
    expect([r.path, r.recordsPath, r.params, r.order]).toEqual([
      '/v2/workflows',
      ['data', 'results'],
      { teamId: 'T1' },
      'newest_first',
    ])
  })
})

describe('skipOn', () => {
  const tier =
    '{"statusCode":403,"message":"This endpoint is only available for standard and enterprise tier organizations.","error":"Forbidden"}'
  it('a declared refusal skips with what the API said; anything else does not', () => {
    const r = { skipOn: [{ status: 403, bodyIncludes: 'TIER' }] }
    expect(skipReason(r, new HttpRefusedError(403, tier, 'refused'))).toBe(
      'skipped: the API does not let this account read it (HTTP 403: This endpoint is only available for standard and enterprise tier organizations.)',
    )
    expect(skipReason(r, new HttpRefusedError(401, tier, 'refused'))).toBeUndefined()
    expect(skipReason(r, new HttpRefusedError(403, '{"message":"nope"}', 'r'))).toBeUndefined()
    expect(skipReason({}, new HttpRefusedError(403, tier, 'refused'))).toBeUndefined()
    expect(skipReason(r, new Error('403 tier'))).toBeUndefined()
    expect(
      skipReason({ skipOn: [{ status: 403 }] }, new HttpRefusedError(403, '<html>', 'r')),
    ).toBe('skipped: the API does not let this account read it (HTTP 403: <html>)')
  })
})
