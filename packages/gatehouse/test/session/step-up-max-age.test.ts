/**
 * Step-up's `max_age` with the built-in identity provider (issue 14): a route requiring a sign-in no
 * older than MAX_AGE seconds sends a page load through the provider with `max_age`; while the provider's
 * sign-in is recent it comes straight back (no password asked) with `auth_time` in the ID token, and the
 * page opens; once the sign-in is older, the provider asks for the password again and the session comes
 * back with the new `auth_time`, which the internal token passes on.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { createRemoteJWKSet, type JWTPayload, jwtVerify } from 'jose'
import { request } from 'undici'
import { type GatehouseProcess, startGatehouse } from '../harness/gatehouse.ts'
import { type EchoBody, startUpstream, type Upstream } from '../harness/upstream.ts'
import { ALICE, freePort, identitySection } from '../identity/support/gateway.ts'
import { Browser, Jar, setCookies, signIn } from './support.ts'

const MAX_AGE = 10
const INTERNAL_ISSUER = 'https://gatehouse.max-age.test'
const SECRET = 'max-age-client-secret-0123456789abcdefghij'
const PAGE = { accept: 'text/html', 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' }

describe('step-up max_age with the built-in provider', () => {
  let gh: GatehouseProcess
  let upstream: Upstream
  let origin: string

  before(async () => {
    upstream = await startUpstream()
    const port = await freePort()
    origin = `http://127.0.0.1:${port}`
    const issuer = `${origin}/oidc`
    const identity = identitySection(issuer) as { clients: object[] }
    identity.clients.push({
      client_id: 'shop-web',
      client_secret: SECRET,
      client_name: 'Shop',
      redirect_uris: [`${origin}/callback`],
      scopes: ['openid', 'profile'],
      first_party: true,
    })
    const session = (more: object = {}) => ({
      name: 'session',
      config: {
        issuer,
        client_id: 'shop-web',
        client_secret: SECRET,
        secret: 'max-age-session-secret-0123456789abcdefghij',
        scopes: ['openid', 'profile'],
        ...more,
      },
    })
    gh = await startGatehouse({
      config: {
        _format_version: '3.0',
        identity,
        internal_tokens: { issuer: INTERNAL_ISSUER },
        services: [
          {
            name: 'api',
            url: upstream.url,
            routes: [
              {
                name: 'recent',
                paths: ['/account/security'],
                plugins: [
                  session({ require: { max_age: MAX_AGE } }),
                  { name: 'internal-token', config: { audience: 'account' } },
                ],
              },
            ],
          },
        ],
        routes: [{ name: 'browser', paths: ['/login', '/callback', '/session'], plugins: [session()] }],
      },
      args: ['--proxy-listen', `127.0.0.1:${port}`],
    })
  })
  after(async () => {
    await gh?.stop()
    await upstream?.close()
  })

  /** A page load with the jar's cookies, headers as given (fetch() would rewrite Sec-Fetch-Mode). */
  async function load(jar: Jar, path: string): Promise<Response> {
    const answer = await request(origin + path, { headers: { ...PAGE, cookie: jar.header() } })
    const h = new Headers()
    for (const [name, value] of Object.entries(answer.headers))
      for (const v of Array.isArray(value) ? value : [value ?? '']) h.append(name, v)
    return jar.take(new Response(await answer.body.arrayBuffer(), { status: answer.statusCode, headers: h }))
  }

  async function authTimeSeen(res: Response): Promise<JWTPayload> {
    assert.equal(res.status, 200, await res.clone().text())
    const echo = (await res.json()) as EchoBody
    const jwks = createRemoteJWKSet(new URL(`${origin}/.well-known/gatehouse/jwks.json`))
    const { payload } = await jwtVerify((echo.headers.authorization as string).slice(7), jwks, {
      issuer: INTERNAL_ISSUER,
      audience: 'account',
    })
    return payload
  }

  it('lets a recent sign-in through after asking the provider, and makes an old one sign in again', async () => {
    const browser = new Browser()
    const jar = new Jar()
    jar.take((await signIn(browser, `${origin}/login`, '/callback', ALICE)).callback)

    // The ID token of a sign-in that did not ask for max_age need not carry auth_time: the first load
    // asks the provider, which answers at once (its sign-in is recent) with auth_time.
    let page = await load(jar, '/account/security')
    if (page.status === 302) {
      const location = new URL(page.headers.get('location')!, origin)
      assert.equal(location.searchParams.get('max_age'), String(MAX_AGE))
      const back = await signIn(browser, location.href, '/callback', ALICE)
      jar.take(back.callback)
      assert.equal(back.callback.headers.get('location'), '/account/security')
      page = await load(jar, '/account/security')
    }
    const first = (await authTimeSeen(page)).auth_time as number
    assert.ok(Number.isSafeInteger(first), 'the internal token carries auth_time')

    // Once the sign-in is older than max_age, the page load goes through the provider again, which asks
    // for the password (max_age) and gives a new auth_time.
    await sleep((first + MAX_AGE + 1) * 1000 - Date.now())
    const old = await load(jar, '/account/security')
    assert.equal(old.status, 302)
    await gh.waitForLog((l) => l.path === '/account/security' && l.error_detail === 'session_step_up_max_age')
    const again = await signIn(
      browser,
      new URL(old.headers.get('location')!, origin).href,
      '/callback',
      ALICE,
    )
    assert.ok(again.pages.length > 0, 'the provider showed its login page again')
    jar.take(again.callback)
    assert.equal(again.callback.status, 302, await again.callback.clone().text())
    assert.ok(setCookies(again.callback).some((c) => c.name === 'gh_session'))
    const second = (await authTimeSeen(await load(jar, '/account/security'))).auth_time as number
    assert.ok(second > first + MAX_AGE, `a new sign-in: auth_time ${first} → ${second}`)
  })
})
