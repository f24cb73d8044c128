/**
 * The endpoints the gateway answers itself are logged and counted like routed traffic, under their own
 * labels (docs/metrics.md): the internal-token JWKS as route "gatehouse:internal-jwks", the identity
 * provider (oidc-provider's documents and our pages) as "gatehouse:identity-provider", the session
 * plugin's own paths under the route they matched. Each access line's `bytes_sent` is the body the client
 * received, and its `route` and `service` are the labels its request counts under in /metrics.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { type GatehouseProcess, type LogLine, startGatehouse } from '../harness/gatehouse.ts'
import { sample } from '../harness/prometheus.ts'
import { startUpstream, type Upstream } from '../harness/upstream.ts'
import { freePort, identitySection } from '../identity/support/gateway.ts'

const SHOP_SECRET = 'builtin-shop-secret-0123456789abcdefghijkl'
const SESSION_SECRET = 'builtin-session-secret-0123456789abcdefghij'
const JWKS_PATH = '/.well-known/gatehouse/jwks.json'

/** Retries `check` until it passes: log lines reach stdout within ~100 ms of the response. */
async function eventually<T>(check: () => Promise<T>, timeout = 5000): Promise<T> {
  const deadline = Date.now() + timeout
  for (;;) {
    try {
      return await check()
    } catch (err) {
      if (Date.now() > deadline) throw err
      await sleep(25)
    }
  }
}

describe('the endpoints the gateway answers itself', () => {
  let upstream: Upstream
  let gh: GatehouseProcess
  let issuer: string
  let origin: string
  let n = 0

  /** A request with its own id; resolves with the response, the body received and its access line. */
  const send = async (url: string, init: RequestInit = {}) => {
    const id = `builtin-${++n}`
    const headers = new Headers(init.headers)
    headers.set('x-request-id', id)
    const res = await fetch(url, { ...init, headers, redirect: 'manual' })
    const body = Buffer.from(await res.arrayBuffer())
    const line = await gh.waitForLog((l) => l.type === 'access' && l.request_id === id)
    return { res, body, line }
  }
  const metrics = async () => (await gh.admin('/metrics')).text()
  const count = (text: string, service: string, route: string, code: number) =>
    sample(text, 'gatehouse_http_requests_total', { service, route, code: String(code) }) ?? 0

  before(async () => {
    upstream = await startUpstream()
    const port = await freePort()
    origin = `http://127.0.0.1:${port}`
    issuer = `${origin}/oidc`
    const identity = identitySection(issuer) as { clients: object[] }
    identity.clients.push({
      client_id: 'shop-web',
      client_secret: SHOP_SECRET,
      redirect_uris: [`${origin}/callback`],
      scopes: ['openid', 'profile'],
    })
    gh = await startGatehouse({
      config: {
        _format_version: '3.0',
        identity,
        services: [{ name: 'shop', url: upstream.url, routes: [{ name: 'catalog', paths: ['/catalog'] }] }],
        routes: [
          {
            name: 'browser',
            paths: ['/login', '/callback', '/logout', '/session'],
            plugins: [
              {
                name: 'session',
                config: {
                  issuer,
                  client_id: 'shop-web',
                  client_secret: SHOP_SECRET,
                  secret: SESSION_SECRET,
                  scopes: ['openid', 'profile'],
                },
              },
            ],
          },
        ],
      },
      args: ['--proxy-listen', `127.0.0.1:${port}`],
    })
  })
  after(async () => {
    await gh?.stop()
    await upstream?.close()
  })

  it('logs the JWKS with the bytes the client received, and counts it as route="gatehouse:internal-jwks"', async () => {
    const before = count(await metrics(), '', 'gatehouse:internal-jwks', 200)
    const { res, body, line } = await send(`${gh.proxyUrl}${JWKS_PATH}`)
    assert.equal(res.status, 200)
    assert.ok(body.length > 0 && Array.isArray((JSON.parse(body.toString()) as { keys: unknown }).keys))
    assert.equal(line.bytes_sent, body.length)
    assert.equal(line.route, 'gatehouse:internal-jwks')
    assert.equal(line.service, null)
    assert.equal(line.status, 200)
    await eventually(async () =>
      assert.equal(count(await metrics(), '', 'gatehouse:internal-jwks', 200), before + 1),
    )
  })

  it('logs no body bytes for a HEAD of the JWKS, and the 405 body for another method', async () => {
    const head = await send(`${gh.proxyUrl}${JWKS_PATH}`, { method: 'HEAD' })
    assert.equal(head.res.status, 200)
    assert.equal(head.line.bytes_sent, 0)
    const post = await send(`${gh.proxyUrl}${JWKS_PATH}`, { method: 'POST', body: '{}' })
    assert.equal(post.res.status, 405)
    assert.ok(post.body.length > 0)
    assert.equal(post.line.bytes_sent, post.body.length)
    assert.equal(post.line.route, 'gatehouse:internal-jwks')
    await eventually(async () => assert.equal(count(await metrics(), '', 'gatehouse:internal-jwks', 405), 1))
  })

  it('logs the identity provider\'s documents with their true size, as route="gatehouse:identity-provider"', async () => {
    const before = count(await metrics(), '', 'gatehouse:identity-provider', 200)
    const { res, body, line } = await send(`${issuer}/.well-known/openid-configuration`)
    assert.equal(res.status, 200)
    assert.equal((JSON.parse(body.toString()) as { issuer: string }).issuer, issuer)
    assert.equal(line.bytes_sent, body.length)
    assert.equal(line.route, 'gatehouse:identity-provider')
    assert.equal(line.service, null)
    await eventually(async () =>
      assert.equal(count(await metrics(), '', 'gatehouse:identity-provider', 200), before + 1),
    )
    const head = await send(`${issuer}/.well-known/openid-configuration`, { method: 'HEAD' })
    assert.equal(head.res.status, 200)
    assert.equal(head.line.bytes_sent, 0)
  })

  it("logs the session plugin's own paths under their route, and our sign-in pages with their true size", async () => {
    // The session plugin's paths are a route of the configuration: it counts them as such.
    const info = await send(`${origin}/session`)
    assert.equal(info.res.status, 200)
    assert.deepEqual(JSON.parse(info.body.toString()), { authenticated: false })
    assert.equal(info.line.route, 'browser')
    assert.equal(info.line.service, null)
    assert.equal(info.line.bytes_sent, info.body.length)

    const login = await send(`${origin}/login`)
    assert.equal(login.res.status, 302)
    assert.equal(login.line.route, 'browser')
    assert.equal(login.line.bytes_sent, login.body.length)
    const cookies = login.res.headers
      .getSetCookie()
      .map((c) => c.split(';')[0]!)
      .join('; ')

    // The provider's authorisation endpoint (koa's redirect), then our login page (HTML).
    const auth = await send(login.res.headers.get('location')!, { headers: { cookie: cookies } })
    assert.ok(auth.res.status >= 300 && auth.res.status < 400, `status ${auth.res.status}`)
    assert.equal(auth.line.route, 'gatehouse:identity-provider')
    assert.equal(auth.line.bytes_sent, auth.body.length)
    const interaction = auth.res.headers
      .getSetCookie()
      .map((c) => c.split(';')[0]!)
      .join('; ')
    const page = await send(new URL(auth.res.headers.get('location')!, auth.res.url).href, {
      headers: { cookie: interaction },
    })
    assert.equal(page.res.status, 200)
    assert.match(page.res.headers.get('content-type') ?? '', /^text\/html/)
    assert.ok(page.body.length > 500, `an HTML page, ${page.body.length} bytes`)
    assert.equal(page.line.route, 'gatehouse:identity-provider')
    assert.equal(page.line.bytes_sent, page.body.length)
  })

  it('counts every request under the labels of its access line: route and service, null for ""', async () => {
    await send(`${gh.proxyUrl}/catalog/items`)
    await send(`${gh.proxyUrl}/nowhere`)
    await eventually(async () => {
      const text = await metrics()
      const logged = new Map<string, number>()
      for (const l of gh.accessLines() as LogLine[]) {
        const key = JSON.stringify([l.service ?? '', l.route ?? '', String(l.status)])
        logged.set(key, (logged.get(key) ?? 0) + 1)
      }
      const counted = new Map<string, number>()
      for (const line of text.split('\n')) {
        const m = /^gatehouse_http_requests_total\{service="(.*)",route="(.*)",code="(\d+)"\} (\d+)$/.exec(
          line,
        )
        if (m !== null) counted.set(JSON.stringify([m[1], m[2], m[3]]), Number(m[4]))
      }
      assert.deepEqual(counted, logged)
      for (const route of [
        'catalog',
        '',
        'browser',
        'gatehouse:internal-jwks',
        'gatehouse:identity-provider',
      ])
        assert.ok(
          [...counted.keys()].some((k) => (JSON.parse(k) as string[])[1] === route),
          `route="${route}"`,
        )
    })
  })
})
