/**
 * `customFieldColumns`: the column each custom field definition gets in an enriched view. A
 * column must keep meaning the same field when other definitions come and go: a dashboard
 * reading `cf_<name>` must never silently read another field's values.
 */
import { describe, expect, it } from 'vitest'
import { customFieldColumns } from '../../src/views/custom-field-columns.js'

const columnsOf = (names: readonly string[]) =>
  new Map(
    customFieldColumns(
      names.map((name) => ({ key: name, name })),
      { prefix: 'cf_', taken: ['status'], maxLength: 63 },
    ).map((c) => [c.name, c.column]),
  )

describe('customFieldColumns', () => {
  it('names in a script without Latin letters keep their letters, so a new definition renames no column', () => {
    const before = columnsOf(['優先度', 'Приоритет'])
    const after = columnsOf(['優先度', 'Приоритет', 'カテゴリ', 'Категория'])
    expect(before.get('優先度')).toBe('cf_優先度')
    expect(before.get('Приоритет')).toBe('cf_приоритет')
    for (const [name, column] of before) expect(after.get(name), name).toBe(column)
    expect(new Set(after.values()).size).toBe(4)
    // Latin names (accents folded) are as before.
    expect(columnsOf(['Product Area', 'Réponse client']).get('Réponse client')).toBe(
      'cf_reponse_client',
    )
    expect(columnsOf(['優先度 (P1)']).get('優先度 (P1)')).toBe('cf_優先度_p1')
  })

  it('fits long names in the identifier limit in bytes, at a character boundary', () => {
    const name = '顧客の優先度と重要度の組み合わせによる分類'.repeat(3)
    const column = columnsOf([name]).get(name)!
    expect(Buffer.byteLength(column)).toBeLessThanOrEqual(63)
    expect(column.isWellFormed()).toBe(true)
    expect(column).toMatch(/^cf_顧客の優先度/)
    // Emoji (outside the BMP) are not letters: they go, and no surrogate is cut in half.
    const emoji = `${'😀a'.repeat(40)}`
    const other = columnsOf([emoji]).get(emoji)!
    expect(Buffer.byteLength(other)).toBeLessThanOrEqual(63)
    expect(other.isWellFormed()).toBe(true)
  })
})
