/**
 * DNS rebinding against the admin API (issue 10, section 1), against a real gateway: a request whose
 * Host is a name the listener was not told about (`rebind.example`, as a page on that name would send
 * once its DNS answer turns into 127.0.0.1) gets 421 GH_ERR_ADMIN_HOST_NOT_ALLOWED and not a byte of
 * the keys or secrets; the listener's own IP addresses (any port), `localhost` and the names of
 * admin.allowed_hosts (exact, case-insensitive, or `*.` a domain) are served; a request without Host is
 * refused; a reload's allowed_hosts apply at once; on a wildcard address every interface's IP is the
 * listener's own.
 */
import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { networkInterfaces } from 'node:os'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { type GatehouseProcess, startGatehouse } from '../harness/gatehouse.ts'
import { type RawResponse, rawRequest } from '../harness/http.ts'

const API_KEY = 'alice-key-must-not-leak-0001'
const HMAC_SECRET = 'alice-hmac-secret-must-not-leak-0123456789'

const config = (allowedHosts: string[]) => ({
  _format_version: '3.0',
  admin: { allowed_hosts: allowedHosts },
  consumers: [
    {
      username: 'alice',
      keyauth_credentials: [{ key: API_KEY }],
      jwt_secrets: [{ key: 'alice-issuer', secret: HMAC_SECRET }],
    },
  ],
})

const externalIPv4 = Object.values(networkInterfaces())
  .flat()
  .find((i) => i !== undefined && i.family === 'IPv4' && !i.internal)?.address

const MESSAGE =
  "this listener does not answer to the request's Host: use its IP address or localhost, or list the name in admin.allowed_hosts"

function assertMisdirected(res: RawResponse, what: string, message = MESSAGE): void {
  assert.equal(res.status, 421, what)
  assert.deepEqual(JSON.parse(res.body), {
    message,
    code: 'GH_ERR_ADMIN_HOST_NOT_ALLOWED',
    error: 'Misdirected Request',
    statusCode: 421,
  })
  assert.ok(!res.body.includes(API_KEY) && !res.body.includes(HMAC_SECRET), `${what}: no secret`)
}

/** `request` (a whole HTTP/1.0 request, which may leave Host out) on a socket of its own. */
function rawExchange(url: string, request: string): Promise<string> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.end(request))
    let answer = ''
    socket.setEncoding('utf8').on('data', (c: string) => {
      answer += c
    })
    socket.once('end', () => resolve(answer))
    socket.once('error', reject)
  })
}

describe('the admin API and foreign Host names', () => {
  let gh: GatehouseProcess
  let port: string
  before(async () => {
    gh = await startGatehouse({ config: config(['admin.internal', '*.gatehouse.test']) })
    port = new URL(gh.adminUrl).port
  })
  after(async () => {
    await gh?.stop()
  })

  const get = (host: string, path = '/key-auths') => rawRequest(gh.adminUrl + path, { headers: { host } })

  it('refuses Host: rebind.example with 421 and no keys or HMAC secrets, and logs the refusal', async () => {
    for (const path of ['/key-auths', '/jwts', '/consumers/alice/jwt', '/config', '/status', '/metrics'])
      assertMisdirected(await get(`rebind.example:${port}`, path), path)
    const post = await rawRequest(`${gh.adminUrl}/config`, {
      method: 'POST',
      headers: { host: `rebind.example:${port}`, 'content-type': 'application/json' },
      body: JSON.stringify({ _format_version: '3.0' }),
    })
    assertMisdirected(post, 'POST /config')
    const consumers = (await (await gh.admin('/consumers')).json()) as { data: unknown[] }
    assert.equal(consumers.data.length, 1, 'the refused POST /config changed nothing')

    let refused: Record<string, unknown> | undefined
    for (let i = 0; i < 40 && refused === undefined; i++) {
      refused = gh.lines.find((l) => l.msg === 'admin request refused' && l.host === `rebind.example:${port}`)
      if (refused === undefined) await sleep(50)
    }
    assert.equal(refused?.code, 'GH_ERR_ADMIN_HOST_NOT_ALLOWED')
    assert.ok(!gh.stdout.includes(HMAC_SECRET) && !gh.stdout.includes(API_KEY))
  })

  it('serves its own IP address on any port, localhost, and the names of admin.allowed_hosts', async () => {
    const served = [
      `127.0.0.1:${port}`,
      '127.0.0.1',
      '127.0.0.1:1',
      `localhost:${port}`,
      'LOCALHOST',
      'admin.internal',
      `ADMIN.Internal:${port}`,
      'admin.internal.',
      'console.gatehouse.test',
      'a.b.gatehouse.test:8001',
    ]
    for (const host of served) {
      const res = await get(host)
      assert.equal(res.status, 200, host)
      assert.ok(res.body.includes(API_KEY), `${host}: the admin API answered`)
    }
  })

  it('refuses names only resembling allowed ones, other IPs, other spellings of loopback and malformed Hosts', async () => {
    const refused = [
      'gatehouse.test',
      'evilgatehouse.test',
      'admin.internal.evil.example',
      'evil-admin.internal',
      'localhost.evil.example',
      'localhost.',
      'app.localhost',
      '127.0.0.2',
      '2130706433',
      '0x7f000001',
      '[::1]',
      '10.11.12.13',
      'user@127.0.0.1',
      '127.0.0.1:99999999',
    ]
    for (const host of refused) assertMisdirected(await get(host), host)
  })

  it('refuses a request without a Host header', async () => {
    const answer = await rawExchange(gh.adminUrl, 'GET /key-auths HTTP/1.0\r\n\r\n')
    assert.match(answer, /^HTTP\/1\.1 421 Misdirected Request\r\n/)
    assert.ok(answer.includes('"code":"GH_ERR_ADMIN_HOST_NOT_ALLOWED"'))
    assert.ok(answer.includes('the request has no Host header'))
    assert.ok(!answer.includes(API_KEY))
  })

  it('applies a reloaded admin.allowed_hosts with the next request', async () => {
    assertMisdirected(await get('rebind.example'), 'before the reload')
    const res = await gh.admin('/config', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(config(['rebind.example'])),
    })
    assert.equal(res.status, 201)
    await res.body?.cancel()
    assert.equal((await get('rebind.example')).status, 200)
    assertMisdirected(await get('admin.internal'), 'no longer listed')
  })
})

describe('the admin API on a wildcard address', {
  skip: externalIPv4 === undefined && 'no non-loopback IPv4',
}, () => {
  let gh: GatehouseProcess
  before(async () => {
    gh = await startGatehouse({ config: config([]), args: ['--admin-listen', '0.0.0.0:0'] })
  })
  after(async () => {
    await gh?.stop()
  })

  it("answers to every interface's IP address, and to no other", async () => {
    const port = new URL(gh.adminUrl).port
    const url = `http://127.0.0.1:${port}/key-auths`
    for (const host of [`${externalIPv4}:${port}`, `127.0.0.1:${port}`, 'localhost'])
      assert.equal((await rawRequest(url, { headers: { host } })).status, 200, host)
    assertMisdirected(await rawRequest(url, { headers: { host: '203.0.113.7' } }), '203.0.113.7')
    assertMisdirected(await rawRequest(url, { headers: { host: 'rebind.example' } }), 'rebind.example')
  })
})
