/**
 * Which parents a child resource is read for, as a unit: the merged ones, every one
 * (`refresh: 'always'`, reconcile), or those past the watermark of the parent's update time
 * kept in the child's state, in an order that lets an interrupted pass resume where it stopped.
 */
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import {
  PARENT_MARK_LAG_MS,
  ParentKeys,
  parentProgressOf,
  withParentProgress,
} from '../../src/extract/parent-keys.js'
import { defineResource } from '../../src/source/define-source.js'
import type { ChildRefresh, ResourceDefinition } from '../../src/source/define-source.js'
import { resolveResource } from '../../src/source/resolve-resource.js'
import type { RunMode } from '../../src/source/incremental/strategy.js'
import type { ResourceState } from '../../src/state/resource-state.js'

const obj = z.looseObject({ id: z.string() })

const tickets = (updatedAtField?: string): ResourceDefinition =>
  defineResource({
    name: 'tickets',
    path: '/tickets',
    schema: obj,
    recordsPath: 'data',
    primaryKey: 'id',
    ...(updatedAtField && { updatedAtField }),
  })

const comments = (refresh: ChildRefresh = 'changed'): ResourceDefinition =>
  defineResource({
    name: 'comments',
    path: '/comments',
    params: { entityId: '{ticketId}' },
    schema: obj,
    recordsPath: 'data',
    primaryKey: 'id',
    parent: { resource: 'tickets', fields: { ticketId: 'id' }, compositeKey: false, refresh },
  })

const resolved = (parent: ResourceDefinition, child: ResourceDefinition) => [
  resolveResource('s', parent, undefined, undefined, []),
  resolveResource('s', child, undefined, undefined, [parent]),
]

const t = (id: string, minute: number) => ({
  id,
  updatedAt: new Date(Date.UTC(2026, 0, 1, 0, minute)).toISOString(),
})
const at = (minute: number) => new Date(Date.UTC(2026, 0, 1, 0, minute)).toISOString()

const keysFor = (
  mode: RunMode,
  state?: ResourceState,
  refresh?: ChildRefresh,
  field = 'updatedAt',
) => {
  const [p, c] = resolved(tickets(field), comments(refresh))
  const parents = new ParentKeys([p!, c!], mode)
  // Page one was unchanged (nothing merged); page two held a changed ticket.
  parents.collect('tickets', [], [t('a', 5), t('b', 1)])
  parents.collect('tickets', [t('c', 3)], [t('c', 3)])
  parents.ended('tickets')
  return { parents, child: c!, ids: () => parents.parentsFor(c!, state).map((r) => r.values[0]) }
}

const stateWith = (progress: object): ResourceState =>
  withParentProgress({ version: 1, records: 0 }, progress)

describe('the parents a child is read for', () => {
  it('without a watermark: every parent, by update time then key', () => {
    expect(keysFor('run').ids()).toEqual(['b', 'c', 'a'])
  })

  it('past the watermark only: a run where no parent changed reads none', () => {
    expect(keysFor('run', stateWith({ through: at(2) })).ids()).toEqual(['c', 'a'])
    expect(keysFor('run', stateWith({ through: at(5) })).ids()).toEqual([])
  })

  it('a pass stopped part way resumes after the last parent it committed', () => {
    const state = stateWith({ through: at(0), after: { at: at(3), key: '["c"]' } })
    expect(keysFor('run', state).ids()).toEqual(['a'])
  })

  it('reconcile reads every parent whatever the watermark', () => {
    expect(keysFor('reconcile', stateWith({ through: at(9) })).ids()).toEqual(['b', 'c', 'a'])
  })

  it('refresh always: every parent the walk saw, as it saw them', () => {
    expect(keysFor('run', stateWith({ through: at(9) }), 'always').ids()).toEqual(['a', 'b', 'c'])
  })

  it('a parent without an update-time field: only the parents the run merged', () => {
    const [p, c] = resolved(tickets(), comments())
    const parents = new ParentKeys([p!, c!], 'run')
    parents.collect('tickets', [], [t('a', 5)])
    parents.collect('tickets', [t('c', 3)], [t('c', 3)])
    expect(parents.parentsFor(c!, undefined).map((r) => r.values)).toEqual([['c']])
    expect(parents.tracksProgress(c!)).toBe(false)
  })

  it('backfill reads the children of the parents it reloads, and keeps no watermark', () => {
    const { parents, child, ids } = keysFor('backfill', stateWith({ through: at(9) }))
    expect(ids()).toEqual(['c'])
    expect(parents.tracksProgress(child)).toBe(false)
  })
})

describe('the watermark', () => {
  it('moves to the newest parent read once a pass completes; part way, it names the last', () => {
    const { parents, child } = keysFor('run', stateWith({ through: at(2) }))
    const refs = parents.parentsFor(child, stateWith({ through: at(2) }))
    expect(
      parents.progressAfter(child, stateWith({ through: at(2) }), refs.slice(0, 1), false),
    ).toEqual({
      through: at(2),
      after: { at: at(3), key: '["c"]' },
    })
    expect(parents.progressAfter(child, stateWith({ through: at(2) }), refs, true)).toEqual({
      through: at(5),
    })
  })

  it('a run with nothing to read completes a pass an earlier run left part way', () => {
    const { parents, child } = keysFor('run')
    const left = stateWith({ through: at(2), after: { at: at(7), key: '["x"]' } })
    expect(parents.progressAfter(child, left, [], true)).toEqual({ through: at(7) })
  })

  it('a reconcile stopped part way leaves it where it was', () => {
    const { parents, child } = keysFor('reconcile')
    const before = stateWith({ through: at(4) })
    const refs = parents.parentsFor(child, before)
    expect(parents.progressAfter(child, before, refs.slice(0, 1), false)).toEqual({
      through: at(4),
    })
    expect(parents.progressAfter(child, before, refs, true)).toEqual({ through: at(5) })
  })

  it('a pass over a window of the parents moves neither mark, but notes what it read', () => {
    const [p, c] = resolved(tickets('updatedAt'), comments())
    const window = () => {
      const parents = new ParentKeys([p!, c!], 'run')
      parents.collect('tickets', [t('c', 3)], [t('c', 3), t('d', 4)], true)
      parents.ended('tickets')
      return parents
    }
    const before = stateWith({ through: at(1) })
    const first = window()
    const refs = first.parentsFor(c!, before)
    expect(refs.map((r) => r.values[0])).toEqual(['c', 'd'])
    const noted = first.progressAfter(c!, before, refs.slice(0, 1), false)
    expect(noted).toEqual({ through: at(1), read: { '["c"]': at(3) } })
    // The next window pass skips what was read at the same version, not what moved since.
    const second = window()
    expect(second.parentsFor(c!, stateWith(noted)).map((r) => r.values[0])).toEqual(['d'])
    const moved = new ParentKeys([p!, c!], 'run')
    moved.collect('tickets', [], [t('c', 6)], true)
    expect(moved.parentsFor(c!, stateWith(noted)).map((r) => r.values[0])).toEqual(['c'])
    // A pass over every parent skips them too, then folds them into its watermark.
    const whole = new ParentKeys([p!, c!], 'run')
    whole.collect('tickets', [], [t('b', 2), t('c', 3)])
    whole.ended('tickets')
    const all = whole.parentsFor(c!, stateWith(noted))
    expect(all.map((r) => r.values[0])).toEqual(['b'])
    expect(whole.progressAfter(c!, stateWith(noted), all, true)).toEqual({ through: at(3) })
  })

  it('is read back from the state, ignoring what is not one', () => {
    expect(parentProgressOf(stateWith({ through: at(1) }))).toEqual({ through: at(1) })
    expect(parentProgressOf({ version: 1, records: 0, incremental: { parents: 'x' } })).toEqual({})
    expect(parentProgressOf(undefined)).toEqual({})
    const cleared = withParentProgress(stateWith({ through: at(1) }), {})
    expect(cleared.incremental).toEqual({})
  })
})

describe('the marks stay behind the run', () => {
  // The run began at minute 4: parents dated later may have been seen before their update.
  const begun = Date.parse(at(4)) + PARENT_MARK_LAG_MS
  const keys = () => {
    const [p, c] = resolved(tickets('updatedAt'), comments())
    const parents = new ParentKeys([p!, c!], 'run', begun)
    parents.collect('tickets', [], [t('a', 5), t('b', 1), t('c', 3), t('z', 60 * 24 * 365)])
    parents.ended('tickets')
    return { parents, child: c! }
  }

  it('a completed pass moves the watermark no further than the run start less the lag', () => {
    const { parents, child } = keys()
    const refs = parents.parentsFor(child, undefined)
    expect(parents.progressAfter(child, undefined, refs, true)).toEqual({ through: at(4) })
  })

  it('a pass stopped past that point resumes from it, not from the last parent it read', () => {
    const { parents, child } = keys()
    const refs = parents.parentsFor(child, undefined)
    expect(refs.map((r) => r.values[0])).toEqual(['b', 'c', 'a', 'z'])
    expect(parents.progressAfter(child, undefined, refs.slice(0, 2), false)).toEqual({
      after: { at: at(3), key: '["c"]' },
    })
    const stopped = parents.progressAfter(child, undefined, refs.slice(0, 3), false)
    expect(stopped).toEqual({ after: { at: at(4), key: '' } })
    expect(parents.parentsFor(child, stateWith(stopped)).map((r) => r.values[0])).toEqual([
      'a',
      'z',
    ])
  })
})

describe('a parent walk that did not end', () => {
  it('moves neither mark (a failed page, or the parent left out of the run): it notes what it read', () => {
    const [p, c] = resolved(tickets('updatedAt'), comments())
    const parents = new ParentKeys([p!, c!], 'run')
    parents.collect('tickets', [], [t('c', 3), t('d', 4)])
    const before = stateWith({ through: at(1) })
    const refs = parents.parentsFor(c!, before)
    expect(parents.progressAfter(c!, before, refs, true)).toEqual({
      through: at(1),
      read: { '["c"]': at(3), '["d"]': at(4) },
    })
    const none = new ParentKeys([p!, c!], 'run')
    const left = stateWith({ through: at(1), after: { at: at(7), key: '["x"]' } })
    expect(none.progressAfter(c!, left, [], true)).toEqual(parentProgressOf(left))
  })
})
