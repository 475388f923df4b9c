import { describe, expect, it } from 'vitest'
import { env } from '../../src/config/env.js'
import { Redactor, redactor } from '../../src/redactor.js'
import { resolveAuth } from '../../src/source/auth.js'
import type { AuthDeclaration, ResolvedAuth } from '../../src/source/auth.js'

const field = 'source s: client.auth'
const b64 = (text: string) => Buffer.from(text).toString('base64')

describe('resolveAuth: each kind -> what every request carries', () => {
  for (const [kind, auth, vars, expected] of [
    [
      'bearer from a variable',
      { type: 'bearer', token: env('THENA_API_TOKEN') },
      { THENA_API_TOKEN: 'tok-bearer-1' },
      { headers: { authorization: 'Bearer tok-bearer-1' }, query: {}, describe: 'THENA_API_TOKEN' },
    ],
    [
      'bearer literal',
      { type: 'bearer', token: 'tok-literal-2' },
      {},
      {
        headers: { authorization: 'Bearer tok-literal-2' },
        query: {},
        describe: `${field}.token`,
      },
    ],
    [
      'api_key in a header (name lower-cased)',
      { type: 'api_key', key: env('THALIAN_API_KEY'), header: 'X-Api-Key' },
      { THALIAN_API_KEY: 'key-header-3' },
      { headers: { 'x-api-key': 'key-header-3' }, query: {}, describe: 'THALIAN_API_KEY' },
    ],
    [
      'api_key in the query',
      { type: 'api_key', key: env('THALIAN_API_KEY'), query: 'api_key' },
      { THALIAN_API_KEY: 'key-query-4' },
      { headers: {}, query: { api_key: 'key-query-4' }, describe: 'THALIAN_API_KEY' },
    ],
    [
      'basic',
      { type: 'basic', username: env('B_USER'), password: env('B_PASS') },
      { B_USER: 'ann', B_PASS: 'pass-word-5' },
      {
        headers: { authorization: `Basic ${b64('ann:pass-word-5')}` },
        query: {},
        describe: 'B_USER and B_PASS',
      },
    ],
    ['none', { type: 'none' }, {}, { headers: {}, query: {}, describe: 'the credentials' }],
  ] as [string, AuthDeclaration, NodeJS.ProcessEnv, ResolvedAuth][]) {
    it(kind, () => {
      expect(resolveAuth(auth, vars, { field })).toEqual(expected)
    })
  }
})

describe('every secret form is registered with the redactor', () => {
  for (const [kind, auth, vars, secrets] of [
    ['bearer', { type: 'bearer', token: env('T') }, { T: 'sec-bearer-a1' }, ['sec-bearer-a1']],
    [
      'api_key',
      { type: 'api_key', key: env('K'), query: 'k' },
      { K: 'sec-key/a2+' },
      ['sec-key/a2+', encodeURIComponent('sec-key/a2+')],
    ],
    [
      'basic: the password, the pair, and its base64',
      { type: 'basic', username: 'someone', password: env('P') },
      { P: 'sec-pass-a3' },
      ['sec-pass-a3', 'someone:sec-pass-a3', b64('someone:sec-pass-a3')],
    ],
  ] as [string, AuthDeclaration, NodeJS.ProcessEnv, string[]][]) {
    it(kind, () => {
      resolveAuth(auth, vars, { field })
      for (const secret of secrets)
        expect(redactor.redact(`before ${secret} after`)).toBe('before *** after')
    })
  }

  it('the user name alone is not redacted (it would mangle ordinary text)', () => {
    resolveAuth({ type: 'basic', username: 'admin', password: 'sec-pass-a4' }, {}, { field })
    expect(redactor.redact('the admin user')).toBe('the admin user')
  })

  it('a fresh redactor knows nothing (the assertions above are not vacuous)', () => {
    expect(new Redactor().redact('sec-bearer-a1')).toBe('sec-bearer-a1')
  })
})

describe('bad secrets and declarations: one-line errors naming the variable', () => {
  for (const [what, auth, vars, message] of [
    [
      'an unset variable',
      { type: 'api_key', key: env('THALIAN_API_KEY'), header: 'x-api-key' },
      {},
      `THALIAN_API_KEY: is not set (${field}.key reads it): export THALIAN_API_KEY=...`,
    ],
    [
      'a line break',
      { type: 'bearer', token: env('T') },
      { T: 'abc\r\n' },
      'T: contains a line break or another control character; copy the token again without it',
    ],
    [
      'a non-ASCII character',
      { type: 'basic', username: 'u', password: env('P') },
      { P: 'sim\u2011pass' },
      'P: contains U+2011, which a token cannot hold (it is ASCII); copy the token again without it',
    ],
    ['a blank secret', { type: 'bearer', token: env('T') }, { T: '   ' }, 'T: is empty'],
    [
      'a colon in a basic user name',
      { type: 'basic', username: env('U'), password: 'p-1234' },
      { U: 'a:b' },
      'U: contains `:`, which basic auth cannot send in a user name',
    ],
    [
      'an api_key with both header and query',
      { type: 'api_key', key: 'k-1234', header: 'x-api-key', query: 'k' },
      {},
      `${field}: an api_key auth needs exactly one of \`header\` (e.g. \`x-api-key\`) or \`query\``,
    ],
    [
      'an api_key with neither',
      { type: 'api_key', key: 'k-1234' },
      {},
      `${field}: an api_key auth needs exactly one of \`header\` (e.g. \`x-api-key\`) or \`query\``,
    ],
    [
      'an unknown type',
      { type: 'oauth' } as unknown as AuthDeclaration,
      {},
      `${field}.type: expected one of bearer, api_key, basic, none, got \`oauth\``,
    ],
  ] as [string, AuthDeclaration, NodeJS.ProcessEnv, string][]) {
    it(what, () => {
      expect(() => resolveAuth(auth, vars, { field })).toThrow(message)
      try {
        resolveAuth(auth, vars, { field })
      } catch (error) {
        expect((error as Error).message).toBe(message)
        expect((error as { code?: string }).code).toBe('config_invalid')
      }
    })
  }
})

describe('overrides and read-only resolution', () => {
  it("a pipeline's secret replaces the declared one and is reported under its field", () => {
    const auth: AuthDeclaration = { type: 'api_key', key: env('THALIAN_API_KEY'), header: 'x-k' }
    expect(
      resolveAuth(
        auth,
        { MINE: 'mine-key-1' },
        { field, secret: env('MINE'), secretField: 'p.token' },
      ),
    ).toEqual({ headers: { 'x-k': 'mine-key-1' }, query: {}, describe: 'MINE' })
    expect(() =>
      resolveAuth(auth, {}, { field, secret: env('MINE'), secretField: 'pipelines.x.token' }),
    ).toThrow('MINE: is not set (pipelines.x.token reads it)')
  })

  it('secrets: false reads no variable and sends nothing', () => {
    for (const auth of [
      { type: 'bearer', token: env('UNSET_T') },
      { type: 'api_key', key: env('UNSET_K'), query: 'k' },
      { type: 'basic', username: env('UNSET_U'), password: env('UNSET_P') },
    ] as AuthDeclaration[])
      expect(resolveAuth(auth, {}, { field, secrets: false })).toEqual({
        headers: {},
        query: {},
        describe: 'the credentials',
      })
  })
})

describe('state documents', () => {
  it('hold no registered secret, whatever an API put in a position', async () => {
    const { stateText } = await import('../../src/load/json-text.js')
    const { redactor } = await import('../../src/redactor.js')
    redactor.add('sk_live_in_a_next_link_42')
    const text = stateText({ position: { url: '/items?page=3&api_key=sk_live_in_a_next_link_42' } })
    expect(text).not.toContain('sk_live_in_a_next_link_42')
    expect(text).toContain('api_key=***')
  })
})
