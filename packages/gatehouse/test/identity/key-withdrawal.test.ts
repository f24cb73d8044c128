/**
 * Keys you can withdraw at once (issue 10), on one gateway without Redis: a route trusting the gateway's
 * own provider accepts a token signed with the key `gatehouse keys rotate` brought in on the very next
 * request (the keys come in process, not over HTTP with a cooldown); `POST /signing-keys/{kid}/revoke`
 * takes the active provider key out of the JWKS at once, refuses what it signed and signs with another;
 * `gatehouse keys revoke` withdraws a provider key through the store and this node's internal-token key
 * through its admin API, after which a service's SDK drops it on `reloadKeys()`; an unknown kid is a 404
 * and a failed command. Real processes throughout.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { createVerifier } from 'gatehouse-sdk'
import { runCli } from '../harness/gatehouse.ts'
import { startUpstream, type Upstream } from '../harness/upstream.ts'
import { within } from '../scale-out/support.ts'
import { freePort, type IdentityGateway, startIdentityGateway } from './support/gateway.ts'
import {
  accessToken,
  callOrders,
  INTERNAL_ISSUER,
  INTERNAL_JWKS,
  internalKids,
  kidOf,
  ordersService,
  providerKids,
} from './support/keys.ts'

describe('signing keys withdrawn at once, on one gateway', () => {
  let upstream: Upstream
  let gw: IdentityGateway

  before(async () => {
    upstream = await startUpstream()
    gw = await startIdentityGateway({
      rest: (issuer) => ({
        internal_tokens: { issuer: INTERNAL_ISSUER },
        services: [ordersService(issuer, upstream.url)],
      }),
    })
  })
  after(async () => {
    await gw?.gh.stop()
    await upstream?.close()
  })

  const revokeAtAdmin = async (kid: string, body: object = {}) => {
    const res = await gw.gh.admin(`/signing-keys/${encodeURIComponent(kid)}/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
    // biome-ignore lint/suspicious/noExplicitAny: the answer is checked field by field
    return { status: res.status, body: (await res.json()) as any }
  }

  it('accepts a token signed with the key `gatehouse keys rotate` brought in, on the very next request', async () => {
    const before = await accessToken(gw.gh)
    assert.equal((await callOrders(gw.gh, before)).status, 200)
    // Traffic with the old token goes on throughout: none of it may be refused.
    let serving = true
    const statuses: number[] = []
    const traffic = (async () => {
      while (serving) statuses.push((await callOrders(gw.gh, before)).status)
    })()
    try {
      const rotated = await runCli(['keys', 'rotate', '--alg', 'ES256', '--config', gw.gh.configFile])
      assert.equal(rotated.code, 0, rotated.stderr)
      const kid = /^ES256 (\S+) activated$/m.exec(rotated.stdout)?.[1]
      assert.ok(kid, rotated.stdout)
      let fresh = ''
      await within(
        3000,
        async () => {
          fresh = await accessToken(gw.gh)
          return kidOf(fresh) === kid
        },
        'a token signed with the rotated-in key',
      )
      const first = await callOrders(gw.gh, fresh)
      assert.deepEqual([first.status, first.reason], [200, null], 'accepted on the first request')
    } finally {
      serving = false
      await traffic
    }
    assert.ok(statuses.length > 0)
    assert.deepEqual([...new Set(statuses)], [200])
  })

  it('takes the active provider key out of the JWKS at once through the admin API, refuses its tokens and signs with another', async () => {
    const old = await accessToken(gw.gh)
    const kid = kidOf(old)
    assert.equal((await callOrders(gw.gh, old)).status, 200, 'verified and remembered')

    const { status, body } = await revokeAtAdmin(kid, { reason: 'leaked in a log' })
    assert.equal(status, 201, JSON.stringify(body))
    assert.equal(body.data.kid, kid)
    assert.equal(body.data.kind, 'identity-provider')
    assert.equal(body.data.was, 'active')
    assert.equal(body.data.nodes, 'this node')
    assert.deepEqual([body.data.revocation.kind, body.data.revocation.id], ['key', kid])
    const replacement = body.data.replaced_by as string
    assert.ok(replacement && replacement !== kid)

    // At once: the answer came after the provider was rebuilt.
    const published = await providerKids(gw.gh)
    assert.ok(!published.includes(kid), 'gone from the JWKS')
    assert.ok(published.includes(replacement))
    assert.deepEqual(await callOrders(gw.gh, old), {
      status: 401,
      reason: 'oidc_key_revoked',
      internal: null,
    })

    const fresh = await accessToken(gw.gh)
    assert.equal(kidOf(fresh), replacement)
    assert.equal((await callOrders(gw.gh, fresh)).status, 200)

    const listed = (await (await gw.gh.admin('/signing-keys')).json()) as {
      data: { kid: string; kind: string; state: string }[]
    }
    assert.ok(
      listed.data.some(
        (k) => k.kid === replacement && k.kind === 'identity-provider' && k.state === 'active',
      ),
    )
    assert.ok(listed.data.some((k) => k.kind === 'internal-token' && k.state === 'active'))
    assert.ok(!listed.data.some((k) => k.kid === kid))
    assert.doesNotMatch(JSON.stringify(listed), /"d"|encrypted|v1\./)
  })

  it('withdraws a provider key with `gatehouse keys revoke` through the store, which the node follows within a second', async () => {
    const old = await accessToken(gw.gh)
    const kid = kidOf(old)
    assert.equal((await callOrders(gw.gh, old)).status, 200)
    const cli = await runCli([
      'keys',
      'revoke',
      kid,
      '--reason',
      'rotated by hand',
      '--config',
      gw.gh.configFile,
    ])
    assert.equal(cli.code, 0, cli.stderr)
    assert.match(
      cli.stdout,
      new RegExp(`^identity provider key ${kid} \\(ES256, active\\) removed from the store$`, 'm'),
    )
    const replacement = /^ES256 key (\S+) signs from now$/m.exec(cli.stdout)?.[1]
    assert.ok(replacement, cli.stdout)
    assert.match(cli.stdout, /running nodes drop it within a second/)
    await within(1500, async () => !(await providerKids(gw.gh)).includes(kid), 'the JWKS drops the key')
    await within(1500, async () => (await callOrders(gw.gh, old)).status === 401, 'its token is refused')
    const fresh = await accessToken(gw.gh)
    assert.equal(kidOf(fresh), replacement)
    assert.equal((await callOrders(gw.gh, fresh)).status, 200)
  })

  it("withdraws this node's internal-token key through its admin API with `gatehouse keys revoke`; the SDK drops it on reloadKeys()", async () => {
    const token = await accessToken(gw.gh)
    const minted = (await callOrders(gw.gh, token)).internal!
    const kid = kidOf(minted)
    assert.ok((await internalKids(gw.gh)).includes(kid))
    const verifier = createVerifier({
      issuer: INTERNAL_ISSUER,
      audience: 'orders',
      jwksUrl: `${gw.gh.proxyUrl}${INTERNAL_JWKS}`,
    })
    assert.equal((await verifier.verify(minted)).subject, 'partner')

    // `--` before the key id: a base64url kid may start with '-' (1 in 64), which would read as an option.
    const cli = await runCli([
      'keys',
      'revoke',
      '--config',
      gw.gh.configFile,
      '--admin',
      gw.gh.adminUrl,
      '--',
      kid,
    ])
    assert.equal(cli.code, 0, cli.stderr)
    const replacement = new RegExp(
      `^internal-token ${kid} \\(active\\) withdrawn by the node at ${gw.gh.adminUrl}/; (\\S+) signs from now$`,
      'm',
    ).exec(cli.stdout)?.[1]
    assert.ok(replacement, cli.stdout)
    const published = await internalKids(gw.gh)
    assert.ok(!published.includes(kid) && published.includes(replacement), 'gone from the JWKS at once')

    // The gateway mints anew (its cache of minted tokens went with the key).
    const again = (await callOrders(gw.gh, token)).internal!
    assert.equal(kidOf(again), replacement)
    // The service still holds the JWKS it fetched; reloadKeys() drops the withdrawn key.
    assert.equal((await verifier.verify(minted)).subject, 'partner')
    await verifier.reloadKeys()
    await assert.rejects(verifier.verify(minted), { code: 'GH_SDK_KEY_UNKNOWN' })
    assert.equal((await verifier.verify(again)).subject, 'partner')
  })

  it('refuses an unknown kid: 404 GH_ERR_KEY_NOT_FOUND from the admin API, a failed command from the CLI', async () => {
    const { status, body } = await revokeAtAdmin('no-such-kid')
    assert.equal(status, 404)
    assert.deepEqual(body, {
      error: 'Not Found',
      code: 'GH_ERR_KEY_NOT_FOUND',
      message:
        "no signing key 'no-such-kid': not the identity provider's, and no internal-token key of this node or one it lists",
      statusCode: 404,
    })
    const malformed = await gw.gh.admin('/signing-keys/%20x/revoke', { method: 'POST' })
    assert.equal(malformed.status, 400)
    assert.equal(((await malformed.json()) as { code: string }).code, 'GH_ERR_ADMIN_BAD_REQUEST')

    const cli = await runCli([
      'keys',
      'revoke',
      'no-such-kid',
      '--config',
      gw.gh.configFile,
      '--admin',
      gw.gh.adminUrl,
    ])
    assert.equal(cli.code, 1)
    assert.equal(
      cli.stderr,
      `gatehouse: no signing key 'no-such-kid' in the store; unknown to the node at ${gw.gh.adminUrl}/; nothing was withdrawn (without Redis an internal-token key is withdrawn through its node's admin API: --admin URL)\n`,
    )
    // Without --admin the configuration's admin.listen is asked (GATEHOUSE_ADMIN_LISTEN first).
    const nobody = `127.0.0.1:${await freePort()}`
    const unreached = await runCli(['keys', 'revoke', 'no-such-kid', '--config', gw.gh.configFile], {
      GATEHOUSE_ADMIN_LISTEN: nobody,
    })
    assert.equal(unreached.code, 1)
    assert.ok(
      unreached.stderr.includes(
        `no running node reached: http://${nobody}/ (ECONNREFUSED); nothing was withdrawn`,
      ),
      unreached.stderr,
    )
  })
})
