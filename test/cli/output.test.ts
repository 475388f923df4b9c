/**
 * Values from the API reach the terminal through `formatRows`: in table and JSON output no
 * control character gets through raw (an ANSI colour, an OSC 8 hyperlink, a bell, a carriage
 * return, the one-character CSI U+009B, a bidi override); CSV keeps the data exact.
 */
import { describe, expect, it } from 'vitest'
import { formatRows } from '../../src/cli/output.js'

const HOSTILE = {
  colour: '\u001b[31mred\u001b[0m',
  link: '\u001b]8;;https://evil.example\u0007click\u001b]8;;\u0007',
  bell: 'ding\u0007',
  overwrite: 'paid\rUNPAID',
  csi: '\u009b2J',
  bidi: 'abc\u202edef',
  lines: 'one\ntwo\tthree\u007f',
}
const result = {
  columns: ['\u001b[1mname', 'value'],
  rows: Object.entries(HOSTILE).map(([name, value]) => ({ '\u001b[1mname': name, value })),
}

// Every character a terminal may act on, bar the line breaks the formats themselves write.
// eslint-disable-next-line no-control-regex -- control characters are what it looks for
const RAW_CONTROL = /[\u0000-\u0009\u000b\u000c\u000e-\u001f\u007f-\u009f\u202a-\u202e]/

describe('formatRows', () => {
  it('table output shows every control character as a visible escape, one line per row', () => {
    const table = formatRows(result, 'table')
    expect(table).not.toMatch(RAW_CONTROL)
    expect(table).not.toContain('\r')
    for (const text of [
      '\\x1b[31mred\\x1b[0m',
      '\\x1b]8;;https://evil.example\\x07click\\x1b]8;;\\x07',
      'ding\\x07',
      'paid\\rUNPAID',
      '\\u009b2J',
      'abc\\u202edef',
      'one\\ntwo\\tthree\\x7f',
      '\\x1b[1mname',
    ])
      expect(table).toContain(text)
    // A header, a rule, seven rows, two borders and the count: nothing split a row.
    expect(table.split('\n')).toHaveLength(2 + 1 + 7 + 1 + 1)
  })

  it('JSON output escapes what JSON.stringify leaves raw; CSV, for programs, stays exact', () => {
    const json = formatRows(result, 'json')
    expect(json).not.toMatch(RAW_CONTROL)
    expect(json).toContain('"\\u009b2J"')
    expect(JSON.parse(json)).toEqual(result.rows)
    const csv = formatRows(result, 'csv')
    expect(csv).toContain(HOSTILE.colour)
    expect(csv).toContain(HOSTILE.csi)
    expect(csv).toContain(`"${HOSTILE.overwrite}"`)
  })
})
