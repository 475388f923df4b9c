import { describe, expect, it } from 'vitest'
import { pathName, shortenIdentifier, snakeCase } from '../../src/normalize/naming.js'
import { SchemaRegistry } from '../../src/normalize/schema-registry.js'

describe('identifiers', () => {
  it('snake_cases keys: camelCase, accents, punctuation, leading digits, empty', () => {
    expect(snakeCase('userDefinedTags')).toBe('user_defined_tags')
    expect(snakeCase('urgencySource')).toBe('urgency_source')
    expect(snakeCase('HTTPStatus')).toBe('http_status')
    expect(snakeCase('Réponse client')).toBe('reponse_client')
    expect(snakeCase('weird key.with dot')).toBe('weird_key_with_dot')
    expect(snakeCase('42nd')).toBe('_42nd')
    expect(snakeCase('🙂')).toBe('field')
    expect(pathName(['sla_metrics', 'first_response_sla', 'is_breached'])).toBe(
      'sla_metrics__first_response_sla__is_breached',
    )
  })

  it('shortens long names deterministically, keeping distinct names distinct', () => {
    const a = `${'very_long_segment_'.repeat(5)}alpha`
    const b = `${'very_long_segment_'.repeat(5)}beta`
    expect(Buffer.byteLength(shortenIdentifier(a, 63))).toBeLessThanOrEqual(63)
    expect(shortenIdentifier(a, 63)).toBe(shortenIdentifier(a, 63))
    expect(shortenIdentifier(a, 63)).not.toBe(shortenIdentifier(b, 63))
    expect(shortenIdentifier('short', 63)).toBe('short')
    // The limit is in bytes: a name of multi-byte characters is cut to fit, between characters.
    for (const long of ['é'.repeat(40), '優先度'.repeat(20), '😀'.repeat(30)]) {
      const short = shortenIdentifier(long, 63)
      expect(Buffer.byteLength(short), long).toBeLessThanOrEqual(63)
      expect(short.isWellFormed()).toBe(true)
      expect(long.startsWith(short.slice(0, -9))).toBe(true)
    }
  })

  it('two source paths that normalize alike get distinct columns, the same on every run', () => {
    const build = () => {
      const registry = new SchemaRegistry({ maxIdentifierLength: 63 })
      const table = registry.rootTable('requests', 'id')
      const first = registry.column(table, ['fooBar'], 'text').name
      const second = registry.column(table, ['foo_bar'], 'text').name
      const reserved = registry.column(table, ['_thena_load_id'], 'text').name
      return [first, second, reserved]
    }
    const names = build()
    expect(names[0]).toBe('foo_bar')
    expect(names[1]).not.toBe(names[0])
    expect(names[2]).not.toBe('_thena_load_id')
    expect(build()).toEqual(names)
  })

  it('a clashing type gets a variant column; an existing schema is reused as stored', () => {
    const registry = new SchemaRegistry({ maxIdentifierLength: 63 })
    const table = registry.rootTable('requests', 'id')
    expect(registry.column(table, ['csat'], 'bigint').name).toBe('csat')
    expect(registry.column(table, ['csat'], 'text')).toMatchObject({
      name: 'csat__v_text',
      variantOf: 'csat',
    })
    const changes = registry.takeChanges()
    expect(changes.map((c) => c.kind)).toEqual(['create_table'])
    const again = new SchemaRegistry({ maxIdentifierLength: 63 }, registry.tables)
    expect(again.column(again.table('requests')!, ['csat'], 'text').name).toBe('csat__v_text')
    expect(again.takeChanges()).toEqual([])
  })
})
