/**
 * Revocation across two gateway processes sharing one Redis (issue 7): a subject revoked through node A's
 * admin API is refused by node B within a second, though B had verified and cached the token, minted and
 * cached an internal token and cached the user-info answer for it; tokens issued after the revocation
 * pass, with a freshly minted internal token and a fresh user-info answer; a changed profile is asked
 * again without refusing anyone; an invalidated JWKS is fetched again, so a withdrawn key stops working
 * at once; `gatehouse revoke` does the same from the command line; a key withdrawn by its kid (issue 10)
 * is refused at once, even in tokens that do not name it. Real processes, a real Redis, real upstreams
 * and a real issuer.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { decodeJwt } from 'jose'
import {
  accessClaims,
  nowSeconds,
  signingKey,
  TestIssuer,
} from '../../src/plugins/openid-connect/test-fixtures.ts'
import { assertFetchedError } from '../harness/error-body.ts'
import { type GatehouseProcess, runCli, startGatehouse } from '../harness/gatehouse.ts'
import { type RedisServer, redisSkipReason, startRedis } from '../harness/redis.ts'
import { type EchoBody, startUpstream, type Upstream } from '../harness/upstream.ts'
import { revoke, startUsers, type Users, within } from './support.ts'

const AUD = 'https://orders.api.test'

describe('revocation on two gateways sharing one Redis', { skip: redisSkipReason() }, () => {
  let redis: RedisServer
  let issuer: TestIssuer
  let upstream: Upstream
  let users: Users
  let a: GatehouseProcess
  let b: GatehouseProcess

  before(async () => {
    ;[redis, issuer, upstream, users] = await Promise.all([
      startRedis(),
      TestIssuer.start([await signingKey('ec-1')]),
      startUpstream(),
      startUsers(),
    ])
    users.profiles.set('u-alice', { country: 'GB' })
    users.profiles.set('u-bob', { country: 'FR' })
    const config = {
      _format_version: '3.0',
      redis: { url: redis.url, command_timeout: 300, connect_timeout: 500 },
      internal_tokens: { issuer: 'https://gatehouse.scale-out.test' },
      services: [
        {
          name: 'orders',
          url: upstream.url,
          routes: [
            {
              name: 'orders',
              paths: ['/orders'],
              plugins: [
                {
                  name: 'openid-connect',
                  config: { issuer: issuer.url, audience: AUD, verbose_errors: true },
                },
                {
                  name: 'internal-token',
                  config: {
                    audience: 'orders',
                    enrich: { url: `${users.url}/users/{sub}`, claims: ['country'], ttl: 300 },
                  },
                },
              ],
            },
          ],
        },
      ],
    }
    ;[a, b] = await Promise.all([startGatehouse({ config }), startGatehouse({ config })])
  })
  after(async () => {
    await Promise.all([a?.stop(), b?.stop()])
    await Promise.all([issuer?.stop(), upstream?.close(), users?.close()])
    await redis?.stop()
  })

  const tokenFor = (sub: string, iat = nowSeconds() - 5) =>
    issuer.sign('ec-1', accessClaims(issuer.url, AUD, { sub, iat }))
  const call = (node: GatehouseProcess, token: string) =>
    node.proxy('/orders', { headers: { authorization: `Bearer ${token}` } })
  /** The internal token the upstream received for a call that passed. */
  async function minted(res: Response): Promise<string> {
    const text = await res.text()
    assert.equal(res.status, 200, text)
    return ((JSON.parse(text) as EchoBody).headers.authorization as string).slice('Bearer '.length)
  }

  it("refuses on node B, within a second, a subject revoked on node A, though B had cached the subject's token", async () => {
    const token = await tokenFor('u-alice')
    const first = await minted(await call(b, token))
    assert.equal(await minted(await call(b, token)), first, 'B reuses its minted token')
    assert.equal(decodeJwt(first).country, 'GB')
    assert.equal(users.lookups.get('u-alice'), 1, 'and its user-info answer')
    assert.equal((await call(a, token)).status, 200)

    const made = await revoke(a, { subject: 'u-alice', reason: 'stolen laptop' })
    const revokedAt = Date.now()
    assert.deepEqual(
      { kind: made.kind, id: made.id, reason: made.reason },
      { kind: 'subject', id: 'u-alice', reason: 'stolen laptop' },
    )
    const took = await within(1000, async () => (await call(b, token)).status === 401, 'B refuses the token')
    assert.ok(took < 1000, `${took} ms`)
    const res = await call(b, token)
    assert.equal(res.status, 401)
    await assertFetchedError(res, {
      kong: {
        error: 'invalid_token',
        error_description: 'The access token has been revoked',
        reason: 'oidc_token_revoked',
      },
      code: 'GH_ERR_AUTH_CREDENTIALS_INVALID',
    })
    assert.equal((await call(a, token)).status, 401, 'and so does A')

    // A token issued after the revocation passes, with an internal token minted anew (not B's cached one)
    // and the profile asked again.
    const fresh = await tokenFor('u-alice', Math.floor(Number(made.revoked_at)) + 1)
    const asked = users.lookups.get('u-alice')!
    const again = await minted(await call(b, fresh))
    assert.notEqual(again, first)
    assert.ok(decodeJwt(again).iat! * 1000 >= revokedAt - 1000)
    assert.equal(users.lookups.get('u-alice'), asked + 1)
  })

  it('asks for a changed profile again on every node, refusing no one', async () => {
    const token = await tokenFor('u-bob')
    assert.equal(decodeJwt(await minted(await call(b, token))).country, 'FR')
    assert.equal(decodeJwt(await minted(await call(b, token))).country, 'FR')
    assert.equal(users.lookups.get('u-bob'), 1)
    users.profiles.set('u-bob', { country: 'DE' })
    await revoke(a, { profile: 'u-bob' })
    await within(
      1000,
      async () => decodeJwt(await minted(await call(b, token))).country === 'DE',
      'B mints with the new profile',
    )
    assert.equal(users.lookups.get('u-bob'), 2, 'asked once more, then cached again')
  })

  it('lists recent revocations on every node, and refuses malformed ones', async () => {
    await within(
      1000,
      async () => {
        const list = (await (await b.admin('/revocations')).json()) as {
          data: { kind: string; id: string }[]
          backend: string
          in_sync: boolean
        }
        return list.backend === 'redis' && list.in_sync && list.data.some((r) => r.id === 'u-bob')
      },
      'B lists what A revoked',
    )
    const bad = await b.admin('/revocations', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ subject: 'u-x', session: 's-y' }),
    })
    assert.equal(bad.status, 400)
    assert.deepEqual(await bad.json(), {
      error: 'Bad Request',
      code: 'GH_ERR_ADMIN_BAD_REQUEST',
      message: 'name exactly one of subject, session, grant, profile, jwks or key',
      statusCode: 400,
    })
  })

  it('takes a revocation from the command line, straight into Redis', async () => {
    const token = await tokenFor('u-carol')
    assert.equal((await call(b, token)).status, 200)
    const cli = await runCli(['revoke', '--subject', 'u-carol', '--reason', 'left', '--config', a.configFile])
    assert.equal(cli.code, 0, cli.stderr)
    assert.match(cli.stdout, /^revoked subject u-carol \(kept until \d{4}-/)
    await within(1000, async () => (await call(b, token)).status === 401, 'B refuses the token')
    await within(1000, async () => (await call(a, token)).status === 401, 'A refuses the token')
  })

  it("stops every node accepting tokens signed with a key withdrawn from the issuer's JWKS once it is invalidated", async () => {
    const old = await tokenFor('u-erin')
    assert.equal((await call(b, old)).status, 200, 'verified and cached by B with the keys it fetched')
    issuer.add(await signingKey('ec-2'))
    issuer.unpublish('ec-1')
    assert.equal((await call(b, old)).status, 200, 'B still has the old keys')
    await revoke(a, { jwks: issuer.url, reason: 'ec-1 compromised' })
    await within(
      1000,
      async () => (await call(b, old)).status === 401,
      'B refuses the token of the withdrawn key',
    )
    const res = await call(b, old)
    assert.equal(((await res.json()) as { reason: string }).reason, 'oidc_unknown_key')
    const current = await issuer.sign('ec-2', accessClaims(issuer.url, AUD, { sub: 'u-erin' }))
    assert.equal((await call(b, current)).status, 200)
  })
})

describe('revocation on a gateway without a redis section', () => {
  let issuer: TestIssuer
  let upstream: Upstream
  let gh: GatehouseProcess

  before(async () => {
    ;[issuer, upstream] = await Promise.all([TestIssuer.start([await signingKey('ec-1')]), startUpstream()])
    gh = await startGatehouse({
      config: {
        _format_version: '3.0',
        services: [
          {
            name: 'orders',
            url: upstream.url,
            routes: [
              {
                name: 'orders',
                paths: ['/orders'],
                plugins: [{ name: 'openid-connect', config: { issuer: issuer.url, audience: AUD } }],
              },
            ],
          },
        ],
      },
    })
  })
  after(async () => {
    await gh?.stop()
    await Promise.all([issuer?.stop(), upstream?.close()])
  })

  it("keeps revocations in the node's memory, applied at once", async () => {
    const token = await issuer.sign(
      'ec-1',
      accessClaims(issuer.url, AUD, { sub: 'u-frank', iat: nowSeconds() - 5 }),
    )
    const call = () => gh.proxy('/orders', { headers: { authorization: `Bearer ${token}` } })
    assert.equal((await call()).status, 200)
    await revoke(gh, { subject: 'u-frank', ttl: 3600 })
    assert.equal((await call()).status, 401)
    const list = (await (await gh.admin('/revocations')).json()) as Record<string, unknown>
    assert.equal(list.backend, 'memory')
    assert.equal(list.in_sync, true)
    assert.deepEqual(
      (list.data as Record<string, unknown>[]).map((r) => [
        r.kind,
        r.id,
        Number(r.expires_at) - Number(r.revoked_at),
      ]),
      [['subject', 'u-frank', 3600]],
    )
    const cli = await runCli(['revoke', '--subject', 'u-frank', '--config', gh.configFile])
    assert.equal(cli.code, 1)
    assert.match(
      cli.stderr,
      /has no redis section: revocations live in each node's memory; use POST \/revocations/,
    )
  })

  it("refuses every token signed with an issuer's key withdrawn by its kid, with or without a kid in the token", async () => {
    const claims = () => accessClaims(issuer.url, AUD, { sub: 'u-grace', iat: nowSeconds() - 5 })
    const call = (token: string) => gh.proxy('/orders', { headers: { authorization: `Bearer ${token}` } })
    const named = await issuer.sign('ec-1', claims())
    const kidless = await issuer.sign('ec-1', claims(), { kid: undefined })
    assert.equal((await call(named)).status, 200, 'verified and remembered')
    assert.equal((await call(kidless)).status, 200, 'jose picks the issuer’s one EC key')
    await revoke(gh, { key: 'ec-1', reason: 'stolen from the issuer' })
    assert.equal((await call(named)).status, 401)
    // The issuer still publishes ec-1, but the node's key set leaves it out: no key verifies the token.
    assert.equal((await call(kidless)).status, 401)
    const list = (await (await gh.admin('/revocations')).json()) as { data: { kind: string; id: string }[] }
    assert.ok(list.data.some((r) => r.kind === 'key' && r.id === 'ec-1'))
  })
})
