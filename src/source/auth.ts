import type { Setting } from '../config/env.js'
import { checkSecret, fail, readSetting } from '../config/read-setting.js'
import { redactor } from '../redactor.js'

/** The kinds of authentication a source's API can declare. */
export const AUTH_TYPES = ['bearer', 'api_key', 'basic', 'none'] as const
export type AuthType = (typeof AUTH_TYPES)[number]

/** `Authorization: Bearer <token>`. */
export interface BearerAuth {
  /** Discriminant. */
  readonly type: 'bearer'
  /** The token, e.g. `env('THENA_API_TOKEN')`. */
  readonly token: Setting
}

/** A key sent in a header (e.g. `x-api-key`) or a query parameter: exactly one of the two. */
export interface ApiKeyAuth {
  /** Discriminant. */
  readonly type: 'api_key'
  /** The key, e.g. `env('THALIAN_API_KEY')`. */
  readonly key: Setting
  /** Header the key goes in, e.g. `x-api-key`. */
  readonly header?: string
  /** Query parameter the key goes in, e.g. `api_key`. */
  readonly query?: string
}

/** `Authorization: Basic base64(username:password)`. */
export interface BasicAuth {
  /** Discriminant. */
  readonly type: 'basic'
  /** The user name (a secret too: it is part of the encoded credentials). */
  readonly username: Setting
  /** The password. */
  readonly password: Setting
}

/** No credentials. */
export interface NoAuth {
  /** Discriminant. */
  readonly type: 'none'
}

/** How a source's requests authenticate. */
export type AuthDeclaration = BearerAuth | ApiKeyAuth | BasicAuth | NoAuth

/** Auth resolved against the environment: what every request carries. */
export interface ResolvedAuth {
  /** Headers added to every request (lower-case names). */
  readonly headers: Readonly<Record<string, string>>
  /** Query parameters added to every request; never shown in a message. */
  readonly query: Readonly<Record<string, string>>
  /** What to check when the API refuses the credentials, e.g. `THENA_API_TOKEN`. */
  readonly describe: string
}

/** Options of `resolveAuth`. */
export interface ResolveAuthOptions {
  /**
   * The config field the declaration sits at, for messages (e.g. `pipelines.x.token` or
   * `source thena: client.auth`).
   */
  readonly field: string
  /** Replaces the declaration's secret (the token, the key, basic's password). Default none. */
  readonly secret?: Setting
  /** The field `secret` was given at, e.g. `pipelines.thena.token`. */
  readonly secretField?: string
  /**
   * False: read no secret (commands that only read the warehouse) and return auth that sends
   * nothing. Default true.
   */
  readonly secrets?: boolean
}

/** Auth that sends nothing (`{ type: 'none' }`, or a resolution without secrets). */
export const NO_AUTH: ResolvedAuth = { headers: {}, query: {}, describe: 'the credentials' }

/** Bearer auth with a token already in hand (tests, the simulator). */
export const bearerAuth = (token: string, describe = 'THENA_API_TOKEN'): ResolvedAuth => {
  redactor.add(token)
  return { headers: { authorization: `Bearer ${token}` }, query: {}, describe }
}

/**
 * Reads and checks the secrets of `auth` (unset variables and bad characters are one-line
 * ConfigErrors naming the variable), registers every form of them with the redactor, and
 * returns what each request carries.
 */
export function resolveAuth(
  auth: AuthDeclaration,
  env: NodeJS.ProcessEnv,
  options: ResolveAuthOptions,
): ResolvedAuth {
  const { field } = options
  const secret = (declared: Setting, name: string) => {
    const value = options.secret
      ? readSetting(options.secret, options.secretField ?? `${field}.${name}`, env)
      : readSetting(declared, `${field}.${name}`, env)
    redactor.add(value.value)
    return { value: checkSecret(value), field: value.field }
  }
  switch (auth.type) {
    case 'none':
      return NO_AUTH
    case 'bearer': {
      if (options.secrets === false) return NO_AUTH
      const token = secret(auth.token, 'token')
      return {
        headers: { authorization: `Bearer ${token.value}` },
        query: {},
        describe: token.field,
      }
    }
    case 'api_key': {
      const header = auth.header?.trim()
      const query = auth.query?.trim()
      if (!header === !query)
        fail(field, 'an api_key auth needs exactly one of `header` (e.g. `x-api-key`) or `query`')
      if (header && !/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(header))
        fail(`${field}.header`, `expected a header name such as \`x-api-key\`, got \`${header}\``)
      if (options.secrets === false) return NO_AUTH
      const key = secret(auth.key, 'key')
      return header
        ? { headers: { [header.toLowerCase()]: key.value }, query: {}, describe: key.field }
        : { headers: {}, query: { [query!]: key.value }, describe: key.field }
    }
    case 'basic': {
      if (options.secrets === false) return NO_AUTH
      // The user name alone is not a secret (redacting `admin` everywhere would mangle logs).
      const username = readSetting(auth.username, `${field}.username`, env)
      checkSecret(username)
      if (username.value.includes(':'))
        fail(username.field, 'contains `:`, which basic auth cannot send in a user name')
      const password = secret(auth.password, 'password')
      const pair = `${username.value}:${password.value}`
      const encoded = Buffer.from(pair).toString('base64')
      redactor.add(pair)
      redactor.add(encoded)
      return {
        headers: { authorization: `Basic ${encoded}` },
        query: {},
        describe: `${username.field} and ${password.field}`,
      }
    }
    default:
      return fail(
        `${field}.type`,
        `expected one of ${AUTH_TYPES.join(', ')}, got \`${String((auth as { type?: unknown }).type)}\``,
      )
  }
}
