import { DuckDbDestination } from '../../destinations/duckdb/index.js'
import type { DuckDbConfig } from '../../destinations/duckdb/index.js'
import { PostgresDestination } from '../../destinations/postgres/index.js'
import { ConfigError } from '../errors.js'
import { redactor } from '../redactor.js'
import type { Destination } from './destination.js'

/** What building a destination from its string may use besides the string. */
export interface DestinationSettings {
  /** The setting the string came from, named in errors (`THENA_DESTINATION`). */
  readonly field: string
  /** DuckDB's memory limit and spill directory; other destinations ignore them. Default none. */
  readonly duckdb?: Pick<DuckDbConfig, 'memoryLimit' | 'tempDirectory'>
}

/** One kind of destination a `THENA_DESTINATION`-style string can name. */
export interface DestinationEntry {
  /** Whether `url` names this kind of destination (its scheme). */
  readonly test: (url: string) => boolean
  /** Builds the destination; a string of this scheme that is not usable throws a ConfigError. */
  readonly create: (url: string, dataset: string, settings: DestinationSettings) => Destination
  /** How the string is written, for the message that lists them: `` `duckdb:PATH` ``. */
  readonly example: string
}

/** Said of a destination string that is refused: it is never echoed. */
export const NOT_SHOWN = 'the value is not shown, as it may hold a password'

const fail = (field: string, problem: string): never => {
  throw new ConfigError(`${field}: ${problem}`)
}

const DUCKDB: DestinationEntry = {
  test: (url) => url.startsWith('duckdb:'),
  example: '`duckdb:PATH`',
  create: (url, dataset, settings) => {
    const path = url.slice('duckdb:'.length)
    if (path === '')
      fail(settings.field, '`duckdb:` needs a file path, e.g. `duckdb:./thena.duckdb`')
    return new DuckDbDestination({ path, schema: dataset, ...settings.duckdb })
  },
}

const POSTGRES: DestinationEntry = {
  test: (url) => /^postgres(ql)?:/i.test(url),
  example: 'a `postgres://` URL',
  create: (url, dataset, settings) => {
    let parsed: URL | undefined
    try {
      parsed = new URL(url)
    } catch {
      parsed = undefined
    }
    if (
      !/^postgres(ql)?:\/\//i.test(url) ||
      !(parsed?.hostname || parsed?.searchParams.get('host')) ||
      parsed.pathname.length < 2
    )
      fail(
        settings.field,
        `expected \`postgres://USER:PASSWORD@HOST:PORT/DATABASE\`, with @ : / ? # % in the password percent-encoded (${NOT_SHOWN})`,
      )
    return new PostgresDestination({ url: parsed!.href, schema: dataset })
  },
}

const ENTRIES: DestinationEntry[] = [DUCKDB, POSTGRES]

/** Adds a kind of destination; entries are tried in the order they were registered. */
export function registerDestination(entry: DestinationEntry): void {
  ENTRIES.push(entry)
}

/** The kinds of destination known, built-ins first. */
export const destinationEntries = (): readonly DestinationEntry[] => ENTRIES

/** Spellings of a password inside a destination string that may not parse (keyword DSNs too). */
export const PASSWORD_PATTERNS: readonly RegExp[] = [
  /\b(?:ssl)?password\s*=\s*('(?:[^'\\]|\\.)*'|[^\s&]+)/gi,
  /^[a-z][a-z0-9+.-]*:\/*[^:/@\s]*:([^\s]+)@/gi,
]

/** Adds every password a URL or connection string holds, parsed or not, to the redactor. */
export function registerSecretsIn(text: string): void {
  for (const pattern of PASSWORD_PATTERNS)
    for (const match of text.matchAll(pattern)) redactor.add(match[1]!.replace(/^'|'$/g, ''))
  if (!URL.canParse(text)) return
  const url = new URL(text)
  redactor.add(url.password)
  for (const [key, value] of url.searchParams) if (/password/i.test(key)) redactor.add(value)
}

/** `a`, `a or b`, `a, b or c`. */
const alternatives = (items: readonly string[]): string =>
  items.length <= 1
    ? (items[0] ?? '')
    : `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`

/**
 * Builds the destination a `THENA_DESTINATION`-style string names, from the first registered
 * entry whose test it passes. Its passwords are added to the redactor first, and a string that
 * does not parse is described without being echoed.
 */
export function destinationFromUrl(
  url: string,
  dataset: string,
  field = 'destination',
  duckdb: DestinationSettings['duckdb'] = {},
  env: NodeJS.ProcessEnv = process.env,
): Destination {
  registerSecretsIn(url)
  // Without a password in the URL, pg falls back on the libpq variable.
  redactor.add(env.PGPASSWORD)
  const entry = ENTRIES.find((e) => e.test(url))
  if (entry) return entry.create(url, dataset, { field, duckdb })
  const scheme = /^([a-z][a-z0-9+.-]{0,20}):/i.exec(url)?.[1]
  return fail(
    field,
    `expected ${alternatives(ENTRIES.map((e) => e.example))}, got ${scheme ? `a \`${scheme}:\` URL` : 'something else'} (${NOT_SHOWN})`,
  )
}
