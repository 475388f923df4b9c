import { html, raw } from './html.js'
import type { Html } from './html.js'

/** The pages of `show`, in the order of its navigation bar. */
export const SHOW_PAGES = [
  { path: '/', label: 'Overview' },
  { path: '/runs', label: 'Runs' },
  { path: '/resource', label: 'Resources' },
  { path: '/rejects', label: 'Rejects' },
  { path: '/data', label: 'Data' },
  { path: '/charts', label: 'Charts' },
] as const
export type ShowPath = (typeof SHOW_PAGES)[number]['path']

/** What a page handler returns: its title, body, and how often the browser reloads it. */
export interface Page {
  readonly title: string
  readonly body: Html
  /** Seconds after which the page reloads itself (a run in progress, a busy file); none by default. */
  readonly refreshSeconds?: number
  /** HTTP status; default 200. */
  readonly status?: number
  /** Whether the page draws charts (loads Chart.js); default false. */
  readonly charts?: boolean
}

// System fonts only: no web font is fetched.
const CSS = `
:root { color-scheme: light; --fg: #1d2430; --muted: #5b6575; --line: #d9dee7; --accent: #2456c8;
  --bad: #b42318; --ok: #12724a; --warn: #9a6700; --bg: #f6f7f9; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: var(--fg); background: var(--bg); }
header { background: #15213b; color: #fff; padding: 10px 20px; display: flex; gap: 24px;
  align-items: center; flex-wrap: wrap; }
header .brand { font-weight: 600; }
header nav a { color: #c9d6f5; margin-right: 14px; text-decoration: none; }
header nav a.current { color: #fff; border-bottom: 2px solid #fff; }
main { padding: 16px 20px 40px; max-width: 1400px; }
h1 { font-size: 20px; margin: 4px 0 12px; }
h2 { font-size: 16px; margin: 22px 0 8px; }
h3 { font-size: 14px; margin: 16px 0 6px; }
.scroll { overflow-x: auto; background: #fff; border: 1px solid var(--line); border-radius: 6px; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 5px 9px; border-bottom: 1px solid var(--line);
  vertical-align: top; white-space: nowrap; max-width: 480px; overflow: hidden;
  text-overflow: ellipsis; }
th { background: #eef1f6; font-weight: 600; position: sticky; top: 0; }
tr:last-child td { border-bottom: 0; }
.status-success { color: var(--ok); font-weight: 600; }
.status-failed, .status-aborted, .status-stale { color: var(--bad); font-weight: 600; }
.status-running, .status-interrupted { color: var(--warn); font-weight: 600; }
.notice { padding: 10px 14px; border-radius: 6px; background: #fff4d6; border: 1px solid #e9c46a;
  margin: 8px 0 14px; }
.error { padding: 10px 14px; border-radius: 6px; background: #fde8e7; border: 1px solid #f1a39c;
  margin: 8px 0 14px; white-space: pre-wrap; }
.empty, .muted { color: var(--muted); }
.cards { display: flex; gap: 12px; flex-wrap: wrap; margin: 8px 0 4px; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 8px 14px;
  min-width: 150px; }
.card .label { color: var(--muted); font-size: 12px; }
.card .value { font-size: 17px; font-weight: 600; }
pre { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 10px;
  overflow: auto; max-height: 420px; margin: 4px 0 12px; }
textarea { width: 100%; min-height: 90px; font: 13px ui-monospace, Menlo, Consolas, monospace;
  padding: 8px; }
button { margin-top: 6px; padding: 5px 14px; }
.pipelines a { margin-right: 10px; }
.chart { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 10px;
  height: 320px; margin: 6px 0 10px; }
details { margin: 6px 0; }
summary { cursor: pointer; font-weight: 600; }
a { color: var(--accent); }
`

/** The whole HTML document of `page`, with `current` marked in the navigation. */
export function layout(page: Page, current: ShowPath, query: string): string {
  const nav = SHOW_PAGES.map(
    (p) =>
      html`<a href="${p.path}${query}" ${raw(p.path === current ? ' class="current"' : '')}
        >${p.label}</a
      >`,
  )
  const refresh =
    page.refreshSeconds === undefined
      ? ''
      : html`<meta http-equiv="refresh" content="${page.refreshSeconds}" />`
  const scripts = page.charts
    ? html`<script src="/assets/chart.umd.min.js"></script>
        <script src="/assets/show.js"></script>`
    : ''
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        ${refresh}
        <title>${page.title} · thena-sync</title>
        <style>
          ${raw(CSS)}
        </style>
      </head>
      <body>
        <header>
          <span class="brand">thena-sync</span>
          <nav>${nav}</nav>
        </header>
        <main>${page.body}</main>
        ${scripts}
      </body>
    </html>`.html
}
