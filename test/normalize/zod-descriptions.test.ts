/**
 * describedShape reads `.describe()` and `.meta({ description })` texts by record path, through
 * optional, nullable, default and union wrappers, nested objects and arrays; descriptions leave
 * a resource's normalization fingerprint as it was.
 */
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { describedShape, shapeAt } from '../../src/normalize/zod-descriptions.js'
import { normalizationFingerprint } from '../../src/normalize/normalization-fingerprint.js'
import { EVOLVE } from '../../src/normalize/schema-contract.js'

const text = z.string().nullish()

describe('describedShape', () => {
  it('finds each field description by path, through wrappers, objects, arrays and unions', () => {
    const schema = z
      .looseObject({
        id: z.string(),
        outer: text.describe('on the optional wrapper'),
        inner: z.string().describe('on the inner string').nullish(),
        meta: z.number().meta({ description: 'by meta' }).default(1),
        nested: z.looseObject({ leaf: text.describe('a nested leaf') }).nullish(),
        list: z
          .array(z.looseObject({ name: text.describe('an element field') }).describe('an element'))
          .nullish()
          .describe('the array'),
        either: z.union([z.string().describe('first member'), z.number()]).nullish(),
      })
      .describe('the record')
    const shape = describedShape(schema)
    expect(shape.description).toBe('the record')
    expect(shapeAt(shape, ['id'])?.description).toBeUndefined()
    expect(shapeAt(shape, ['outer'])?.description).toBe('on the optional wrapper')
    expect(shapeAt(shape, ['inner'])?.description).toBe('on the inner string')
    expect(shapeAt(shape, ['meta'])?.description).toBe('by meta')
    expect(shapeAt(shape, ['nested', 'leaf'])?.description).toBe('a nested leaf')
    expect(shapeAt(shape, ['list'])?.description).toBe('the array')
    expect(shapeAt(shape, ['list'])?.element?.description).toBe('an element')
    expect(shapeAt(shapeAt(shape, ['list'])?.element, ['name'])?.description).toBe(
      'an element field',
    )
    expect(shapeAt(shape, ['either'])?.description).toBe('first member')
    expect(shapeAt(shape, ['missing', 'path'])).toBeUndefined()
  })

  it('leaves the normalization fingerprint alone: a description decides no row', () => {
    const resource = {
      name: 'r',
      primaryKey: 'id',
      recordsPath: [],
      contract: EVOLVE,
    }
    const bare = z.looseObject({ id: z.string(), n: text })
    const described = z.looseObject({ id: z.string(), n: text.describe('n') }).describe('r')
    expect(normalizationFingerprint({ ...resource, schema: described })).toBe(
      normalizationFingerprint({ ...resource, schema: bare }),
    )
  })
})
