import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { type GatehouseProcess, startGatehouse } from '../../../test/harness/gatehouse.ts'
import {
  closedPort,
  type EchoBody,
  echoHandler,
  startUpstream,
  type Upstream,
} from '../../../test/harness/upstream.ts'

const APP = 'https://app.example.com'
const KONG_METHODS = 'GET,HEAD,PUT,PATCH,POST,DELETE,OPTIONS,TRACE,CONNECT'
const LISTED = [APP, 'https://admin.example.com:8443', 'https://.*\\.example\\.org', '(.*\\.)?partner\\.net']

function route(name: string, config?: object) {
  return { name, paths: [`/${name}`], plugins: [{ name: 'cors', ...(config ? { config } : {}) }] }
}

describe('the cors plugin in front of an upstream', () => {
  let upstream: Upstream
  let gh: GatehouseProcess
  before(async () => {
    // Paths containing "upstream-cors" answer with the upstream's own CORS header and a Vary.
    upstream = await startUpstream((req, res) => {
      if (req.url?.includes('upstream-cors')) {
        res.setHeader('access-control-allow-origin', '*')
        res.setHeader('vary', 'Accept-Encoding')
      }
      echoHandler(req, res)
    })
    const down = await closedPort()
    gh = await startGatehouse({
      config: {
        _format_version: '3.0',
        services: [
          {
            name: 'svc',
            url: upstream.url,
            routes: [
              route('listed', {
                origins: LISTED,
                credentials: true,
                headers: ['Content-Type', 'Authorization'],
                exposed_headers: ['X-Total-Count', 'X-Page'],
                max_age: 600,
              }),
              route('any'),
              route('any-credentials', { origins: ['*'], credentials: true }),
              route('single', { origins: [APP] }),
              route('star-among', { origins: [APP, '*'] }),
              route('absent-off', { allow_origin_absent: false }),
              route('continue', { origins: [APP], preflight_continue: true }),
              route('private', { origins: [APP], private_network: true }),
            ],
          },
          {
            name: 'down',
            url: `http://127.0.0.1:${down}`,
            retries: 0,
            routes: [route('down', { origins: [APP] })],
          },
        ],
      },
    })
  })
  after(async () => {
    await gh?.stop()
    await upstream?.close()
  })

  const get = (path: string, origin?: string) => gh.proxy(path, { headers: origin ? { origin } : {} })
  const preflight = (path: string, origin: string, headers: Record<string, string> = {}) =>
    gh.proxy(path, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'PUT', ...headers },
    })

  describe('actual requests', () => {
    it('adds Allow-Origin, Allow-Credentials, Expose-Headers and Vary for a listed origin', async () => {
      const res = await get('/listed/items', APP)
      assert.equal(res.status, 200)
      assert.equal(res.headers.get('access-control-allow-origin'), APP)
      assert.equal(res.headers.get('access-control-allow-credentials'), 'true')
      assert.equal(res.headers.get('access-control-expose-headers'), 'X-Total-Count,X-Page')
      assert.equal(res.headers.get('vary'), 'Origin')
      assert.equal(res.headers.get('access-control-allow-methods'), null)
    })

    it('proxies a request from an unlisted origin but gives it no CORS headers, only Vary', async () => {
      const before = upstream.requests.length
      const res = await get('/listed/items', 'https://evil.example.net')
      assert.equal(res.status, 200)
      assert.equal(((await res.json()) as EchoBody).url, '/items')
      assert.equal(upstream.requests.length, before + 1)
      assert.equal(res.headers.get('access-control-allow-origin'), null)
      assert.equal(res.headers.get('access-control-allow-credentials'), null)
      assert.equal(res.headers.get('access-control-expose-headers'), null)
      assert.equal(res.headers.get('vary'), 'Origin')
    })

    it('compares exact origins without their default port, and with any other port', async () => {
      const defaultPort = await get('/listed', 'https://app.example.com:443')
      assert.equal(defaultPort.headers.get('access-control-allow-origin'), APP)
      const listedPort = await get('/listed', 'https://admin.example.com:8443')
      assert.equal(listedPort.headers.get('access-control-allow-origin'), 'https://admin.example.com:8443')
      const otherPort = await get('/listed', 'https://admin.example.com')
      assert.equal(otherPort.headers.get('access-control-allow-origin'), null)
      const otherScheme = await get('/listed', 'http://app.example.com')
      assert.equal(otherScheme.headers.get('access-control-allow-origin'), null)
    })

    it('matches a regular expression with ":" against the whole origin, anchored at both ends', async () => {
      const sub = await get('/listed', 'https://shop.example.org')
      assert.equal(sub.headers.get('access-control-allow-origin'), 'https://shop.example.org')
      for (const origin of [
        'https://shop.example.org.evil.com',
        'http://shop.example.org',
        'https://example.org',
      ]) {
        const res = await get('/listed', origin)
        assert.equal(res.headers.get('access-control-allow-origin'), null, origin)
      }
    })

    it('matches a regular expression without ":" against the origin host, any scheme or port', async () => {
      for (const origin of ['http://api.partner.net:3000', 'https://partner.net']) {
        const res = await get('/listed', origin)
        assert.equal(res.headers.get('access-control-allow-origin'), origin, origin)
      }
      for (const origin of ['https://evilpartner.net', 'https://partner.net.evil.com']) {
        const res = await get('/listed', origin)
        assert.equal(res.headers.get('access-control-allow-origin'), null, origin)
      }
    })

    it('allows every origin with `*` and no Vary when origins is unset', async () => {
      const res = await get('/any', APP)
      assert.equal(res.headers.get('access-control-allow-origin'), '*')
      assert.equal(res.headers.get('access-control-allow-credentials'), null)
      assert.equal(res.headers.get('vary'), null)
    })

    it('treats `*` among other origins as allowing every origin', async () => {
      const res = await get('/star-among', 'https://anyone.example')
      assert.equal(res.headers.get('access-control-allow-origin'), '*')
    })

    it('echoes the request origin instead of `*` when credentials are allowed', async () => {
      const res = await get('/any-credentials', 'https://anyone.example')
      assert.equal(res.headers.get('access-control-allow-origin'), 'https://anyone.example')
      assert.equal(res.headers.get('access-control-allow-credentials'), 'true')
      assert.equal(res.headers.get('vary'), 'Origin')
    })

    it('adds CORS headers to requests without an Origin unless allow_origin_absent is off, as Kong does', async () => {
      assert.equal((await get('/any')).headers.get('access-control-allow-origin'), '*')
      assert.equal((await get('/single')).headers.get('access-control-allow-origin'), APP)
      assert.equal((await get('/any-credentials')).headers.get('access-control-allow-origin'), '*')
      assert.equal((await get('/any-credentials')).headers.get('access-control-allow-credentials'), null)
      assert.equal((await get('/absent-off')).headers.get('access-control-allow-origin'), null)
      assert.equal((await get('/absent-off', APP)).headers.get('access-control-allow-origin'), '*')
    })

    it('gives no Allow-Origin to an unlisted origin even when only one origin is configured', async () => {
      const res = await get('/single', 'https://other.example.com')
      assert.equal(res.headers.get('access-control-allow-origin'), null)
      assert.equal(res.headers.get('vary'), 'Origin')
    })

    it("overrides the upstream's Allow-Origin, removes it for an unlisted origin, and keeps its Vary", async () => {
      const listed = await get('/listed/upstream-cors', APP)
      assert.equal(listed.headers.get('access-control-allow-origin'), APP)
      assert.equal(listed.headers.get('vary'), 'Accept-Encoding, Origin')
      const unlisted = await get('/listed/upstream-cors', 'https://evil.example.net')
      assert.equal(unlisted.headers.get('access-control-allow-origin'), null)
      assert.equal(unlisted.headers.get('vary'), 'Accept-Encoding, Origin')
    })

    it("adds CORS headers to the gateway's own 502 for a listed origin", async () => {
      const res = await get('/down', APP)
      assert.equal(res.status, 502)
      assert.equal(((await res.json()) as { code: string }).code, 'GH_ERR_UPSTREAM_UNAVAILABLE')
      assert.equal(res.headers.get('access-control-allow-origin'), APP)
      assert.equal(res.headers.get('vary'), 'Origin')
    })
  })

  describe('preflight requests', () => {
    it('answers a preflight from a listed origin itself, with every preflight header, without the upstream', async () => {
      const before = upstream.requests.length
      const res = await preflight('/listed/items', APP, { 'access-control-request-headers': 'x-ignored' })
      assert.equal(res.status, 200)
      assert.equal(await res.text(), '')
      assert.equal(upstream.requests.length, before)
      assert.equal(res.headers.get('access-control-allow-origin'), APP)
      assert.equal(res.headers.get('access-control-allow-credentials'), 'true')
      assert.equal(res.headers.get('access-control-allow-methods'), KONG_METHODS)
      assert.equal(res.headers.get('access-control-allow-headers'), 'Content-Type,Authorization')
      assert.equal(res.headers.get('access-control-max-age'), '600')
      assert.equal(res.headers.get('vary'), 'Origin')
      assert.equal(res.headers.get('access-control-expose-headers'), null)
      assert.equal(res.headers.get('access-control-allow-private-network'), null)
    })

    it('answers a preflight from an unlisted origin with 200 and no CORS headers', async () => {
      const before = upstream.requests.length
      const res = await preflight('/listed/items', 'https://evil.example.net')
      assert.equal(res.status, 200)
      assert.equal(upstream.requests.length, before)
      for (const name of ['allow-origin', 'allow-credentials', 'allow-methods', 'allow-headers', 'max-age'])
        assert.equal(res.headers.get(`access-control-${name}`), null, name)
      assert.equal(res.headers.get('vary'), 'Origin')
    })

    it('echoes Access-Control-Request-Headers when no headers are configured, and omits it when none came', async () => {
      const asked = await preflight('/any', APP, { 'access-control-request-headers': 'x-a, content-type' })
      assert.equal(asked.headers.get('access-control-allow-origin'), '*')
      assert.equal(asked.headers.get('access-control-allow-headers'), 'x-a, content-type')
      assert.equal(asked.headers.get('access-control-max-age'), null)
      const unasked = await preflight('/any', APP)
      assert.equal(unasked.headers.get('access-control-allow-headers'), null)
    })

    it('echoes the origin on a credentialed preflight when origins is `*`', async () => {
      const res = await preflight('/any-credentials', 'https://anyone.example')
      assert.equal(res.headers.get('access-control-allow-origin'), 'https://anyone.example')
      assert.equal(res.headers.get('access-control-allow-credentials'), 'true')
    })

    it('proxies an OPTIONS request that is not a preflight', async () => {
      const res = await gh.proxy('/listed/items', { method: 'OPTIONS', headers: { origin: APP } })
      assert.equal(((await res.json()) as EchoBody).method, 'OPTIONS')
      assert.equal(res.headers.get('access-control-allow-origin'), APP)
    })

    it('sends preflights to the upstream with preflight_continue and adds nothing to their answer', async () => {
      const res = await preflight('/continue/items', APP)
      const body = (await res.json()) as EchoBody
      assert.equal(body.method, 'OPTIONS')
      assert.equal(body.headers['access-control-request-method'], 'PUT')
      assert.equal(res.headers.get('access-control-allow-origin'), null)
      assert.equal(res.headers.get('access-control-allow-methods'), null)
      const actual = await get('/continue/items', APP)
      assert.equal(actual.headers.get('access-control-allow-origin'), APP)
    })

    it('allows private network access only when enabled and asked for', async () => {
      const asked = await preflight('/private', APP, { 'access-control-request-private-network': 'true' })
      assert.equal(asked.headers.get('access-control-allow-private-network'), 'true')
      const unasked = await preflight('/private', APP)
      assert.equal(unasked.headers.get('access-control-allow-private-network'), null)
      const disabled = await preflight('/single', APP, { 'access-control-request-private-network': 'true' })
      assert.equal(disabled.headers.get('access-control-allow-private-network'), null)
    })
  })
})
