/**
 * HTML building blocks of `show`: every value placed in a page goes through `escapeHtml` (record
 * content is hostile: markup, quotes, huge strings), table cells are cut to a readable length.
 */

/** Longest text a table cell shows, in characters; the rest is cut with `…`. */
export const MAX_CELL_CHARS = 200

/** Longest raw record the rejects page shows, in characters (pretty-printed). */
export const MAX_RAW_CHARS = 20_000

const ENTITIES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
}

/** `text` safe inside an HTML element or a quoted attribute value. */
export const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => ENTITIES[c]!)

/**
 * Text already escaped (or built only from escaped parts): placed in a page as it is. A class,
 * not a shape: a value read from the warehouse (a struct `{html: ...}`) is never taken for one.
 */
export class Html {
  constructor(readonly html: string) {}
}

/** Marks trusted markup; everything else interpolated by `html` is escaped. */
export const raw = (markup: string): Html => new Html(markup)

const isHtml = (value: unknown): value is Html => value instanceof Html

/** Any value as display text: null as empty, objects as JSON, the rest as `String`. */
export const displayText = (value: unknown): string =>
  value === null || value === undefined
    ? ''
    : typeof value === 'object'
      ? JSON.stringify(value)
      : String(value)

/** `text` cut to `max` characters (by code point), with `…` when cut. */
export const truncate = (text: string, max = MAX_CELL_CHARS): string => {
  const chars = [...text.slice(0, max * 2)]
  return chars.length > max || text.length > max * 2 ? `${chars.slice(0, max).join('')}…` : text
}

function part(value: unknown): string {
  if (Array.isArray(value)) return value.map(part).join('')
  if (isHtml(value)) return value.html
  if (value === false || value === null || value === undefined) return ''
  return escapeHtml(displayText(value))
}

/**
 * Tagged template for markup: interpolated values are escaped unless they are `Html` (from
 * `raw` or another `html`); arrays are joined; `false`, null and undefined leave nothing.
 */
export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0]!
  for (let i = 0; i < values.length; i++) out += part(values[i]) + strings[i + 1]!
  return raw(out)
}

/**
 * A table of `rows` under `columns`, each cell escaped and cut to `MAX_CELL_CHARS` (the full
 * text in its title when cut); cells that are `Html` go in as they are.
 */
export function htmlTable(
  columns: readonly string[],
  rows: readonly Readonly<Record<string, unknown>>[],
  options: { readonly id?: string; readonly empty?: string } = {},
): Html {
  if (rows.length === 0) return html`<p class="empty">${options.empty ?? 'Nothing yet.'}</p>`
  const cell = (value: unknown) => {
    if (isHtml(value)) return html`<td>${value}</td>`
    const text = displayText(value)
    const shown = truncate(text)
    return shown === text
      ? html`<td>${text}</td>`
      : html`<td title="${truncate(text, MAX_RAW_CHARS)}">${shown}</td>`
  }
  return html`<div class="scroll"><table${options.id ? raw(` id="${escapeHtml(options.id)}"`) : ''}>
<thead><tr>${columns.map((c) => html`<th>${c}</th>`)}</tr></thead>
<tbody>${rows.map(
    (r) =>
      html`<tr>
        ${columns.map((c) => cell(r[c]))}
      </tr> `,
  )}</tbody>
</table></div>`
}

/**
 * Data for a chart, as a JSON script element the page's script reads: `<` is escaped so that no
 * value can end the element.
 */
export const chartData = (id: string, data: unknown): Html =>
  raw(
    `<script type="application/json" id="${escapeHtml(id)}">${JSON.stringify(data)
      .replace(/</g, '\\u003c')
      .replace(/\u2028/g, '\\u2028')
      .replace(/\u2029/g, '\\u2029')}</script>`,
  )
