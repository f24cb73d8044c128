/**
 * The openid-connect config as the loader checks it: defaults, and each mistake reported as exactly one
 * `FILE: path: message` line (in-process) — the single-issuer and `issuers` forms, claim mappings,
 * attribute headers, DPoP settings; an anonymous consumer that does not exist refuses to start.
 */
import assert from 'node:assert/strict'
import { rmSync } from 'node:fs'
import { describe, it } from 'node:test'
import { FILE, load, problems, withService } from '../../../test/harness/config.ts'
import { runCli, writeTempConfig } from '../../../test/harness/gatehouse.ts'

const BASE = { issuer: 'https://id.shop.example', audience: 'https://api.shop.example' }
const AT = `${FILE}: services[0].plugins[0].config`
const HS_REFUSED =
  'is refused: an HMAC key is shared, so anyone who can verify could also mint tokens, and a JWKS publishes public keys only'
const HTTPS_ONLY = 'must use https (plain http is allowed only for localhost, 127.0.0.1 and [::1])'

function withPlugin(config: object): string {
  return withService(`  plugins:\n  - name: openid-connect\n    config: ${JSON.stringify(config)}\n`)
}

describe('openid-connect configuration', () => {
  it('fills in every default around the two required keys', () => {
    assert.deepEqual(load(withPlugin(BASE)).plugins[0]!.config, {
      ...BASE,
      algorithms: ['ES256', 'RS256'],
      token_types: ['at+jwt', 'application/at+jwt'],
      leeway: 5,
      consumer_claim: 'sub',
      jwks_cache: { cooldown: 30, max_age: 600, timeout: 5, stale_ttl: 86_400 },
      required_scopes: [],
      run_on_preflight: true,
      hide_credentials: false,
      realm: 'gatehouse',
      verbose_errors: false,
      dpop: {
        required: false,
        algorithms: ['ES256', 'EdDSA', 'RS256', 'PS256'],
        max_age: 60,
        leeway: 5,
        replay: 'memory',
        replay_fault_tolerant: false,
      },
    })
  })

  it('takes a step-up requirement, and names what is wrong with one', () => {
    const require = { amr: ['mfa'], max_age: 600 }
    const config = load(withPlugin({ ...BASE, require })).plugins[0]!.config as { require?: unknown }
    assert.deepEqual(config.require, require)
    assert.deepEqual(problems(withPlugin({ ...BASE, require: {} })), [
      `${AT}.require: must set at least one of acr, amr, max_age`,
    ])
    assert.deepEqual(problems(withPlugin({ ...BASE, require: { amr: ['m"fa'] } })), [
      `${AT}.require.amr[0]: must be an amr value: printable ASCII, no spaces or quotes`,
    ])
    assert.equal(problems(withPlugin({ ...BASE, require: { max_age: -1 } })).length, 1)
    assert.equal(problems(withPlugin({ ...BASE, require: { acr: [] } })).length, 1)
    assert.equal(problems(withPlugin({ ...BASE, require: { amr: ['mfa'], level: 2 } })).length, 1)
  })

  it('refuses proofs remembered in Redis without the top-level redis section, naming the key', () => {
    assert.deepEqual(problems(withPlugin({ ...BASE, dpop: { replay: 'redis' } })), [
      `${AT}.dpop.replay: 'redis' needs a Redis server: add the top-level \`redis\` section (shared by every plugin)`,
    ])
  })

  it('requires the issuer and the audience', () => {
    assert.deepEqual(problems(withPlugin({})), [
      `${AT}.issuer: is required (or issuers, a list of issuers)`,
      `${AT}.audience: is required`,
    ])
    assert.deepEqual(problems(withPlugin({ ...BASE, audience: '' })), [`${AT}.audience: must not be empty`])
  })

  it('refuses none and HS* algorithms at load, saying why, and names the others it knows', () => {
    assert.deepEqual(
      problems(withPlugin({ ...BASE, algorithms: ['none', 'HS256', 'hs512', 'XS1', 'ES256'] })),
      [
        `${AT}.algorithms[0]: none is refused: an unsigned token proves nothing (RFC 8725 §3.2)`,
        `${AT}.algorithms[1]: HS256 ${HS_REFUSED}`,
        `${AT}.algorithms[2]: hs512 ${HS_REFUSED}`,
        `${AT}.algorithms[3]: expected one of ES256, ES384, ES512, RS256, RS384, RS512, PS256, PS384, PS512, EdDSA, Ed25519`,
      ],
    )
    assert.deepEqual(problems(withPlugin({ ...BASE, algorithms: [] })), [
      `${AT}.algorithms: must name at least one algorithm`,
    ])
  })

  it('takes keys and metadata only over https, or http on loopback', () => {
    assert.deepEqual(
      problems(withPlugin({ ...BASE, issuer: 'http://id.shop.example', jwks_uri: 'ftp://x/jwks' })),
      [`${AT}.issuer: ${HTTPS_ONLY}`, `${AT}.jwks_uri: expected an http(s) URL`],
    )
    assert.deepEqual(problems(withPlugin({ ...BASE, jwks_uri: 'http://keys.shop.example/jwks' })), [
      `${AT}.jwks_uri: ${HTTPS_ONLY}`,
    ])
    for (const issuer of ['http://localhost:8000/auth', 'http://127.0.0.1:9000', 'http://[::1]:9000'])
      assert.equal(load(withPlugin({ ...BASE, issuer, jwks_uri: `${issuer}/jwks` })).plugins.length, 1)
  })

  it('refuses an issuer with a query or fragment, or that is not a URL', () => {
    assert.deepEqual(problems(withPlugin({ ...BASE, issuer: 'https://id.shop.example?x=1#f' })), [
      `${AT}.issuer: must not contain a fragment`,
      `${AT}.issuer: must not contain a query (OpenID Connect Discovery §4)`,
    ])
    assert.deepEqual(problems(withPlugin({ ...BASE, issuer: 'not a url' })), [
      `${AT}.issuer: expected an http(s) URL`,
    ])
  })

  it('bounds leeway to 0..60 s and max_token_age to at least 1 s', () => {
    assert.deepEqual(problems(withPlugin({ ...BASE, leeway: 61, max_token_age: 0 })), [
      `${AT}.leeway: expected number to be <=60`,
      `${AT}.max_token_age: expected number to be >=1`,
    ])
  })

  it('checks jwks_cache, its unknown keys, and that the cooldown does not exceed the max age', () => {
    assert.deepEqual(
      problems(withPlugin({ ...BASE, jwks_cache: { cooldown: 900, max_age: 600, timeout: 0, extra: 1 } })),
      [
        `${AT}.jwks_cache.timeout: expected number to be >=1`,
        `${AT}.jwks_cache.extra: unknown key`,
        `${AT}.jwks_cache.cooldown: must not exceed jwks_cache.max_age (keys are fetched again at max_age anyway)`,
      ],
    )
  })

  it('refuses claims_to_headers targets the gateway owns, the token header, or one used twice', () => {
    const claims_to_headers = { a: 'X-Consumer-ID', b: 'Authorization', c: 'x-u', d: 'X-U', e: 'bad header' }
    assert.deepEqual(problems(withPlugin({ ...BASE, claims_to_headers })), [
      `${AT}.claims_to_headers.e: must be an HTTP header name (RFC 9110 token)`,
      `${AT}.claims_to_headers.a: 'X-Consumer-ID' is set by the gateway and cannot carry a claim`,
      `${AT}.claims_to_headers.b: 'Authorization' carries the token`,
      `${AT}.claims_to_headers.d: 'X-U' already carries claim 'c'`,
    ])
  })

  it('refuses values that could not be quoted in a WWW-Authenticate challenge', () => {
    assert.deepEqual(
      problems(
        withPlugin({
          ...BASE,
          required_scopes: ['ok', 'has space', 'quo"te'],
          consumer_claim: 'a b',
          realm: 'a\nb',
        }),
      ),
      [
        `${AT}.consumer_claim: expected a claim name of printable ASCII without spaces, quotes or backslashes`,
        `${AT}.required_scopes[1]: expected a scope token (RFC 6749 §3.3)`,
        `${AT}.required_scopes[2]: expected a scope token (RFC 6749 §3.3)`,
        `${AT}.realm: must be printable ASCII (it is sent in WWW-Authenticate)`,
      ],
    )
  })

  it('needs at least one token type, each a media type', () => {
    assert.deepEqual(problems(withPlugin({ ...BASE, token_types: [] })), [
      `${AT}.token_types: must name at least one type`,
    ])
    assert.deepEqual(problems(withPlugin({ ...BASE, token_types: ['at+jwt', 'bad type/'] })), [
      `${AT}.token_types[1]: expected a media type such as at+jwt`,
    ])
  })

  it('rejects unknown keys and an empty anonymous', () => {
    assert.deepEqual(problems(withPlugin({ ...BASE, unknown_key: true, anonymous: '' })), [
      `${AT}.anonymous: must not be empty`,
      `${AT}.unknown_key: unknown key`,
    ])
  })

  describe('issuers', () => {
    const A = 'https://id.a.example'
    const B = 'https://id.b.example'

    it('takes a list of issuers, each with its own settings, and leaves them as written', () => {
      const issuers = [
        {
          issuer: A,
          audience: 'aud-a',
          algorithms: ['ES256'],
          claim_mapping: { roles: 'realm_access.roles' },
        },
        {
          issuer: B,
          audience: 'aud-b',
          jwks_uri: 'https://keys.b.example/jwks',
          jwks_cache: { stale_ttl: 0 },
        },
      ]
      const config = load(withPlugin({ issuers })).plugins[0]!.config as Record<string, unknown>
      assert.deepEqual(config.issuers, issuers)
      assert.equal(config.issuer, undefined)
    })

    it('needs exactly one of issuer and issuers', () => {
      assert.deepEqual(problems(withPlugin({ ...BASE, issuers: [{ issuer: A, audience: 'a' }] })), [
        `${AT}.issuers: must not be set together with issuer: list every trusted issuer under issuers`,
      ])
      assert.deepEqual(problems(withPlugin({ issuers: [] })), [
        `${AT}.issuers: must name at least one issuer`,
      ])
    })

    it('refuses an issuer listed twice, an entry without audience, and a route-level jwks_uri', () => {
      assert.deepEqual(
        problems(
          withPlugin({
            jwks_uri: 'https://keys.example/jwks',
            issuers: [{ issuer: A, audience: 'a' }, { issuer: B }, { issuer: A, audience: 'a2' }],
          }),
        ),
        [
          `${AT}.jwks_uri: belongs to one issuer: set it on its entry of issuers`,
          `${AT}.issuers[1].audience: is required (here, or as the route-level audience)`,
          `${AT}.issuers[2].issuer: '${A}' is already listed at issuers[0]`,
        ],
      )
    })

    it('checks each entry like the single-issuer form, unknown keys included', () => {
      assert.deepEqual(
        problems(
          withPlugin({
            issuers: [
              {
                issuer: 'http://id.a.example',
                audience: 'a',
                algorithms: ['HS256'],
                jwks_cache: { cooldown: 60, max_age: 30 },
                extra: 1,
              },
            ],
          }),
        ),
        [
          `${AT}.issuers[0].issuer: must use https (plain http is allowed only for localhost, 127.0.0.1 and [::1])`,
          `${AT}.issuers[0].algorithms[0]: HS256 ${HS_REFUSED}`,
          `${AT}.issuers[0].extra: unknown key`,
          `${AT}.issuers[0].jwks_cache.cooldown: must not exceed jwks_cache.max_age (keys are fetched again at max_age anyway)`,
        ],
      )
    })
  })

  describe('claim_mapping and attributes_to_headers', () => {
    it('takes dotted, bracket-quoted and list paths', () => {
      const claim_mapping = {
        roles: 'realm_access.roles',
        client_roles: 'resource_access["shop-web"].roles',
        country: '["https://shop.example/country"]',
        flags: ['https://shop.example/flags', 'vip'],
      }
      const config = load(withPlugin({ ...BASE, claim_mapping })).plugins[0]!.config as Record<
        string,
        unknown
      >
      assert.deepEqual(config.claim_mapping, claim_mapping)
    })

    it('refuses names of internal-token claims, odd names and bad paths', () => {
      const claim_mapping = {
        sub: 'email',
        cnf: 'x',
        scope: 'x',
        __proto__x: 'ok',
        '9lives': 'x',
        bad: 'a..b',
        deep: Array(17).fill('a'),
        empty: [],
      }
      assert.deepEqual(problems(withPlugin({ ...BASE, claim_mapping })), [
        `${AT}.claim_mapping.bad: expected a claim path such as realm_access.roles or ["https://shop.example/country"]`,
        `${AT}.claim_mapping.deep: must have at most 16 segments`,
        `${AT}.claim_mapping.empty: must name at least one claim`,
        `${AT}.claim_mapping.sub: 'sub' is a claim of internal tokens and cannot name an attribute`,
        `${AT}.claim_mapping.cnf: 'cnf' is a claim of internal tokens and cannot name an attribute`,
        `${AT}.claim_mapping.scope: 'scope' is a claim of internal tokens and cannot name an attribute`,
        `${AT}.claim_mapping.9lives: expected an attribute name: a letter or _, then letters, digits, _ . : or - (at most 64)`,
      ])
      assert.deepEqual(problems(withPlugin({ ...BASE, claim_mapping: { n: 3 } })), [
        `${AT}.claim_mapping.n: expected a claim path (a string or a list of names)`,
      ])
    })

    it('sends only mapped attributes, to headers nothing else uses', () => {
      const config = {
        ...BASE,
        claim_mapping: { roles: 'realm_access.roles' },
        claims_to_headers: { email: 'X-Email' },
        attributes_to_headers: { roles: 'x-email', nope: 'X-Nope', other: 'X-Consumer-Username' },
      }
      assert.deepEqual(problems(withPlugin(config)), [
        `${AT}.attributes_to_headers.roles: 'x-email' already carries claim 'email'`,
        `${AT}.attributes_to_headers.nope: 'nope' is not an attribute of any claim_mapping`,
        `${AT}.attributes_to_headers.other: 'other' is not an attribute of any claim_mapping`,
        `${AT}.attributes_to_headers.other: 'X-Consumer-Username' is set by the gateway and cannot carry an attribute`,
      ])
    })
  })

  describe('dpop and verbose_errors', () => {
    it('bounds the proof age and leeway, and takes asymmetric algorithms only', () => {
      assert.deepEqual(
        problems(
          withPlugin({
            ...BASE,
            verbose_errors: 'yes',
            dpop: { max_age: 0, leeway: 61, algorithms: ['HS256'], x: 1 },
          }),
        ),
        [
          `${AT}.verbose_errors: expected boolean, got string`,
          `${AT}.dpop.algorithms[0]: HS256 ${HS_REFUSED}`,
          `${AT}.dpop.max_age: expected number to be >=1`,
          `${AT}.dpop.leeway: expected number to be <=60`,
          `${AT}.dpop.x: unknown key`,
        ],
      )
    })

    it('bounds stale_ttl to a week, 0 turning stale keys off', () => {
      assert.deepEqual(problems(withPlugin({ ...BASE, jwks_cache: { stale_ttl: -1 } })), [
        `${AT}.jwks_cache.stale_ttl: expected number to be >=0`,
      ])
      assert.deepEqual(problems(withPlugin({ ...BASE, jwks_cache: { stale_ttl: 604_801 } })), [
        `${AT}.jwks_cache.stale_ttl: expected number to be <=604800`,
      ])
    })
  })

  it('refuses to start when the anonymous consumer does not exist', async () => {
    const { dir, file } = writeTempConfig(withPlugin({ ...BASE, anonymous: 'ghost' }))
    try {
      const result = await runCli([
        'start',
        '--config',
        file,
        '--proxy-listen',
        '127.0.0.1:0',
        '--admin-listen',
        '127.0.0.1:0',
      ])
      assert.equal(result.code, 1)
      assert.deepEqual(result.stderr.trim().split('\n'), [
        `${file}: plugins (openid-connect on service 'orders'): plugin 'openid-connect' cannot use this config: anonymous consumer 'ghost' is configured but doesn't exist`,
        'gatehouse: 1 problem in the configuration; nothing was started',
      ])
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
