import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { type GatehouseProcess, startGatehouse } from '../harness/gatehouse.ts'
import { rawRequest } from '../harness/http.ts'
import { type EchoBody, startUpstream, type Upstream } from '../harness/upstream.ts'

/** Each upstream answers with its own name so a test can tell which service a route reached. */
async function namedUpstream(): Promise<Upstream> {
  return startUpstream((req, res) => {
    const body = JSON.stringify({ url: req.url, host: req.headers.host, method: req.method })
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
    res.end(body)
  })
}

describe('routing through the gateway, with Kong precedence and path handling', () => {
  let up: Upstream
  let gh: GatehouseProcess
  interface Init {
    method?: string
    headers?: Record<string, string>
    body?: string
  }
  const route = async (path: string, init: Init = {}) => {
    const res = await rawRequest(gh.proxyUrl + path, init)
    const body = res.status === 200 ? (JSON.parse(res.body) as EchoBody & { host: string }) : res.body
    return { status: res.status, body, headers: res.headers }
  }

  before(async () => {
    up = await namedUpstream()
    gh = await startGatehouse({
      config: {
        _format_version: '3.0',
        services: [
          {
            name: 'plain',
            url: up.url,
            routes: [
              { name: 'prefix-short', paths: ['/a'] },
              { name: 'prefix-long', paths: ['/a/b'] },
            ],
          },
          {
            name: 'svc-path',
            url: `${up.url}/s`,
            routes: [
              { name: 'v0', paths: ['/fv0'] },
              { name: 'v1', paths: ['/fv1'], path_handling: 'v1' },
            ],
          },
          { name: 'nostrip', url: up.url, routes: [{ name: 'keep', paths: ['/keep'], strip_path: false }] },
          {
            name: 'regex',
            url: up.url,
            routes: [
              { name: 'regex-users', paths: ['~/users/(?<id>\\d+)$'] },
              { name: 'regex-low', paths: ['~/r/.*'], regex_priority: 0 },
              { name: 'regex-high', paths: ['~/r/x.*'], regex_priority: 10 },
            ],
          },
          {
            name: 'hosts',
            url: up.url,
            routes: [
              { name: 'exact-host', hosts: ['api.example.com'], paths: ['/h'] },
              { name: 'wild-host', hosts: ['*.example.com'], paths: ['/h'] },
              { name: 'preserve', hosts: ['keep.example.org'], preserve_host: true },
            ],
          },
          {
            name: 'methods-headers',
            url: up.url,
            routes: [
              { name: 'get-only', methods: ['GET'], paths: ['/m'] },
              { name: 'post-only', methods: ['POST'], paths: ['/m'] },
              { name: 'header-v2', paths: ['/hdr'], headers: { 'x-version': ['v2'] } },
              { name: 'header-regex', paths: ['/hdr'], headers: { 'x-version': ['~*^beta-\\d+$'] } },
              { name: 'header-none', paths: ['/hdr'] },
            ],
          },
          {
            name: 'https-only',
            url: up.url,
            routes: [{ name: 'tls', paths: ['/secure'], protocols: ['https'] }],
          },
          {
            name: 'redirect',
            url: up.url,
            routes: [
              {
                name: 'tls-301',
                paths: ['/tls-moved'],
                protocols: ['https'],
                https_redirect_status_code: 301,
              },
            ],
          },
        ],
      },
    })
  })
  after(async () => {
    await gh.stop()
    await up.close()
  })

  /** The name of the route that served a request, read from its access-log line. */
  const routeName = async (path: string, init: Init = {}) => {
    const id = randomUUID()
    await route(path, { ...init, headers: { ...init.headers, 'x-request-id': id } })
    return (await gh.waitForLog((l) => l.type === 'access' && l.request_id === id)).route
  }

  it('prefers the longer of two matching prefixes and strips the matched one', async () => {
    const r = await route('/a/b/c')
    assert.equal(r.status, 200)
    assert.equal((r.body as EchoBody).url, '/c')
    assert.equal(await routeName('/a/b/c'), 'prefix-long')
    assert.equal(await routeName('/a/x'), 'prefix-short')
  })

  it("joins the service path with path_handling v0 (one slash) and v1 (concatenation), as Kong's table says", async () => {
    assert.equal(((await route('/fv0req')).body as EchoBody).url, '/s/req')
    assert.equal(((await route('/fv0/req')).body as EchoBody).url, '/s/req')
    assert.equal(((await route('/fv1req')).body as EchoBody).url, '/sreq')
    assert.equal(((await route('/fv1/req')).body as EchoBody).url, '/s/req')
    assert.equal(((await route('/fv0')).body as EchoBody).url, '/s')
  })

  it('keeps the whole path when strip_path is false, and always keeps the raw query string', async () => {
    assert.equal(((await route('/keep/x?a=1&b=%20c')).body as EchoBody).url, '/keep/x?a=1&b=%20c')
  })

  it('routes regex paths anchored at the start and picks the higher regex_priority', async () => {
    assert.equal((await route('/users/42')).status, 200)
    assert.equal((await route('/users/42/more')).status, 404)
    assert.equal((await route('/prefix/users/42')).status, 404)
    assert.equal(await routeName('/r/xyz'), 'regex-high')
    assert.equal(await routeName('/r/abc'), 'regex-low')
  })

  it('matches hosts exactly before wildcards, case-insensitively and ignoring the port', async () => {
    assert.equal(await routeName('/h', { headers: { host: 'API.example.com:8000' } }), 'exact-host')
    assert.equal(await routeName('/h/x', { headers: { host: 'other.example.com' } }), 'wild-host')
    assert.equal((await route('/h', { headers: { host: 'example.net' } })).status, 404)
  })

  it('sends the service host upstream unless preserve_host is set', async () => {
    const plain = await route('/a/x', { headers: { host: 'anything.test' } })
    assert.equal((plain.body as { host: string }).host, `127.0.0.1:${up.port}`)
    const kept = await route('/p', { headers: { host: 'keep.example.org' } })
    assert.equal((kept.body as { host: string }).host, 'keep.example.org')
  })

  it('matches methods and headers, and the route with more conditions wins', async () => {
    // Kong prefixes are plain string prefixes: '/m' also matches '/mx', and two fields beat one.
    assert.equal(await routeName('/mx', { method: 'GET' }), 'get-only')
    assert.equal(await routeName('/m', { method: 'GET' }), 'get-only')
    assert.equal(await routeName('/m', { method: 'POST', body: 'x' }), 'post-only')
    assert.equal((await route('/m', { method: 'DELETE' })).status, 404)
    assert.equal(await routeName('/hdr', { headers: { 'x-version': 'V2' } }), 'header-v2')
    assert.equal(await routeName('/hdr', { headers: { 'x-version': 'beta-7' } }), 'header-regex')
    assert.equal(await routeName('/hdr', { headers: { 'x-version': 'v3' } }), 'header-none')
  })

  it('refuses plain http on an https-only route with 426, or redirects when configured', async () => {
    const refused = await route('/secure')
    assert.equal(refused.status, 426)
    assert.match(refused.body as string, /Please use HTTPS protocol/)
    const moved = await route('/tls-moved/x?q=1', { headers: { host: 'shop.test' } })
    assert.equal(moved.status, 301)
    assert.equal(moved.headers.location, 'https://shop.test/tls-moved/x?q=1')
  })

  it('normalises the path before routing, so dot segments cannot escape a prefix', async () => {
    const r = await route('/keep/%2e%2e/a/x')
    assert.equal(r.status, 200)
    assert.equal((r.body as EchoBody).url, '/x')
    assert.equal((await route('/%zz')).status, 400)
  })
})
