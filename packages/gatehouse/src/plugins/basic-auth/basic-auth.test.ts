/**
 * basic-auth end to end: Kong's answers (spec/03-plugins/10-basic-auth/03-access_spec.lua, 3.6+ messages)
 * through the real process, what the upstream receives, AND/OR with key-auth, and the bounds that keep
 * password checks from being a denial-of-service lever.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { assertErrorBody, assertFetchedError } from '../../../test/harness/error-body.ts'
import { type GatehouseProcess, startGatehouse } from '../../../test/harness/gatehouse.ts'
import { type EchoBody, startUpstream, type Upstream } from '../../../test/harness/upstream.ts'
import { MAX_RUNNING, MAX_WAITING } from '../../crypto/password-checks.ts'

/** The reference implementation's test vector: the argon2id hash of "password". */
const HASHED = '$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc'
const CHALLENGE = 'Basic realm="service"'
const MICKEY_KEY_ID = '2a7c9f1e-6b1d-4d8e-9c3a-0f5e7d2b0001'

const basic = (userPass: string) => `Basic ${Buffer.from(userPass).toString('base64')}`

function route(name: string, plugins: object[]) {
  return { name, paths: [`/${name}`], plugins }
}

function config(upstreamUrl: string): object {
  const basicAuth = (config: object = {}) => ({ name: 'basic-auth', config })
  const keyAuth = (config: object = {}) => ({ name: 'key-auth', config })
  return {
    _format_version: '3.0',
    services: [
      {
        name: 'svc',
        url: upstreamUrl,
        routes: [
          route('basic', [basicAuth()]),
          route('hide', [basicAuth({ hide_credentials: true })]),
          route('anon', [basicAuth({ anonymous: 'no-body' })]),
          route('realm', [basicAuth({ realm: 'back office' })]),
          route('and', [basicAuth(), keyAuth()]),
          route('or', [basicAuth({ anonymous: 'Anonymous' }), keyAuth({ anonymous: 'Anonymous' })]),
        ],
      },
    ],
    consumers: [
      {
        username: 'bob',
        custom_id: 'bob-1',
        basicauth_credentials: [
          { username: 'bob', password: 'kong' },
          { username: 'user123', password: 'password123' },
          { username: 'user321', password: 'password:123' },
          { username: 'hashed', password: HASHED },
        ],
      },
      { username: 'no-body' },
      { username: 'Anonymous' },
      { username: 'Mickey', keyauth_credentials: [{ id: MICKEY_KEY_ID, key: 'Mouse' }] },
      { username: 'Aladdin', basicauth_credentials: [{ username: 'Aladdin', password: 'OpenSesame' }] },
    ],
  }
}

describe('the basic-auth plugin in front of an upstream', () => {
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

  const get = (path: string, headers: Record<string, string> = {}) => gh.proxy(path, { headers })

  async function assertUnauthorized(res: Response, challenge = CHALLENGE): Promise<void> {
    assert.equal(res.status, 401)
    await assertFetchedError(res, {
      kong: { message: 'Unauthorized' },
      code: 'GH_ERR_AUTH_CREDENTIALS_INVALID',
    })
    assert.equal(res.headers.get('www-authenticate'), challenge)
  }

  async function seen(res: Response): Promise<EchoBody> {
    assert.equal(res.status, 200)
    return (await res.json()) as EchoBody
  }

  describe('refusals', () => {
    it('answers 401 "Unauthorized" with `WWW-Authenticate: Basic realm="service"` without credentials', async () => {
      const before = upstream.requests.length
      await assertUnauthorized(await get('/basic'))
      assert.equal(upstream.requests.length, before, 'nothing reached the upstream')
    })

    it('answers the same for a malformed Authorization or Proxy-Authorization header', async () => {
      for (const value of [
        'foobar',
        'Bearer abc',
        'Basic',
        'Basic !!!!',
        'Basic adXNlcjEyMzpwYXNzd29yZDEyMw==',
      ]) {
        await assertUnauthorized(await get('/basic', { authorization: value }))
        await assertUnauthorized(await get('/basic', { 'proxy-authorization': value }))
      }
    })

    it('answers the same for a password only, a username only, a wrong password and an unknown user', async () => {
      await assertUnauthorized(await get('/basic', { authorization: 'Basic a29uZw==' })) // "kong"
      await assertUnauthorized(await get('/basic', { authorization: 'Basic Ym9i' })) // "bob"
      await assertUnauthorized(await get('/basic', { authorization: basic(':kong') }))
      await assertUnauthorized(await get('/basic', { authorization: basic('bob:wrong') }))
      await assertUnauthorized(await get('/basic', { authorization: basic('nobody:kong') }))
    })

    it('puts the configured realm in the challenge', async () => {
      await assertUnauthorized(await get('/realm'), 'Basic realm="back office"')
    })
  })

  describe('valid credentials', () => {
    it("sends the consumer's identity upstream, with the username as X-Credential-Identifier", async () => {
      const echo = await seen(await get('/basic/orders', { authorization: basic('user123:password123') }))
      const bob = (await (await gh.admin('/consumers/bob')).json()) as { id: string }
      assert.equal(echo.url, '/orders')
      assert.equal(echo.headers['x-consumer-id'], bob.id)
      assert.equal(echo.headers['x-consumer-username'], 'bob')
      assert.equal(echo.headers['x-consumer-custom-id'], 'bob-1')
      assert.equal(echo.headers['x-credential-identifier'], 'user123')
      assert.equal(echo.headers['x-anonymous-consumer'], undefined)
      assert.equal(
        echo.headers.authorization,
        basic('user123:password123'),
        'forwarded without hide_credentials',
      )
    })

    it('accepts a password containing ":", a case-insensitive scheme, and a hash written in the file', async () => {
      await seen(await get('/basic', { authorization: basic('user321:password:123') }))
      await seen(
        await get('/basic', { authorization: `BASIC ${Buffer.from('bob:kong').toString('base64')}` }),
      )
      const echo = await seen(await get('/basic', { authorization: basic('hashed:password') }))
      assert.equal(echo.headers['x-credential-identifier'], 'hashed')
    })

    it('accepts Proxy-Authorization, which never goes upstream', async () => {
      const echo = await seen(await get('/basic', { 'proxy-authorization': basic('bob:kong') }))
      assert.equal(echo.headers['x-consumer-username'], 'bob')
      assert.equal(echo.headers['proxy-authorization'], undefined)
    })

    it('falls back to Authorization when Proxy-Authorization names no known user, as Kong does', async () => {
      const echo = await seen(
        await get('/basic', {
          'proxy-authorization': basic('nobody:x'),
          authorization: basic('Aladdin:OpenSesame'),
        }),
      )
      assert.equal(echo.headers['x-consumer-username'], 'Aladdin')
      // A known user in Proxy-Authorization decides, even with a wrong password.
      await assertUnauthorized(
        await get('/basic', {
          'proxy-authorization': basic('bob:wrong'),
          authorization: basic('Aladdin:OpenSesame'),
        }),
      )
    })

    it('never accepts a wrong password for a user whose right password was just accepted', async () => {
      await seen(await get('/basic', { authorization: basic('bob:kong') }))
      for (const wrong of ['kong ', 'Kong', 'kon', 'kongkong', '']) {
        await assertUnauthorized(await get('/basic', { authorization: basic(`bob:${wrong}`) }))
      }
      await seen(await get('/basic', { authorization: basic('bob:kong') }))
      // Another user's cached password does not open this one.
      await assertUnauthorized(await get('/basic', { authorization: basic('user123:kong') }))
    })
  })

  describe('hide_credentials', () => {
    it('removes the Authorization header before forwarding', async () => {
      const echo = await seen(await get('/hide', { authorization: basic('bob:kong') }))
      assert.equal(echo.headers.authorization, undefined)
      assert.equal(echo.headers['x-consumer-username'], 'bob')
    })

    it('keeps an Authorization header it did not read (credentials came in Proxy-Authorization)', async () => {
      const echo = await seen(
        await get('/hide', {
          'proxy-authorization': basic('bob:kong'),
          authorization: 'Bearer for-upstream',
        }),
      )
      assert.equal(echo.headers.authorization, 'Bearer for-upstream')
    })
  })

  describe('anonymous', () => {
    it('lets a request without or with wrong credentials through as the anonymous consumer', async () => {
      for (const headers of [{}, { authorization: basic('bob:wrong') }, { authorization: 'garbage' }]) {
        const echo = await seen(await get('/anon', headers))
        assert.equal(echo.headers['x-anonymous-consumer'], 'true')
        assert.equal(echo.headers['x-consumer-username'], 'no-body')
        assert.equal(echo.headers['x-credential-identifier'], undefined)
      }
      const valid = await seen(await get('/anon', { authorization: basic('bob:kong') }))
      assert.equal(valid.headers['x-consumer-username'], 'bob')
      assert.equal(valid.headers['x-anonymous-consumer'], undefined)
    })
  })

  describe('with key-auth and no anonymous: a logical AND', () => {
    const both = { apikey: 'Mouse', authorization: basic('Aladdin:OpenSesame') }

    it('passes with both credentials; the later plugin (basic-auth) names the consumer', async () => {
      const echo = await seen(await get('/and', both))
      assert.equal(echo.headers['x-consumer-username'], 'Aladdin')
      assert.equal(echo.headers['x-credential-identifier'], 'Aladdin')
      assert.equal(echo.headers['x-anonymous-consumer'], undefined)
    })

    it("fails with each plugin's own 401 when its credential is missing", async () => {
      await assertUnauthorized(await get('/and', { apikey: 'Mouse' }))
      const onlyBasic = await get('/and', { authorization: both.authorization })
      assert.equal(onlyBasic.status, 401)
      const noKey = {
        kong: { message: 'No API key found in request' },
        code: 'GH_ERR_AUTH_CREDENTIALS_MISSING',
      }
      await assertFetchedError(onlyBasic, noKey)
      assert.equal(onlyBasic.headers.get('www-authenticate'), 'Key')
      // key-auth runs first
      await assertFetchedError(await get('/and'), noKey)
    })
  })

  describe('with key-auth, both with anonymous: a logical OR', () => {
    it('takes the first plugin that authenticates (key-auth runs first)', async () => {
      const echo = await seen(
        await get('/or', { apikey: 'Mouse', authorization: basic('Aladdin:OpenSesame') }),
      )
      assert.equal(echo.headers['x-consumer-username'], 'Mickey')
      assert.equal(echo.headers['x-credential-identifier'], MICKEY_KEY_ID)
      assert.equal(echo.headers['x-anonymous-consumer'], undefined)
    })

    it('passes with either credential alone, even after the other plugin fell back to anonymous', async () => {
      assert.equal(
        (await seen(await get('/or', { apikey: 'Mouse' }))).headers['x-consumer-username'],
        'Mickey',
      )
      const basicOnly = await seen(await get('/or', { authorization: basic('Aladdin:OpenSesame') }))
      assert.equal(basicOnly.headers['x-consumer-username'], 'Aladdin')
      assert.equal(basicOnly.headers['x-anonymous-consumer'], undefined)
      const wrongKey = await seen(
        await get('/or', { apikey: 'wrong', authorization: basic('Aladdin:OpenSesame') }),
      )
      assert.equal(wrongKey.headers['x-consumer-username'], 'Aladdin')
      assert.equal(wrongKey.headers['x-credential-identifier'], 'Aladdin')
    })

    it('passes as the anonymous consumer with no valid credential', async () => {
      const echo = await seen(await get('/or', { apikey: 'wrong', authorization: basic('Aladdin:wrong') }))
      assert.equal(echo.headers['x-consumer-username'], 'Anonymous')
      assert.equal(echo.headers['x-anonymous-consumer'], 'true')
      assert.equal(echo.headers['x-credential-identifier'], undefined)
    })
  })

  describe('password checks under load', () => {
    it(`answers every request of a burst: 401, or 503 beyond ${MAX_RUNNING} running + ${MAX_WAITING} waiting checks; cached users pass`, async () => {
      await seen(await get('/basic', { authorization: basic('bob:kong') })) // now remembered
      const burst = Array.from({ length: 160 }, (_, i) => {
        const who = i % 8 === 0 ? 'bob:kong' : i % 2 === 0 ? `bob:guess-${i}` : `ghost-${i}:guess`
        return get('/basic', { authorization: basic(who) }).then(async (res) => ({
          who,
          status: res.status,
          headers: res.headers,
          body: await res.text(),
          retryAfter: res.headers.get('retry-after'),
          challenge: res.headers.get('www-authenticate'),
        }))
      })
      const results = await Promise.all(burst)
      for (const r of results) {
        if (r.who === 'bob:kong') {
          assert.equal(r.status, 200, 'a remembered password costs no check, so it passes even now')
        } else if (r.status === 401) {
          assertErrorBody(r, { kong: { message: 'Unauthorized' }, code: 'GH_ERR_AUTH_CREDENTIALS_INVALID' })
          assert.equal(r.challenge, CHALLENGE)
        } else {
          assert.equal(r.status, 503, `${r.who}: ${r.status} ${r.body}`)
          const busy = { message: 'Too many password checks in progress, retry shortly' }
          assertErrorBody(r, { kong: busy, code: 'GH_ERR_AUTH_CHECKS_BUSY' })
          assert.equal(r.retryAfter, '1')
        }
      }
      const refusedBusy = results.filter((r) => r.status === 503)
      assert.ok(refusedBusy.length > 0, 'the queue bound was reached')
      assert.ok(
        refusedBusy.some((r) => r.who.startsWith('ghost')),
        'unknown usernames cost a check too (they also queue)',
      )
      assert.ok(results.filter((r) => r.status === 401).length >= MAX_RUNNING, 'the queued checks ran')
      // The process is alive and checks passwords again once the burst is over.
      assert.equal(gh.child.exitCode, null)
      await seen(await get('/basic', { authorization: basic('user321:password:123') }))
    })
  })

  it('never writes a password to its logs', async () => {
    for (const secret of ['password123', 'OpenSesame', 'password:123']) {
      assert.ok(!gh.stdout.includes(secret), 'stdout holds no password')
      assert.ok(!gh.stderr.includes(secret), 'stderr holds no password')
    }
  })
})
