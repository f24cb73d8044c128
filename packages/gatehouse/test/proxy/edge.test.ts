/**
 * One canonical path at the edge, header names with underscores and identity headers (issue 10 §2),
 * through the real process: a protected `/app/admin` (key-auth) beside an open `/app` on one service, and
 * a protected `/private` beside an open `/public`. Every bypass form is refused or routed to the
 * protected route, and the upstream (which echoes what it got) never sees the raw form.
 */
import assert from 'node:assert/strict'
import { request } from 'node:http'
import { after, before, describe, it } from 'node:test'
import fc from 'fast-check'
import { IDENTITY_HEADERS } from '../../src/proxy/identity-headers.ts'
import { type GatehouseProcess, startGatehouse } from '../harness/gatehouse.ts'
import { type EchoBody, startUpstream, type Upstream } from '../harness/upstream.ts'
import { h2Request, Pki, startTlsGatehouse } from '../tls/support.ts'

const KEY = 'alice-key-0123456789'

interface Sent {
  status: number
  body: string
  /** What the upstream got, when the request reached it. */
  seen: EchoBody | null
  code: string | null
}

/** Sends `path` exactly as written (fetch and URL would normalise it first). */
function send(
  gh: GatehouseProcess,
  path: string,
  headers: Record<string, string> | string[] = {},
): Promise<Sent> {
  const u = new URL(gh.proxyUrl)
  return new Promise((resolve, reject) => {
    // A flat list of header lines gets no Host of its own from Node.
    const lines = Array.isArray(headers) ? ['Host', u.host, ...headers] : headers
    const req = request({ host: u.hostname, port: u.port, path, headers: lines, agent: false }, (res) => {
      let body = ''
      res.setEncoding('utf8').on('data', (c: string) => {
        body += c
      })
      res.on('end', () => {
        const json = body.startsWith('{') ? (JSON.parse(body) as Record<string, unknown>) : {}
        resolve({
          status: res.statusCode ?? 0,
          body,
          seen: typeof json.url === 'string' ? (json as unknown as EchoBody) : null,
          code: typeof json.code === 'string' ? json.code : null,
        })
      })
    })
    req.on('error', reject)
    req.end()
  })
}

function config(upstreamUrl: string, proxy: object = {}): object {
  const keyAuth = { name: 'key-auth' }
  return {
    _format_version: '3.0',
    proxy,
    services: [
      {
        name: 'app',
        url: upstreamUrl,
        routes: [
          { name: 'admin', paths: ['/app/admin'], strip_path: false, plugins: [keyAuth] },
          { name: 'open', paths: ['/app'], strip_path: false },
          { name: 'private', paths: ['/private'], strip_path: false, plugins: [keyAuth] },
          { name: 'public', paths: ['/public'], strip_path: false },
          {
            name: 'claims',
            paths: ['/claims'],
            plugins: [
              {
                name: 'jwt',
                // Authorization as a claim's header is odd but allowed; it must not be stripped everywhere.
                config: {
                  header_names: ['x-token'],
                  claims_to_headers: { email: 'X-User-Email', sub: 'Authorization' },
                },
              },
            ],
          },
        ],
      },
    ],
    consumers: [{ username: 'alice', keyauth_credentials: [{ key: KEY }] }],
  }
}

describe('one canonical path at the edge, header names and identity headers', () => {
  let up: Upstream
  let gh: GatehouseProcess
  let lenient: GatehouseProcess
  let keeping: GatehouseProcess

  before(async () => {
    up = await startUpstream()
    ;[gh, lenient, keeping] = await Promise.all([
      startGatehouse({ config: config(up.url) }),
      startGatehouse({
        config: config(up.url, {
          path_normalization: {
            escaped_slashes: 'unescape',
            backslashes: 'unescape',
            path_parameters: 'strip',
          },
          headers_with_underscores: 'reject',
        }),
      }),
      startGatehouse({
        config: config(up.url, {
          path_normalization: {
            merge_slashes: false,
            escaped_slashes: 'keep',
            backslashes: 'keep',
            path_parameters: 'keep',
            trailing_dots: 'keep',
          },
          headers_with_underscores: 'allow',
        }),
      }),
    ])
  })
  after(async () => {
    await Promise.all([gh?.stop(), lenient?.stop(), keeping?.stop()])
    await up?.close()
  })

  it('refuses every bypass form of the issue with 400 and a code naming what was wrong, by default', async () => {
    const cases: [string, RegExp][] = [
      ['/app;/admin/x', /path parameter/],
      ['/app/admin;jsessionid=1/x', /path parameter/],
      ['/public/..%2Fprivate/x', /encoded slash/],
      ['/app%2fadmin/x', /encoded slash/],
      ['/app%5Cadmin/x', /encoded backslash/],
      ['/app\\admin/x', /backslash/],
      ['/app/admin./x', /ending in '\.'/],
      ['/app/admin%20/x', /ending in a space/],
      ['/app/admin%00.png', /control character/],
      ['/app/x%0d%0aSet-Cookie:%20a=1', /control character/],
    ]
    const before = up.requests.length
    for (const [path, why] of cases) {
      const r = await send(gh, path)
      assert.equal(r.status, 400, `${path}: ${r.body}`)
      assert.equal(r.code, 'GH_ERR_REQUEST_PATH_REJECTED', path)
      assert.match(JSON.parse(r.body).message, why, path)
    }
    assert.equal(up.requests.length, before, 'no refused request reached the upstream')
  })

  it('logs a refused path as sent, with the code and a stable reason', async () => {
    await send(gh, '/public/..%2Fprivate/x?q=1', { 'x-request-id': 'edge-refused-1' })
    const line = await gh.waitForLog((l) => l.type === 'access' && l.request_id === 'edge-refused-1')
    assert.equal(line.status, 400)
    assert.equal(line.path, '/public/..%2Fprivate/x')
    assert.equal(line.error_code, 'GH_ERR_REQUEST_PATH_REJECTED')
    assert.equal(line.error_detail, 'path_encoded_slash')
  })

  it('routes repeated slashes and dot segments to the protected route, and forwards the canonical path', async () => {
    for (const path of [
      '/app//admin/x',
      '//app/admin/x',
      '/app/./admin/x',
      '/app/%2e%2e/app/admin/x',
      '/app/y/../admin/x',
    ]) {
      const refused = await send(gh, path)
      assert.equal(refused.status, 401, `${path} must need the key: ${refused.body}`)
      const allowed = await send(gh, path, { apikey: KEY })
      assert.equal(allowed.status, 200, path)
      assert.equal(allowed.seen?.url, '/app/admin/x', path)
    }
    const open = await send(gh, '/app//other?x=%2F&y=..%2F', {})
    assert.equal(open.seen?.url, '/app/other?x=%2F&y=..%2F', 'the query string is never changed')
  })

  it('routes an unescaped slash, backslash or stripped ;parameter by where it leads, with those settings', async () => {
    const protectedForms = {
      '/public/..%2Fprivate/x': '/private/x',
      '/app%2Fadmin/x': '/app/admin/x',
      '/app\\admin/x': '/app/admin/x',
      '/app%5cadmin/x': '/app/admin/x',
      '/app;/admin/x': '/app/admin/x',
      '/public/..;a=1/private/x': '/private/x',
    }
    for (const [path, canonical] of Object.entries(protectedForms)) {
      assert.equal((await send(lenient, path)).status, 401, path)
      const r = await send(lenient, path, { apikey: KEY })
      assert.equal(r.status, 200, path)
      assert.equal(r.seen?.url, canonical, path)
    }
    // Still refused whatever the settings: trailing dots (default kept) and control characters.
    assert.equal((await send(lenient, '/app/admin./x')).code, 'GH_ERR_REQUEST_PATH_REJECTED')
    assert.equal((await send(lenient, '/app/%00')).code, 'GH_ERR_REQUEST_PATH_REJECTED')
  })

  it('routes and forwards the raw forms unchanged with keep, as documented for upstreams that need them', async () => {
    for (const path of [
      '/app//admin/x',
      '/app%2Fadmin/x',
      '/app\\admin/x',
      '/app;/admin/x',
      '/app./admin/x',
    ]) {
      const r = await send(keeping, path)
      assert.equal(r.status, 200, `${path}: ${r.body}`)
      assert.equal(r.seen?.url, path, path)
    }
    assert.equal((await send(keeping, '/app/%7f')).code, 'GH_ERR_REQUEST_PATH_REJECTED')
  })

  it('drops header names with underscores before routing, so X_Consumer_Username never reaches the upstream', async () => {
    const r = await send(gh, '/app/x', {
      X_Consumer_Username: 'admin',
      x_custom: '1',
      'X-Custom': '2',
    })
    assert.equal(r.status, 200)
    const names = Object.keys(r.seen!.headers)
    assert.ok(!names.some((n) => n.includes('_')), names.join())
    assert.ok(!r.seen!.rawHeaders.some((n) => n.includes('_')), r.seen!.rawHeaders.join())
    assert.equal(r.seen!.headers['x-custom'], '2')
  })

  it('refuses header names with underscores with headers_with_underscores: reject', async () => {
    const r = await send(lenient, '/app/x', { x_custom: '1', 'x-request-id': 'edge-underscore-1' })
    assert.equal(r.status, 400)
    assert.equal(r.code, 'GH_ERR_REQUEST_HEADER_REJECTED')
    assert.match(JSON.parse(r.body).message, /x_custom/)
    const line = await lenient.waitForLog((l) => l.type === 'access' && l.request_id === 'edge-underscore-1')
    assert.equal(line.error_code, 'GH_ERR_REQUEST_HEADER_REJECTED')
  })

  it('passes other names with underscores with allow, but never one that reads as an identity header', async () => {
    const r = await send(keeping, '/app/x', {
      x_custom: '1',
      X_Consumer_Username: 'admin',
      x_userinfo: 'e30',
    })
    assert.equal(r.status, 200)
    assert.equal(r.seen!.headers.x_custom, '1')
    assert.equal(r.seen!.headers.x_consumer_username, undefined)
    assert.equal(r.seen!.headers.x_userinfo, undefined)
  })

  it('strips every identity header in the list, and those plugins declare, on a route without auth', async () => {
    const spoofed: Record<string, string> = { 'X-User-Email': 'admin@example.com' }
    for (const name of IDENTITY_HEADERS) spoofed[name] = 'spoofed'
    const r = await send(gh, '/app/x', { ...spoofed, authorization: 'Bearer for-the-upstream' })
    assert.equal(r.status, 200)
    for (const name of Object.keys(spoofed))
      assert.equal(r.seen!.headers[name.toLowerCase()], undefined, `${name} reached the upstream`)
    assert.equal(r.seen!.headers.authorization, 'Bearer for-the-upstream')
  })

  it('sends the consumer the gateway identified, never the one a client claims, on the protected route', async () => {
    const r = await send(gh, '/app/admin', [
      ...['X-Consumer-Username', 'admin', 'X_Consumer_Username', 'admin', 'X-Credential-Username', 'admin'],
      ...['X-Authenticated-Groups', 'admins', 'apikey', KEY],
    ])
    assert.equal(r.status, 200)
    assert.equal(r.seen!.headers['x-consumer-username'], 'alice')
    assert.equal(r.seen!.headers['x-credential-username'], undefined)
    assert.equal(r.seen!.headers['x-authenticated-groups'], undefined)
    assert.equal(r.seen!.rawHeaders.filter((h) => h.toLowerCase() === 'x-consumer-username').length, 1)
  })

  it('never lets a header name with an underscore or an identity header reach the upstream, whatever the client sends', async () => {
    const identityLike = fc
      .tuple(fc.constantFrom(...IDENTITY_HEADERS), fc.boolean(), fc.boolean())
      .map(([n, upper, underscores]) => {
        const name = underscores ? n.replaceAll('-', '_') : n
        return upper ? name.toUpperCase() : name
      })
    // Names Node or HTTP give a meaning of their own (a second Host, a bad Content-Length) are not the point.
    const special = new Set([
      'host',
      'content-length',
      'transfer-encoding',
      'connection',
      'expect',
      'te',
      'upgrade',
    ])
    const other = fc
      .stringMatching(/^[A-Za-z][A-Za-z0-9_-]{0,10}$/)
      .filter((n) => !special.has(n.toLowerCase()))
    const name = fc.oneof(identityLike, other)
    const headers = fc.array(fc.tuple(name, fc.stringMatching(/^[a-z0-9]{1,6}$/)), {
      minLength: 1,
      maxLength: 10,
    })
    await fc.assert(
      fc.asyncProperty(headers, async (lines) => {
        const r = await send(gh, '/app/x', lines.flat())
        assert.equal(r.status, 200, r.body)
        for (const n of Object.keys(r.seen!.headers)) {
          assert.ok(!n.includes('_'), `${n} reached the upstream`)
          assert.ok(!(IDENTITY_HEADERS as readonly string[]).includes(n), `${n} reached the upstream`)
        }
      }),
      { numRuns: 40 },
    )
  })
})

describe('the same edge rules for HTTP/2 requests', () => {
  const pki = new Pki()
  let caPem: string
  let up: Upstream
  let gh: GatehouseProcess
  let port: number

  before(async () => {
    const ca = pki.issue('ca', { subject: '/CN=Gatehouse Test CA', isCa: true })
    caPem = pki.read(ca.cert)
    const shop = pki.issue('shop', { subject: '/CN=shop.example', san: ['DNS:shop.example'], ca })
    up = await startUpstream()
    const base = config(up.url) as Record<string, unknown>
    ;({ gh, tlsPort: port } = await startTlsGatehouse({
      config: {
        ...base,
        proxy: { tls: { certificates: [{ cert: shop.cert, key: shop.key, snis: ['shop.example'] }] } },
      },
    }))
  })
  after(async () => {
    await gh?.stop()
    await up?.close()
    pki.remove()
  })

  it('drops underscored and identity headers and refuses a bypass path over h2 too', async () => {
    const ok = await h2Request(
      port,
      'shop.example',
      { ':path': '/app//x', x_consumer_username: 'admin', 'x-consumer-id': 'admin', 'x-kept': '1' },
      { ca: caPem },
    )
    assert.equal(ok.headers[':status'], 200)
    const seen = JSON.parse(ok.body) as EchoBody
    assert.equal(seen.url, '/app/x')
    assert.equal(seen.headers['x-kept'], '1')
    assert.ok(!Object.keys(seen.headers).some((n) => n.includes('_') || n === 'x-consumer-id'), ok.body)
    const refused = await h2Request(
      port,
      'shop.example',
      { ':path': '/public/..%2Fprivate/x' },
      { ca: caPem },
    )
    assert.equal(refused.headers[':status'], 400)
    assert.equal(JSON.parse(refused.body).code, 'GH_ERR_REQUEST_PATH_REJECTED')
  })

  it('refuses an :authority that is no host[:port] over h2, as a bad Host over HTTP/1.1', async () => {
    const seen = up.requests.length
    // nghttp2 refuses some forms itself (a stream error); the gateway answers the rest.
    for (const authority of ['shop.example:80:81', 'shop.example:99999']) {
      const res = await h2Request(
        port,
        'shop.example',
        { ':path': '/app/x', ':authority': authority },
        { ca: caPem },
      )
      assert.equal(res.headers[':status'], 400, authority)
      assert.equal(JSON.parse(res.body).code, 'GH_ERR_REQUEST_HOST_INVALID', authority)
    }
    for (const authority of ['admin@shop.example', 'shop.example/x'])
      await assert.rejects(
        h2Request(port, 'shop.example', { ':path': '/app/x', ':authority': authority }, { ca: caPem }),
        { code: 'ERR_HTTP2_STREAM_ERROR' },
      )
    assert.equal(up.requests.length, seen, 'the upstream saw none of them')
  })
})
