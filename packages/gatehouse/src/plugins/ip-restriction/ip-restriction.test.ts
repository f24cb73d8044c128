/**
 * ip-restriction through the real gateway: Kong's deny-then-allow order, status and message, IPv4 and
 * IPv6 rules, and the client address as the gateway determines it: an X-Forwarded-For from an untrusted
 * peer changes nothing, one from a trusted proxy names the client (IPv4-mapped forms match IPv4 rules).
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { assertErrorBody } from '../../../test/harness/error-body.ts'
import { type GatehouseProcess, startGatehouse } from '../../../test/harness/gatehouse.ts'
import { startUpstream, type Upstream } from '../../../test/harness/upstream.ts'

const restricted = (name: string, config: object) => ({
  name,
  paths: [`/${name}`],
  plugins: [{ name: 'ip-restriction', config }],
})

const ROUTES = [
  restricted('deny-local', { deny: ['127.0.0.1'] }),
  restricted('deny-custom', { deny: ['127.0.0.0/8'], status: 401, message: 'Forbidden' }),
  restricted('allow-local', { allow: ['127.0.0.0/8', '::1'] }),
  restricted('allow-ten', { allow: ['10.0.0.0/8'] }),
  restricted('deny-wins', { allow: ['127.0.0.1'], deny: ['127.0.0.0/24'] }),
  restricted('allow-v6', { allow: ['2001:db8::/32'], deny: ['2001:db8:bad::/48'] }),
  restricted('everyone', { allow: ['0.0.0.0/0', '::/0'] }),
]

const config = (extra: object = {}) => ({
  _format_version: '3.0',
  ...extra,
  services: [{ name: 'svc', url: '', routes: ROUTES }],
})

describe('the ip-restriction plugin', () => {
  let upstream: Upstream
  let direct: GatehouseProcess
  let behindProxy: GatehouseProcess
  before(async () => {
    upstream = await startUpstream()
    const withUrl = (c: ReturnType<typeof config>) => ({
      ...c,
      services: [{ ...c.services[0]!, url: upstream.url }],
    })
    ;[direct, behindProxy] = await Promise.all([
      startGatehouse({ config: withUrl(config()) }),
      startGatehouse({ config: withUrl(config({ proxy: { trusted_ips: ['127.0.0.0/8'] } })) }),
    ])
  })
  after(async () => {
    await Promise.all([direct?.stop(), behindProxy?.stop()])
    await upstream?.close()
  })

  async function answer(gh: GatehouseProcess, path: string, xff?: string) {
    const res = await gh.proxy(path, { headers: xff === undefined ? {} : { 'x-forwarded-for': xff } })
    return { status: res.status, headers: res.headers, body: await res.text() }
  }

  it("refuses a denied client with Kong's 403 and message, naming its address, without calling the upstream", async () => {
    const before = upstream.requests.length
    const res = await answer(direct, '/deny-local')
    assert.equal(res.status, 403)
    assertErrorBody(res, {
      kong: { message: 'IP address not allowed: 127.0.0.1' },
      code: 'GH_ERR_IP_NOT_ALLOWED',
    })
    assert.equal(upstream.requests.length, before)
    const line = await direct.waitForLog((l) => l.type === 'access' && l.route === 'deny-local')
    assert.equal(line.status, 403)
    assert.equal(line.error_code, 'GH_ERR_IP_NOT_ALLOWED')
    assert.equal(line.error_detail, 'ip_denied')
  })

  it('answers with the configured status and message', async () => {
    const res = await answer(direct, '/deny-custom')
    assert.equal(res.status, 401)
    assertErrorBody(res, { kong: { message: 'Forbidden' }, code: 'GH_ERR_IP_NOT_ALLOWED' })
  })

  it('lets an allowed client through and refuses one outside every allowed range', async () => {
    assert.equal((await answer(direct, '/allow-local')).status, 200)
    assert.equal((await answer(direct, '/everyone')).status, 200)
    const res = await answer(direct, '/allow-ten')
    assert.equal(res.status, 403)
    assert.equal(JSON.parse(res.body).message, 'IP address not allowed: 127.0.0.1')
  })

  it('checks deny first: a denied address is refused even when allow lists it', async () => {
    assert.equal((await answer(direct, '/deny-wins')).status, 403)
  })

  it('ignores X-Forwarded-For from a peer that is not a trusted proxy: a spoofed allowed address does not pass', async () => {
    const res = await answer(direct, '/allow-ten', '10.1.2.3')
    assert.equal(res.status, 403)
    assert.equal(JSON.parse(res.body).message, 'IP address not allowed: 127.0.0.1')
    // Nor does it hide a denied peer.
    assert.equal((await answer(direct, '/deny-local', '192.0.2.1')).status, 403)
  })

  it("behind a trusted proxy, judges the client X-Forwarded-For names, not the proxy's address", async () => {
    assert.equal((await answer(behindProxy, '/allow-ten', '10.1.2.3')).status, 200)
    // The right-most hop that is not a trusted proxy is the client.
    assert.equal((await answer(behindProxy, '/allow-ten', '10.1.2.3, 127.0.0.9')).status, 200)
    assert.equal((await answer(behindProxy, '/allow-ten', '10.1.2.3, 192.0.2.1')).status, 403)
    const res = await answer(behindProxy, '/allow-local', '192.0.2.1')
    assert.equal(res.status, 403)
    assert.equal(JSON.parse(res.body).message, 'IP address not allowed: 192.0.2.1')
    // Without the header the trusted proxy itself is the client.
    assert.equal((await answer(behindProxy, '/allow-ten')).status, 403)
  })

  it('matches an IPv4-mapped IPv6 client against IPv4 rules', async () => {
    assert.equal((await answer(behindProxy, '/allow-ten', '::ffff:10.9.8.7')).status, 200)
    assert.equal((await answer(behindProxy, '/allow-ten', '::ffff:192.0.2.1')).status, 403)
  })

  it('matches IPv6 clients against IPv6 blocks, deny first', async () => {
    assert.equal((await answer(behindProxy, '/allow-v6', '2001:db8:1::7')).status, 200)
    const denied = await answer(behindProxy, '/allow-v6', '2001:db8:bad::7')
    assert.equal(denied.status, 403)
    assert.equal(JSON.parse(denied.body).message, 'IP address not allowed: 2001:db8:bad::7')
    assert.equal((await answer(behindProxy, '/allow-v6', '2001:db9::1')).status, 403)
  })

  it('refuses a client whose forwarded address is no IP address, whatever the lists say', async () => {
    const res = await answer(behindProxy, '/everyone', 'unknown')
    assert.equal(res.status, 403)
    assertErrorBody(res, {
      kong: { message: 'Cannot identify the client IP address' },
      code: 'GH_ERR_IP_NOT_ALLOWED',
    })
  })
})
