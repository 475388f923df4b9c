/**
 * The YAML writer of `schema --dbt`: whatever a string holds (quotes, colons, `#`, line breaks,
 * control characters, any Unicode), a YAML parser reads back exactly the values written; PyYAML
 * too (dbt's parser).
 */
import { describe, expect, it } from 'vitest'
import { yamlComment, yamlString, yamlText } from '../../src/cli/yaml-text.js'
import type { YamlValue } from '../../src/cli/yaml-text.js'
import { parsePyYaml, parseYaml } from '../helpers/parse-yaml.js'

const HOSTILE = [
  '',
  ' ',
  'plain',
  'a"b',
  "it's",
  'key: value',
  '# not a comment',
  'a #b',
  '- item',
  '[1, 2]',
  '{a: 1}',
  'line\nbreak',
  'cr\r\nlf',
  'tab\there',
  'back\\slash',
  '\\n literally',
  'yes',
  'no',
  'null',
  '~',
  '0123',
  '1e3',
  '@at',
  '`tick`',
  '&anchor',
  '*alias',
  '!tag',
  '%directive',
  '|',
  '>',
  '---',
  '...',
  ' leading and trailing ',
  'nul\0byte',
  'bell\x07del\x7f',
  'nel\u0085ls\u2028ps\u2029',
  'bom\ufeff',
  'émoji 😀 中文 עברית',
  '{{ source("a", "b") }}',
]

const SAMPLE: YamlValue = {
  version: 2,
  strings: HOSTILE,
  keyed: Object.fromEntries(HOSTILE.filter((s) => s !== '').map((s) => [s, s])),
  nested: [{ name: 'a: "b"', list: [[1, 'x'], [], {}] }, ['inner', { k: null }]],
  flags: [true, false, null, 0, -1.5],
}

describe('yamlText', () => {
  it('writes values a YAML parser reads back exactly, hostile strings as keys and values', async () => {
    const text = yamlText(SAMPLE, 'a comment\nwith a second line: # and "quotes"')
    expect(parseYaml(text)).toEqual(SAMPLE)
    expect(text.startsWith('# a comment\n# with a second line: # and "quotes"\n')).toBe(true)
  })

  it('is read back exactly by PyYAML, the parser dbt uses', () => {
    expect(parsePyYaml(yamlText(SAMPLE))).toEqual(SAMPLE)
  })

  it('escapes what YAML 1.1 reads as a line break or cannot hold raw; a lone surrogate becomes U+FFFD', () => {
    expect(yamlString('a\u0085b\u2028c')).toBe('"a\\x85b\\u2028c"')
    expect(yamlString('x\uD800y')).toBe('"x\uFFFDy"')
    expect(yamlComment('one\ntwo\u0007')).toBe('# one\n# two?')
  })
})
