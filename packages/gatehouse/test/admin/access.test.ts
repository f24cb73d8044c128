/**
 * Who may use the admin API, against a real gateway: without a token only loopback clients; with
 * `admin.token` or GATEHOUSE_ADMIN_TOKEN every client must present it, and the token is never written to
 * the gateway's output. The non-loopback client is this machine's own non-loopback IPv4 address.
 */
import assert from 'node:assert/strict'
import { networkInterfaces } from 'node:os'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { type GatehouseProcess, startGatehouse } from '../harness/gatehouse.ts'

interface Envelope {
  message: string
  code: string
  error: string
  statusCode: number
}

const externalIPv4 = Object.values(networkInterfaces())
  .flat()
  .find((i) => i !== undefined && i.family === 'IPv4' && !i.internal)?.address
const NO_EXTERNAL = externalIPv4 === undefined ? 'this machine has no non-loopback IPv4 address' : false

/** Both listeners' admin URLs when the admin API listens on every interface. */
function adminUrls(gh: GatehouseProcess): { loopback: string; external: string } {
  const port = new URL(gh.adminUrl).port
  return { loopback: `http://127.0.0.1:${port}`, external: `http://${externalIPv4}:${port}` }
}

async function envelope(res: Response): Promise<Envelope> {
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/)
  return (await res.json()) as Envelope
}

/** The logger flushes every 100 ms; wait until the output holds `count` refusals. */
async function refusalsLogged(gh: GatehouseProcess, count: number): Promise<void> {
  for (let i = 0; i < 50; i++) {
    if (gh.lines.filter((l) => l.msg === 'admin request refused').length >= count) return
    await sleep(50)
  }
  assert.fail(`expected ${count} 'admin request refused' log lines`)
}

describe('the admin API without a token', () => {
  let gh: GatehouseProcess
  before(async () => {
    gh = await startGatehouse({
      config: { _format_version: '3.0' },
      // startGatehouse passes --admin-listen 127.0.0.1:0 first; the later flag wins (node's parseArgs).
      args: ['--admin-listen', '0.0.0.0:0'],
    })
  })
  after(async () => {
    await gh.stop()
  })

  it('listens where the later --admin-listen flag says', async () => {
    const started = await gh.waitForLog((l) => l.msg === 'gatehouse started')
    assert.match(String(started.admin), /^0\.0\.0\.0:\d+$/)
  })

  it('serves loopback clients', async () => {
    const res = await fetch(`${adminUrls(gh).loopback}/status`)
    assert.equal(res.status, 200)
    await res.body?.cancel()
  })

  it('refuses a non-loopback client with 403 GH_ERR_ADMIN_FORBIDDEN', { skip: NO_EXTERNAL }, async () => {
    for (const path of ['/status', '/services', '/config', '/metrics']) {
      const res = await fetch(`${adminUrls(gh).external}${path}`)
      assert.equal(res.status, 403, path)
      assert.deepEqual(await envelope(res), {
        message: 'the admin API only serves loopback clients unless admin.token is configured',
        code: 'GH_ERR_ADMIN_FORBIDDEN',
        error: 'Forbidden',
        statusCode: 403,
      })
    }
    const post = await fetch(`${adminUrls(gh).external}/config`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ _format_version: '3.0', services: [{ name: 'x', url: 'http://127.0.0.1:9' }] }),
    })
    assert.equal(post.status, 403)
    await post.body?.cancel()
    assert.deepEqual(
      ((await (await fetch(`${adminUrls(gh).loopback}/services`)).json()) as { data: unknown[] }).data,
      [],
      'the refused POST /config changed nothing',
    )
    await refusalsLogged(gh, 5)
    const refusal = gh.lines.find((l) => l.msg === 'admin request refused')!
    assert.equal(refusal.code, 'GH_ERR_ADMIN_FORBIDDEN')
    assert.equal(refusal.client_ip, externalIPv4)
  })
})

for (const source of ['admin.token', 'GATEHOUSE_ADMIN_TOKEN'] as const) {
  describe(`the admin API with a token from ${source}`, () => {
    const token = `${source === 'admin.token' ? 'file' : 'env'}-token-0123456789abcdef`
    const fileToken = 'file-token-0123456789abcdef'
    const wrong = 'wrong-token-0123456789abcdef'
    let gh: GatehouseProcess
    let urls: { loopback: string; external: string }
    before(async () => {
      gh = await startGatehouse({
        // With both set, the environment wins.
        config: { _format_version: '3.0', admin: { token: fileToken } },
        env: source === 'GATEHOUSE_ADMIN_TOKEN' ? { GATEHOUSE_ADMIN_TOKEN: token } : {},
        args: ['--admin-listen', '0.0.0.0:0'],
      })
      urls = adminUrls(gh)
    })
    after(async () => {
      await gh.stop()
    })

    it('refuses a request without the token with 401 GH_ERR_ADMIN_UNAUTHORIZED and a Bearer challenge', async () => {
      for (const headers of [
        {},
        { authorization: 'Bearer ' },
        { authorization: `Basic ${btoa(`u:${token}`)}` },
      ]) {
        const res = await fetch(`${urls.loopback}/status`, { headers })
        assert.equal(res.status, 401, JSON.stringify(headers))
        assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="gatehouse-admin"')
        assert.deepEqual(await envelope(res), {
          message: 'admin token required (Authorization: Bearer <token>)',
          code: 'GH_ERR_ADMIN_UNAUTHORIZED',
          error: 'Unauthorized',
          statusCode: 401,
        })
      }
    })

    it('refuses a wrong token with 401, as Bearer and as Kong-Admin-Token', async () => {
      const wrongOnes: Record<string, string>[] = [
        { authorization: `Bearer ${wrong}` },
        { 'kong-admin-token': wrong },
        { authorization: `Bearer ${token}x` },
        { authorization: `Bearer ${token.slice(0, -1)}` },
      ]
      if (source === 'GATEHOUSE_ADMIN_TOKEN') wrongOnes.push({ authorization: `Bearer ${fileToken}` })
      for (const headers of wrongOnes) {
        const res = await fetch(`${urls.loopback}/services`, { headers })
        assert.equal(res.status, 401, JSON.stringify(headers))
        const body = await envelope(res)
        assert.equal(body.code, 'GH_ERR_ADMIN_UNAUTHORIZED')
        assert.equal(body.message, 'invalid admin token')
        assert.equal(res.headers.get('x-gatehouse-error'), 'GH_ERR_ADMIN_UNAUTHORIZED')
      }
    })

    it('serves the right token as Authorization: Bearer and as Kong-Admin-Token', async () => {
      for (const headers of [
        { authorization: `Bearer ${token}` },
        { authorization: `bearer ${token}` },
        { 'kong-admin-token': token },
      ]) {
        const res = await fetch(`${urls.loopback}/services`, { headers })
        assert.equal(res.status, 200, JSON.stringify(Object.keys(headers)))
        assert.deepEqual(await res.json(), { data: [], next: null })
      }
    })

    it('applies to non-loopback clients too: 401 without the token, 200 with it', {
      skip: NO_EXTERNAL,
    }, async () => {
      const refused = await fetch(`${urls.external}/status`)
      assert.equal(refused.status, 401)
      assert.equal((await envelope(refused)).code, 'GH_ERR_ADMIN_UNAUTHORIZED')
      const served = await fetch(`${urls.external}/status`, { headers: { authorization: `Bearer ${token}` } })
      assert.equal(served.status, 200)
      await served.body?.cancel()
    })

    it("never writes the token, or a wrong one presented, to the gateway's stdout or stderr", async () => {
      const refusedBefore = gh.lines.filter((l) => l.msg === 'admin request refused').length
      for (const headers of [
        {},
        { authorization: `Bearer ${wrong}` },
        { 'kong-admin-token': wrong },
        { authorization: `Basic ${btoa(`u:${token}`)}` },
      ]) {
        await (await fetch(`${urls.loopback}/config`, { headers })).body?.cancel()
      }
      // A reload through the API carries the token in the body and in the header.
      const res = await fetch(`${urls.loopback}/config`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ _format_version: '3.0', admin: { token: fileToken, max_body_size: 2048 } }),
      })
      assert.equal(res.status, 201)
      await res.body?.cancel()
      // Lines are written in order, so once the reload's line is out, so are the refusals before it.
      await gh.waitForLog((l) => l.msg === 'configuration loaded')
      const refused = gh.lines.filter((l) => l.msg === 'admin request refused')
      assert.ok(refused.length >= refusedBefore + 4)
      assert.ok(
        gh.lines.some((l) => l.msg === 'admin request refused' && l.code === 'GH_ERR_ADMIN_UNAUTHORIZED'),
      )
      for (const secret of [token, fileToken, wrong, btoa(`u:${token}`)]) {
        assert.ok(!gh.stdout.includes(secret), 'stdout holds a token')
        assert.ok(!gh.stderr.includes(secret), 'stderr holds a token')
      }
    })
  })
}
