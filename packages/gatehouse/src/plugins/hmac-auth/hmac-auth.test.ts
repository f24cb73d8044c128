/**
 * hmac-auth end to end: a client signing requests as Kong's docs show (the HMAC computed here with
 * node:crypto), Kong's answers (spec/03-plugins/19-hmac-auth/03-access_spec.lua) through the real process,
 * what the upstream receives, anonymous, hide_credentials, the internal token minted for the consumer,
 * POST /explain, and the secret never written anywhere.
 */
import assert from 'node:assert/strict'
import { createHash, createHmac } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { createLocalJWKSet, type JSONWebKeySet, jwtVerify } from 'jose'
import { assertErrorBody } from '../../../test/harness/error-body.ts'
import { type GatehouseProcess, startGatehouse } from '../../../test/harness/gatehouse.ts'
import { type RawResponse, rawRequest } from '../../../test/harness/http.ts'
import { type EchoBody, startUpstream, type Upstream } from '../../../test/harness/upstream.ts'

const SECRET = 'bob-hmac-secret-0123456789'
const CANNOT_VERIFY = 'HMAC signature cannot be verified'
const DOES_NOT_MATCH = 'HMAC signature does not match'
const NO_DATE =
  'HMAC signature cannot be verified, a valid date or x-date header is required for HMAC Authentication'
const ALGORITHMS = ['hmac-sha1', 'hmac-sha256', 'hmac-sha384', 'hmac-sha512'] as const
/** The hash of each algorithm; another name is signed with SHA-256 (so only the name is wrong). */
const HASHES: Record<string, string> = {
  'hmac-sha1': 'sha1',
  'hmac-sha256': 'sha256',
  'hmac-sha384': 'sha384',
  'hmac-sha512': 'sha512',
}

/** `date` as a client writes it (IMF-fixdate), `offset` seconds from now. */
const httpDate = (offset = 0) => new Date(Date.now() + offset * 1000).toUTCString()

interface Signed {
  method?: string
  /** Path and query, exactly as sent. */
  target: string
  headers?: Record<string, string>
  /** The names signed, in order. Default: date @request-target. */
  names?: string[]
  algorithm?: string
  username?: string
  secret?: string
  /** Where the credentials go. Default: authorization. */
  header?: 'authorization' | 'proxy-authorization'
}

/**
 * A request signed as Kong's hmac-auth documentation shows: the signing string is one `name: value` line
 * per signed header (`@request-target: <method> <path>`, or `request-line` as `GET /p HTTP/1.1`), joined
 * by newlines, HMAC'd with the credential's secret and sent base64 in `Authorization: hmac …`.
 */
function sign(s: Signed): Record<string, string> {
  const method = s.method ?? 'GET'
  const headers: Record<string, string> = { date: httpDate(), ...s.headers }
  const names = s.names ?? ['date', '@request-target']
  const text = names
    .map((name) =>
      name === '@request-target'
        ? `@request-target: ${method.toLowerCase()} ${s.target}`
        : name === 'request-line'
          ? `${method} ${s.target} HTTP/1.1`
          : headers[name.toLowerCase()] === undefined
            ? `${name}:`
            : `${name}: ${headers[name.toLowerCase()]}`,
    )
    .join('\n')
  const algorithm = s.algorithm ?? 'hmac-sha256'
  const hash = algorithm in HASHES ? HASHES[algorithm]! : 'sha256'
  const signature = createHmac(hash, s.secret ?? SECRET)
    .update(text)
    .digest('base64')
  const value = `hmac username="${s.username ?? 'bob'}", algorithm="${algorithm}", headers="${names.join(' ')}", signature="${signature}"`
  return { ...headers, [s.header ?? 'authorization']: value }
}

const digestOf = (body: string) => `SHA-256=${createHash('sha256').update(body).digest('base64')}`

function config(upstreamUrl: string): object {
  const hmac = (config: object = {}) => ({ name: 'hmac-auth', config })
  const route = (name: string, plugins: object[]) => ({ name, paths: [`/${name}`], plugins })
  return {
    _format_version: '3.0',
    services: [
      {
        name: 'svc',
        url: upstreamUrl,
        routes: [
          route('hmac', [hmac({ realm: 'test-realm' })]),
          route('enforce', [hmac({ enforce_headers: ['date', 'request-line'] })]),
          route('sha256', [hmac({ algorithms: ['hmac-sha256'] })]),
          route('body', [hmac({ validate_request_body: true, enforce_headers: ['digest'] })]),
          route('hide', [hmac({ hide_credentials: true })]),
          route('anon', [hmac({ anonymous: 'no-body' })]),
          route('hide-anon', [hmac({ anonymous: 'no-body', hide_credentials: true })]),
          route('minted', [hmac(), { name: 'internal-token', config: { audience: 'orders' } }]),
        ],
      },
    ],
    consumers: [
      { username: 'bob', custom_id: 'bob-1', hmacauth_credentials: [{ username: 'bob', secret: SECRET }] },
      { username: 'alice', hmacauth_credentials: [{ username: 'alice-signer' }] },
      { username: 'no-body' },
    ],
  }
}

describe('the hmac-auth plugin in front of an upstream', () => {
  let upstream: Upstream
  let gh: GatehouseProcess
  before(async () => {
    upstream = await startUpstream()
    gh = await startGatehouse({ config: config(upstream.url) })
  })
  after(async () => {
    await gh?.stop()
    await upstream?.close()
  })

  const send = (target: string, headers: Record<string, string>, method = 'GET', body?: string) =>
    rawRequest(gh.proxyUrl + target, { method, headers, ...(body === undefined ? {} : { body }) })
  const signed = (s: Signed, body?: string) => send(s.target, sign(s), s.method, body)

  function assertRefused(res: RawResponse, message: string, challenge = 'hmac'): void {
    assert.equal(res.status, 401, res.body)
    const code =
      message === 'Unauthorized' ? 'GH_ERR_AUTH_CREDENTIALS_MISSING' : 'GH_ERR_AUTH_CREDENTIALS_INVALID'
    assertErrorBody(res, { kong: { message }, code })
    assert.equal(res.headers['www-authenticate'], challenge)
  }

  function seen(res: RawResponse): EchoBody {
    assert.equal(res.status, 200, res.body)
    return JSON.parse(res.body) as EchoBody
  }

  describe('signatures', () => {
    it('passes a request signed with each algorithm, and sends the consumer upstream', async () => {
      const bob = (await (await gh.admin('/consumers/bob')).json()) as { id: string }
      for (const algorithm of ALGORITHMS) {
        const echo = seen(await signed({ target: '/hmac/orders?page=2', algorithm }))
        assert.equal(echo.url, '/orders?page=2')
        assert.equal(echo.headers['x-consumer-id'], bob.id)
        assert.equal(echo.headers['x-consumer-username'], 'bob')
        assert.equal(echo.headers['x-consumer-custom-id'], 'bob-1')
        assert.equal(echo.headers['x-credential-identifier'], 'bob')
        assert.equal(echo.headers['x-anonymous-consumer'], undefined)
        assert.match(
          String(echo.headers.authorization),
          /^hmac username="bob"/,
          'kept without hide_credentials',
        )
      }
    })

    it('signs request-line with the query exactly as sent, and other headers by their values', async () => {
      const headers = { 'content-md5': 'md5', 'x-date': httpDate() }
      const names = ['x-date', 'content-md5', 'request-line']
      seen(await signed({ target: '/hmac/a%20b?name=foo&name=bar', names, headers }))
      // Signed without the query: the request line differs (Kong #3339).
      const res = await send('/hmac/a?name=foo', sign({ target: '/hmac/a', names, headers }))
      assertRefused(res, DOES_NOT_MATCH, 'hmac realm="test-realm"')
    })

    it('refuses a tampered signature, a signature for another request and one that is not base64', async () => {
      const good = sign({ target: '/hmac/x' })
      const tampered = good.authorization!.replace(
        /signature="(.)/,
        (_, c) => `signature="${c === 'A' ? 'B' : 'A'}`,
      )
      assertRefused(
        await send('/hmac/x', { ...good, authorization: tampered }),
        DOES_NOT_MATCH,
        'hmac realm="test-realm"',
      )
      assertRefused(await send('/hmac/y', good), DOES_NOT_MATCH, 'hmac realm="test-realm"')
      assertRefused(
        await signed({ target: '/hmac/x', secret: 'wrong' }),
        DOES_NOT_MATCH,
        'hmac realm="test-realm"',
      )
      const notBase64 = good.authorization!.replace(/signature="[^"]*"/, 'signature="not really base64!!!"')
      assertRefused(
        await send('/hmac/x', { ...good, authorization: notBase64 }),
        DOES_NOT_MATCH,
        'hmac realm="test-realm"',
      )
      // A signed header changed after signing (a date five seconds earlier, still within the skew).
      assertRefused(
        await send('/hmac/x', { ...good, date: httpDate(-5) }),
        DOES_NOT_MATCH,
        'hmac realm="test-realm"',
      )
    })

    it('does not let a `request-line` header stand in for the request line (a replayed signature cannot move)', async () => {
      const names = ['date', 'request-line']
      const forA = sign({ target: '/hmac/a', names })
      assertRefused(
        await send('/hmac/b', { ...forA, 'request-line': 'GET /hmac/a HTTP/1.1' }),
        DOES_NOT_MATCH,
        'hmac realm="test-realm"',
      )
      seen(await send('/hmac/a', forA))
    })

    it('refuses malformed credentials, an unknown user and a disallowed algorithm as "cannot be verified"', async () => {
      const date = httpDate()
      const realm = 'hmac realm="test-realm"'
      for (const authorization of [
        'asd',
        'hmac username="bob"',
        'Basic Ym9iOnNlY3JldA==',
        'hmac username="bob", algorithm="hmac-sha256" headers="date", signature="abc"',
        'hmac username="bob", algorithm="hmac-sha256", headers="  date", signature="abc"',
        'hmac username="", algorithm="hmac-sha256", headers="date", signature="abc"',
        'hmac username="bob", username="eve", algorithm="hmac-sha256", headers="date", signature="abc"',
      ])
        assertRefused(await send('/hmac', { date, authorization }), CANNOT_VERIFY, realm)
      assertRefused(await signed({ target: '/hmac', username: 'nobody' }), CANNOT_VERIFY, realm)
      assertRefused(await signed({ target: '/hmac', algorithm: 'hmac-sha2' }), CANNOT_VERIFY, realm)
      assertRefused(await signed({ target: '/sha256', algorithm: 'hmac-sha1' }), CANNOT_VERIFY)
      seen(await signed({ target: '/sha256', algorithm: 'hmac-sha256' }))
    })

    it('prefers Proxy-Authorization, which never goes upstream, and falls back to Authorization', async () => {
      const echo = seen(await signed({ target: '/hmac', header: 'proxy-authorization' }))
      assert.equal(echo.headers['x-credential-identifier'], 'bob')
      assert.equal(echo.headers['proxy-authorization'], undefined)
      seen(await send('/hmac', { ...sign({ target: '/hmac' }), 'proxy-authorization': 'hmac nonsense' }))
    })

    it('answers "Unauthorized" with the realm when no credentials are sent, before the date is looked at', async () => {
      assertRefused(await send('/hmac', {}), 'Unauthorized', 'hmac realm="test-realm"')
      assertRefused(await send('/sha256', { date: httpDate() }), 'Unauthorized')
    })
  })

  describe('clock skew', () => {
    it("refuses a date past the 300 s limit, either way, and a missing or malformed date, with Kong's message", async () => {
      for (const offset of [-301, 301, -3600])
        assertRefused(await signed({ target: '/sha256', headers: { date: httpDate(offset) } }), NO_DATE)
      const noDate = sign({ target: '/sha256' })
      delete noDate.date
      assertRefused(await send('/sha256', noDate), NO_DATE)
      assertRefused(await signed({ target: '/sha256', headers: { date: 'yesterday' } }), NO_DATE)
      assertRefused(await signed({ target: '/sha256', headers: { date: new Date().toISOString() } }), NO_DATE)
    })

    it('accepts a date inside the limit, and a valid X-Date when Date is stale (Kong checks either)', async () => {
      seen(await signed({ target: '/sha256', headers: { date: httpDate(-250) } }))
      const headers = { date: httpDate(-3600), 'x-date': httpDate() }
      seen(await signed({ target: '/sha256', names: ['x-date', '@request-target'], headers }))
    })
  })

  describe('enforce_headers', () => {
    it('refuses a signature that leaves out an enforced name, and passes one that has them all', async () => {
      assertRefused(await signed({ target: '/enforce', names: ['date'] }), CANNOT_VERIFY)
      assertRefused(await signed({ target: '/enforce', names: ['request-line'] }), CANNOT_VERIFY)
      seen(await signed({ target: '/enforce', names: ['Date', 'request-line'] }))
    })
  })

  describe('validate_request_body', () => {
    const body = '{"a":"apple","b":"ball"}'
    const post = (digest: string | null, sent = body) => {
      const headers: Record<string, string> = { 'content-type': 'application/json' }
      if (digest !== null) headers.digest = digest
      return signed(
        { method: 'POST', target: '/body', names: ['date', '@request-target', 'digest'], headers },
        sent,
      )
    }

    it('passes a body matching its signed Digest, and forwards the body', async () => {
      const echo = seen(await post(digestOf(body)))
      assert.equal(echo.bodyBytes, Buffer.byteLength(body))
    })

    it('refuses a tampered body, a wrong digest and a body without Digest', async () => {
      assertRefused(await post(digestOf(body), body.replace('apple', 'pear!')), DOES_NOT_MATCH)
      assertRefused(await post(digestOf('other')), DOES_NOT_MATCH)
      assertRefused(await post(`sha-256=${digestOf(body).slice(8)}`), DOES_NOT_MATCH)
      assertRefused(await post(null), DOES_NOT_MATCH)
      // The route enforces `digest`: a Digest sent but not signed protects nothing.
      const unsigned = signed({ method: 'POST', target: '/body', headers: { digest: digestOf(body) } }, body)
      assertRefused(await unsigned, CANNOT_VERIFY)
    })

    it('passes a request without a body, with or without a Digest of nothing', async () => {
      seen(await signed({ target: '/body', names: ['date', 'digest'], headers: { digest: digestOf('') } }))
      const upstreamSaw = upstream.requests.length
      seen(await signed({ target: '/body', names: ['date', 'digest'] }))
      assert.equal(upstream.requests.length, upstreamSaw + 1)
    })
  })

  describe('hide_credentials and anonymous', () => {
    it('removes Authorization before forwarding with hide_credentials', async () => {
      const echo = seen(await signed({ target: '/hide' }))
      assert.equal(echo.headers.authorization, undefined)
      assert.equal(echo.headers['x-consumer-username'], 'bob')
    })

    it('never forwards refused credentials to an anonymous request with hide_credentials (Kong checks the date first and does)', async () => {
      const stale = sign({ target: '/hide-anon', headers: { date: httpDate(-900) } })
      const echo = seen(await send('/hide-anon', stale))
      assert.equal(echo.headers['x-anonymous-consumer'], 'true')
      assert.equal(echo.headers.authorization, undefined)
    })

    it('lets a request without or with bad credentials through as the anonymous consumer', async () => {
      for (const headers of [
        {},
        sign({ target: '/anon', secret: 'wrong' }),
        sign({ target: '/anon', headers: { date: httpDate(-900) } }),
      ]) {
        const echo = seen(await send('/anon', headers))
        assert.equal(echo.headers['x-anonymous-consumer'], 'true')
        assert.equal(echo.headers['x-consumer-username'], 'no-body')
        assert.equal(echo.headers['x-credential-identifier'], undefined)
      }
      const valid = seen(await signed({ target: '/anon' }))
      assert.equal(valid.headers['x-consumer-username'], 'bob')
      assert.equal(valid.headers['x-anonymous-consumer'], undefined)
    })
  })

  it('mints the internal token for the consumer and never forwards the signature', async () => {
    const echo = seen(await signed({ target: '/minted/orders' }))
    const value = String(echo.headers.authorization)
    assert.match(value, /^Bearer /)
    const jwks = createLocalJWKSet(
      (await (await fetch(`${gh.proxyUrl}/.well-known/gatehouse/jwks.json`)).json()) as JSONWebKeySet,
    )
    const { payload } = await jwtVerify(value.slice('Bearer '.length), jwks, { audience: 'orders' })
    assert.equal(payload.sub, 'bob')
    assert.equal(payload.sub_type, 'client')
    assert.equal(payload.client_id, 'bob')
    assert.deepEqual(payload.auth, { method: 'hmac-auth' })
    assert.equal((payload.consumer as { username: string }).username, 'bob')
  })

  it("shows a credential's secret in the admin API, as Kong does, and a generated one works", async () => {
    const listed = (await (await gh.admin('/consumers/alice/hmac-auth')).json()) as {
      data: { username: string; secret: string }[]
    }
    assert.equal(listed.data.length, 1)
    const { username, secret } = listed.data[0]!
    assert.equal(username, 'alice-signer')
    assert.match(secret, /^[A-Za-z0-9_-]{32}$/)
    const byName = (await (await gh.admin('/hmac-auths/alice-signer')).json()) as { secret: string }
    assert.equal(byName.secret, secret)
    const echo = seen(await signed({ target: '/hmac', username, secret }))
    assert.equal(echo.headers['x-consumer-username'], 'alice')
    assert.equal(echo.headers['x-credential-identifier'], 'alice-signer')
  })

  it("explains hmac-auth's verdict in POST /explain: refused with the reason, or passed", async () => {
    const explain = async (headers: Record<string, string>) => {
      const res = await gh.admin('/explain', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ route: 'sha256', headers }),
      })
      assert.equal(res.status, 200)
      return (await res.json()) as {
        plugins: { name: string; verdict: string; code?: string; reason?: string; message?: string }[]
        consumer: unknown
      }
    }
    const refused = (await explain(sign({ target: '/sha256', secret: 'wrong' }))).plugins[0]!
    assert.deepEqual(
      [refused.name, refused.verdict, refused.code, refused.reason, refused.message],
      ['hmac-auth', 'refused', 'GH_ERR_AUTH_CREDENTIALS_INVALID', 'hmac_auth_bad_signature', DOES_NOT_MATCH],
    )
    const stale = (await explain(sign({ target: '/sha256', headers: { date: httpDate(-900) } }))).plugins[0]!
    assert.equal(stale.reason, 'hmac_auth_date_invalid')
    const passed = (await explain(sign({ target: '/sha256' }))).plugins[0]!
    assert.deepEqual([passed.name, passed.verdict], ['hmac-auth', 'passed'])
  })

  it('writes neither a secret nor a signature to its logs', async () => {
    const signature = /signature="([^"]+)"/.exec(sign({ target: '/hmac' }).authorization!)![1]!
    assert.ok(gh.accessLines().length > 0)
    for (const secret of [SECRET, signature]) {
      assert.ok(!gh.stdout.includes(secret), 'stdout holds no secret')
      assert.ok(!gh.stderr.includes(secret), 'stderr holds no secret')
    }
    const refused = gh.accessLines().find((l) => l.error_detail === 'hmac_auth_bad_signature')
    assert.ok(refused, 'the access log names why a signature was refused')
  })
})
