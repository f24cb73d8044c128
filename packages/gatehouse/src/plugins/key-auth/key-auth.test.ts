/**
 * key-auth end to end: Kong's answers (spec/03-plugins/09-key-auth/02-access_spec.lua; rows A01–A04 of
 * the research notes) through the real process, and what the upstream receives.
 */
import assert from 'node:assert/strict'
import { Readable } from 'node:stream'
import { after, before, describe, it } from 'node:test'
import { assertErrorBody, assertFetchedError } from '../../../test/harness/error-body.ts'
import { type GatehouseProcess, startGatehouse } from '../../../test/harness/gatehouse.ts'
import { rawRequest } from '../../../test/harness/http.ts'
import { type EchoBody, startUpstream, type Upstream } from '../../../test/harness/upstream.ts'

const BOB_KEY = 'kong-bob-secret-key'
const BOB_CREDENTIAL_ID = '1d0c1b6e-3a3c-4c55-9d1b-5c2f5e1a0001'
const CAROL_KEY = 'carol-secret-key'
const CAROL_ID = '1d0c1b6e-3a3c-4c55-9d1b-5c2f5e1a0002'

function route(name: string, config: object = {}) {
  return { name, paths: [`/${name}`], plugins: [{ name: 'key-auth', config }] }
}

function config(upstreamUrl: string): object {
  return {
    _format_version: '3.0',
    services: [
      {
        name: 'svc',
        url: upstreamUrl,
        routes: [
          route('default'),
          route('hide', { hide_credentials: true }),
          route('anon', { anonymous: 'no-body' }),
          route('anon-hide', { anonymous: 'no-body', hide_credentials: true }),
          route('preflight-off', { run_on_preflight: false }),
          route('names', { key_names: ['api_key', 'x-second'] }),
          route('realm', { realm: 'gatehouse' }),
          route('header-only', { key_in_query: false }),
          route('query-only', { key_in_header: false }),
        ],
      },
    ],
    consumers: [
      {
        username: 'bob',
        custom_id: 'bob-1',
        keyauth_credentials: [{ id: BOB_CREDENTIAL_ID, key: BOB_KEY }],
      },
      { username: 'no-body' },
      { id: CAROL_ID, custom_id: 'carol-only-custom-id' },
    ],
    keyauth_credentials: [{ consumer: CAROL_ID, key: CAROL_KEY }],
  }
}

describe('the key-auth plugin in front of an upstream', () => {
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

  const get = (path: string, headers: Record<string, string> = {}, method = 'GET') =>
    gh.proxy(path, { method, headers })

  /** A 401 with Kong's message (then the gateway's members), Kong's challenge, and the code. */
  async function assertRefused(res: Response, message: string, challenge = 'Key'): Promise<void> {
    assert.equal(res.status, 401)
    const code =
      message === 'No API key found in request'
        ? 'GH_ERR_AUTH_CREDENTIALS_MISSING'
        : 'GH_ERR_AUTH_CREDENTIALS_INVALID'
    await assertFetchedError(res, { kong: { message }, code })
    assert.equal(res.headers.get('www-authenticate'), challenge)
  }

  async function seen(res: Response): Promise<EchoBody> {
    assert.equal(res.status, 200)
    return (await res.json()) as EchoBody
  }

  describe('refusals', () => {
    it('answers 401 "No API key found in request" with `WWW-Authenticate: Key` when no key is sent', async () => {
      const before = upstream.requests.length
      await assertRefused(await get('/default/orders'), 'No API key found in request')
      assert.equal(upstream.requests.length, before, 'nothing reached the upstream')
    })

    it('treats an empty header, `?apikey` and `?apikey=` as no key', async () => {
      await assertRefused(await get('/default', { apikey: '' }), 'No API key found in request')
      await assertRefused(await get('/default?apikey'), 'No API key found in request')
      await assertRefused(await get('/default?apikey='), 'No API key found in request')
    })

    it('answers 401 "Unauthorized" for an unknown key, in a header or the query', async () => {
      await assertRefused(await get('/default', { apikey: 'not-a-key' }), 'Unauthorized')
      await assertRefused(await get('/default?apikey=not-a-key'), 'Unauthorized')
    })

    it('answers 401 "Duplicate API key found" for a key sent twice, even twice the same', async () => {
      await assertRefused(await get(`/default?apikey=${BOB_KEY}&apikey=other`), 'Duplicate API key found')
      await assertRefused(
        await get(`/default?apikey=${BOB_KEY}&apikey=${BOB_KEY}`),
        'Duplicate API key found',
      )
      const raw = await rawRequest(`${gh.proxyUrl}/default`, {
        headers: ['host', 'localhost', 'apikey', BOB_KEY, 'apikey', 'other'],
      })
      assert.equal(raw.status, 401)
      assertErrorBody(raw, {
        kong: { message: 'Duplicate API key found' },
        code: 'GH_ERR_AUTH_CREDENTIALS_INVALID',
      })
      assert.equal(raw.headers['www-authenticate'], 'Key')
    })

    it('puts the configured realm in the challenge', async () => {
      await assertRefused(await get('/realm'), 'No API key found in request', 'Key realm="gatehouse"')
      await assertRefused(await get('/realm?apikey=nope'), 'Unauthorized', 'Key realm="gatehouse"')
    })

    it('authenticates OPTIONS requests too by default (run_on_preflight)', async () => {
      await assertRefused(await get('/default', {}, 'OPTIONS'), 'No API key found in request')
    })
  })

  describe('a valid key', () => {
    it("sends the consumer's identity upstream, with the credential id as X-Credential-Identifier", async () => {
      const echo = await seen(await get('/default/orders', { apikey: BOB_KEY }))
      assert.equal(echo.url, '/orders')
      const consumer = (await (await gh.admin('/consumers/bob')).json()) as { id: string }
      assert.equal(echo.headers['x-consumer-id'], consumer.id)
      assert.equal(echo.headers['x-consumer-username'], 'bob')
      assert.equal(echo.headers['x-consumer-custom-id'], 'bob-1')
      assert.equal(echo.headers['x-credential-identifier'], BOB_CREDENTIAL_ID)
      assert.equal(echo.headers['x-anonymous-consumer'], undefined)
      assert.equal(echo.headers.apikey, BOB_KEY, 'without hide_credentials the key goes upstream')
    })

    it('accepts the key in the query and forwards the query unchanged', async () => {
      const echo = await seen(await get(`/default?a=1&apikey=${BOB_KEY}`))
      assert.equal(echo.url, `/?a=1&apikey=${BOB_KEY}`)
      assert.equal(echo.headers['x-consumer-username'], 'bob')
    })

    it('sets only the headers a consumer has (a consumer with only a custom_id)', async () => {
      const echo = await seen(await get('/default', { apikey: CAROL_KEY }))
      assert.equal(echo.headers['x-consumer-custom-id'], 'carol-only-custom-id')
      assert.equal(echo.headers['x-consumer-username'], undefined)
      const listed = (await (await gh.admin(`/key-auths/${CAROL_KEY}`)).json()) as { id: string }
      assert.equal(echo.headers['x-credential-identifier'], listed.id)
    })

    it('replaces identity headers a client sends', async () => {
      const echo = await seen(
        await get('/default', {
          apikey: BOB_KEY,
          'x-consumer-username': 'admin',
          'x-consumer-id': 'admin',
          'x-credential-identifier': 'forged',
          'x-anonymous-consumer': 'true',
        }),
      )
      assert.equal(echo.headers['x-consumer-username'], 'bob')
      assert.equal(echo.headers['x-credential-identifier'], BOB_CREDENTIAL_ID)
      assert.equal(echo.headers['x-anonymous-consumer'], undefined)
    })

    it('reads a header case-insensitively and a query parameter case-sensitively', async () => {
      const raw = await rawRequest(`${gh.proxyUrl}/default`, { headers: { ApiKey: BOB_KEY } })
      assert.equal(raw.status, 200)
      await assertRefused(await get(`/default?APIKEY=${BOB_KEY}`), 'No API key found in request')
    })

    it('looks at the header before the query for the same name', async () => {
      await seen(await get('/default?apikey=not-a-key', { apikey: BOB_KEY }))
      await assertRefused(await get(`/default?apikey=${BOB_KEY}`, { apikey: 'not-a-key' }), 'Unauthorized')
    })

    it('tries each key name in order, header then query, and matches `api_key` to the header `api-key`', async () => {
      await seen(await get('/names', { 'api-key': BOB_KEY }))
      await seen(await get(`/names?api_key=${BOB_KEY}`))
      await seen(await get('/names', { 'x-second': BOB_KEY }))
      // The first name found decides, even when a later name holds a valid key.
      await assertRefused(await get('/names?api_key=not-a-key', { 'x-second': BOB_KEY }), 'Unauthorized')
    })

    it('looks only where key_in_header and key_in_query allow', async () => {
      await assertRefused(await get(`/header-only?apikey=${BOB_KEY}`), 'No API key found in request')
      await seen(await get('/header-only', { apikey: BOB_KEY }))
      await assertRefused(await get('/query-only', { apikey: BOB_KEY }), 'No API key found in request')
      await seen(await get(`/query-only?apikey=${BOB_KEY}`))
    })
  })

  describe('hide_credentials', () => {
    it('removes the key header before forwarding', async () => {
      const echo = await seen(await get('/hide', { apikey: BOB_KEY, other: 'kept' }))
      assert.equal(echo.headers.apikey, undefined)
      assert.equal(echo.headers.other, 'kept')
      assert.equal(echo.headers['x-consumer-username'], 'bob')
    })

    it('removes the key parameter and keeps every other parameter byte for byte', async () => {
      const echo = await seen(await get(`/hide?a=1%2B&apikey=${BOB_KEY}&b=x+y&flag`))
      assert.equal(echo.url, '/?a=1%2B&b=x+y&flag')
      const only = await seen(await get(`/hide?apikey=${BOB_KEY}`))
      assert.equal(only.url, '/')
    })

    it('removes a wrong or duplicated key too when an anonymous fallback lets the request through', async () => {
      const wrong = await seen(await get('/anon-hide?apikey=guess&x=1', { apikey: 'guess' }))
      assert.equal(wrong.url, '/?x=1')
      assert.equal(wrong.headers.apikey, undefined)
      assert.equal(wrong.headers['x-anonymous-consumer'], 'true')
      const twice = await seen(await get('/anon-hide?apikey=a&apikey=b'))
      assert.equal(twice.url, '/')
    })
  })

  describe('anonymous', () => {
    it('lets a request without a key through as the anonymous consumer', async () => {
      const echo = await seen(await get('/anon'))
      const anonymous = (await (await gh.admin('/consumers/no-body')).json()) as { id: string }
      assert.equal(echo.headers['x-anonymous-consumer'], 'true')
      assert.equal(echo.headers['x-consumer-username'], 'no-body')
      assert.equal(echo.headers['x-consumer-id'], anonymous.id)
      assert.equal(echo.headers['x-credential-identifier'], undefined)
    })

    it('falls back to anonymous for an unknown or duplicated key, and still honours a valid one', async () => {
      assert.equal((await seen(await get('/anon?apikey=nope'))).headers['x-consumer-username'], 'no-body')
      assert.equal(
        (await seen(await get('/anon?apikey=a&apikey=b'))).headers['x-consumer-username'],
        'no-body',
      )
      const valid = await seen(await get('/anon', { apikey: BOB_KEY }))
      assert.equal(valid.headers['x-consumer-username'], 'bob')
      assert.equal(valid.headers['x-anonymous-consumer'], undefined)
    })
  })

  describe('run_on_preflight: false', () => {
    it('lets every OPTIONS request through without a key, and still guards other methods', async () => {
      const before = upstream.requests.length
      const res = await get('/preflight-off', { origin: 'https://app.example' }, 'OPTIONS')
      assert.equal(res.status, 200)
      assert.equal(((await res.json()) as EchoBody).headers['x-consumer-id'], undefined)
      assert.equal(upstream.requests.length, before + 1)
      await assertRefused(await get('/preflight-off'), 'No API key found in request')
    })
  })

  it('logs why a request was refused, as a stable code and reason, without the key', async () => {
    await get('/default', { 'x-request-id': 'refused-no-key' })
    await get('/default', { apikey: 'wrong-key-never-logged', 'x-request-id': 'refused-bad-key' })
    const none = await gh.waitForLog((l) => l.request_id === 'refused-no-key')
    assert.equal(none.error_code, 'GH_ERR_AUTH_CREDENTIALS_MISSING')
    assert.equal(none.error_detail, 'key_auth_no_key')
    const bad = await gh.waitForLog((l) => l.request_id === 'refused-bad-key')
    assert.equal(bad.status, 401)
    assert.equal(bad.error_code, 'GH_ERR_AUTH_CREDENTIALS_INVALID')
    assert.equal(bad.error_detail, 'key_auth_invalid_key')
    assert.ok(!gh.stdout.includes('wrong-key-never-logged'))
  })

  it('never writes a key to its logs', async () => {
    await get(`/default?apikey=${BOB_KEY}`)
    await get('/default', { apikey: 'not-a-key-but-secret' })
    for (const secret of [BOB_KEY, CAROL_KEY, 'not-a-key-but-secret']) {
      assert.ok(!gh.stdout.includes(secret), 'stdout holds no key')
      assert.ok(!gh.stderr.includes(secret), 'stderr holds no key')
    }
  })
})

describe('a key in the request body (key_in_body)', () => {
  let upstream: Upstream
  let gh: GatehouseProcess
  /** What the upstream received: headers and the body as text. */
  const received: { headers: Record<string, unknown>; body: string }[] = []
  before(async () => {
    upstream = await startUpstream((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        received.push({ headers: req.headers, body: Buffer.concat(chunks).toString() })
        res.end('ok')
      })
    })
    gh = await startGatehouse({
      config: {
        _format_version: '3.0',
        services: [
          {
            name: 'svc',
            url: upstream.url,
            routes: [
              route('body', { key_in_body: true }),
              route('body-hide', { key_in_body: true, hide_credentials: true }),
            ],
          },
        ],
        consumers: [{ username: 'bob', keyauth_credentials: [{ key: BOB_KEY }] }],
      },
    })
  })
  after(async () => {
    await gh?.stop()
    await upstream?.close()
  })

  const post = (path: string, body: string | Buffer, type: string) =>
    rawRequest(gh.proxyUrl + path, { method: 'POST', headers: { 'content-type': type }, body })

  it('finds the key in a form body and forwards the body unchanged', async () => {
    const body = `item=42&apikey=${BOB_KEY}`
    const res = await post('/body', body, 'application/x-www-form-urlencoded')
    assert.equal(res.status, 200)
    assert.equal(received.at(-1)!.body, body)
    assert.equal(received.at(-1)!.headers['x-consumer-username'], 'bob')
  })

  it('finds the key in a JSON body, and with hide_credentials removes it and fixes Content-Length', async () => {
    const res = await post('/body-hide', JSON.stringify({ item: 42, apikey: BOB_KEY }), 'application/json')
    assert.equal(res.status, 200)
    const seen = received.at(-1)!
    assert.deepEqual(JSON.parse(seen.body), { item: 42 })
    assert.equal(seen.headers['content-length'], String(Buffer.byteLength(seen.body)))
  })

  it('answers 401 for a body without a key, and never reads bodies of other types', async () => {
    const none = await post('/body', JSON.stringify({ item: 42 }), 'application/json')
    assert.equal(none.status, 401)
    assertErrorBody(none, {
      kong: { message: 'No API key found in request' },
      code: 'GH_ERR_AUTH_CREDENTIALS_MISSING',
    })
    const other = await post('/body', `apikey=${BOB_KEY}`, 'text/plain')
    assert.equal(other.status, 401)
  })

  it('answers 413 for a chunked body over the limit instead of buffering it', async () => {
    const big = Readable.from([Buffer.alloc(700 * 1024, 'a'), Buffer.alloc(700 * 1024, 'b')])
    const res = await rawRequest(`${gh.proxyUrl}/body`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'transfer-encoding': 'chunked' },
      body: big,
    }).catch(() => ({ status: 0, body: '' }))
    // The gateway answers 413 as soon as the limit is passed; the client may see the reset instead.
    if (res.status !== 0) {
      assert.equal(res.status, 413)
      assert.equal(JSON.parse(res.body).code, 'GH_ERR_REQUEST_BODY_TOO_LARGE')
    }
    const line = await gh.waitForLog((l) => l.type === 'access' && l.status === 413)
    assert.equal(line.error_code, 'GH_ERR_REQUEST_BODY_TOO_LARGE')
  })
})

describe('a key with a ttl', () => {
  it('stops working ttl seconds after the configuration was loaded, while others keep working', async () => {
    const upstream = await startUpstream()
    const gh = await startGatehouse({
      config: {
        _format_version: '3.0',
        services: [{ name: 'svc', url: upstream.url, routes: [route('api')] }],
        consumers: [
          { username: 'temp', keyauth_credentials: [{ key: 'short-lived', ttl: 2 }] },
          { username: 'perm', keyauth_credentials: [{ key: 'long-lived' }] },
        ],
      },
    })
    try {
      const first = await gh.proxy('/api', { headers: { apikey: 'short-lived' } })
      assert.equal(first.status, 200, 'valid right after loading')
      await first.body?.cancel()
      let res: Response
      const deadline = Date.now() + 15_000
      for (;;) {
        res = await gh.proxy('/api', { headers: { apikey: 'short-lived' } })
        if (res.status !== 200 || Date.now() > deadline) break
        await res.body?.cancel()
        await new Promise((r) => setTimeout(r, 200))
      }
      assert.equal(res.status, 401)
      await assertFetchedError(res, {
        kong: { message: 'Unauthorized' },
        code: 'GH_ERR_AUTH_CREDENTIALS_INVALID',
      })
      assert.equal(res.headers.get('www-authenticate'), 'Key')
      const other = await gh.proxy('/api', { headers: { apikey: 'long-lived' } })
      assert.equal(other.status, 200)
      await other.body?.cancel()
      const listed = (await (await gh.admin('/key-auths/short-lived')).json()) as { ttl: number }
      assert.equal(listed.ttl, 0, 'the admin API shows no time left')
    } finally {
      await gh.stop()
      await upstream.close()
    }
  })
})
