/**
 * A value `yamlText` writes: text, a finite number, a boolean, null, a list, or a map whose
 * keys keep their order (an `undefined` entry is left out).
 */
export type YamlValue =
  | string
  | number
  | boolean
  | null
  | readonly YamlValue[]
  | { readonly [key: string]: YamlValue | undefined }

// Words YAML 1.1 (PyYAML, which dbt uses) reads as booleans or null when left unquoted.
const RESERVED = /^(?:y|n|yes|no|on|off|true|false|null|~)$/i
const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/

/**
 * Whether a code point may stand as itself in a double-quoted scalar: YAML's printable set,
 * without what YAML 1.1 reads as a line break (U+0085, U+2028, U+2029) or a byte-order mark.
 */
const printable = (c: number): boolean =>
  (c >= 0x20 && c <= 0x7e) ||
  (c >= 0xa0 && c <= 0xd7ff && c !== 0x2028 && c !== 0x2029) ||
  (c >= 0xe000 && c <= 0xfffd && c !== 0xfeff) ||
  c >= 0x10000

const hex = (c: number, digits: number): string =>
  c.toString(16).toUpperCase().padStart(digits, '0')

const ESCAPES: Readonly<Record<string, string>> = {
  '"': '\\"',
  '\\': '\\\\',
  '\n': '\\n',
  '\t': '\\t',
  '\r': '\\r',
  '\0': '\\0',
}

/**
 * `text` as a YAML double-quoted scalar that every YAML 1.1 and 1.2 parser reads back as
 * exactly `text`: quotes, backslashes, line breaks and every non-printable character escaped.
 * A lone UTF-16 surrogate (no Unicode character) becomes U+FFFD.
 */
export function yamlString(text: string): string {
  let out = '"'
  for (const ch of text) {
    const c = ch.codePointAt(0)!
    const escape = ESCAPES[ch]
    if (escape !== undefined) out += escape
    else if (c >= 0xd800 && c <= 0xdfff) out += '\uFFFD'
    else if (printable(c)) out += ch
    else out += c <= 0xff ? `\\x${hex(c, 2)}` : c <= 0xffff ? `\\u${hex(c, 4)}` : `\\U${hex(c, 8)}`
  }
  return `${out}"`
}

const key = (name: string): string =>
  PLAIN_KEY.test(name) && !RESERVED.test(name) ? name : yamlString(name)

const isList = (value: YamlValue): value is readonly YamlValue[] => Array.isArray(value)

const entriesOf = (map: { readonly [key: string]: YamlValue | undefined }) =>
  Object.entries(map).filter((e): e is [string, YamlValue] => e[1] !== undefined)

/** The value on one line, or undefined for a non-empty list or map (written as a block). */
function inline(value: YamlValue): string | undefined {
  if (value === null) return 'null'
  if (typeof value === 'string') return yamlString(value)
  if (typeof value === 'boolean') return value ? 'true' : 'false'
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new RangeError(`yamlText: ${value} is not a finite number`)
    return String(value)
  }
  if (isList(value)) return value.length === 0 ? '[]' : undefined
  return entriesOf(value).length === 0 ? '{}' : undefined
}

function block(value: YamlValue, indent: number): string[] {
  const pad = ' '.repeat(indent)
  const lines: string[] = []
  if (isList(value)) {
    for (const item of value) {
      const one = inline(item)
      if (one !== undefined) lines.push(`${pad}- ${one}`)
      else if (isList(item)) lines.push(`${pad}-`, ...block(item, indent + 2))
      else {
        // A map in a list: its first key on the dash's line, the others under it.
        const [first, ...rest] = block(item, indent + 2)
        lines.push(`${pad}- ${first!.slice(indent + 2)}`, ...rest)
      }
    }
    return lines
  }
  if (typeof value !== 'object' || value === null) return [`${pad}${inline(value)!}`]
  for (const [name, item] of entriesOf(value)) {
    const one = inline(item)
    if (one !== undefined) lines.push(`${pad}${key(name)}: ${one}`)
    else lines.push(`${pad}${key(name)}:`, ...block(item, indent + 2))
  }
  return lines
}

/**
 * YAML comment lines for `text`: one `# ` line per line of it, non-printable characters as
 * `?` (a comment has no escapes).
 */
export function yamlComment(text: string): string {
  return text
    .split(/\r\n|[\n\r\u0085\u2028\u2029]/)
    .map((line) => {
      let out = ''
      for (const ch of line) out += printable(ch.codePointAt(0)!) || ch === '\t' ? ch : '?'
      return `# ${out}`.trimEnd()
    })
    .join('\n')
}

/**
 * The YAML text of `value` in block style, ending with a newline: every string double-quoted
 * (see `yamlString`), keys plain when they are identifiers YAML cannot misread, else quoted.
 * `comment` (default none) goes first, as comment lines.
 */
export function yamlText(value: YamlValue, comment?: string): string {
  const head = comment === undefined ? [] : [yamlComment(comment)]
  const one = inline(value)
  return [...head, ...(one !== undefined ? [one] : block(value, 0))].join('\n') + '\n'
}
