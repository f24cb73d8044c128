/**
 * Keys you can withdraw at once (issue 10), on two gateway nodes sharing PostgreSQL (the provider's keys)
 * and Redis (revocations, internal-token public keys): a token signed with the key `gatehouse keys
 * rotate` brought in is accepted on the very next request by the node that has not switched yet (it asks
 * the store about the kid it lacks); `gatehouse keys revoke` of the active provider key takes it out of
 * both nodes' JWKS and makes both refuse its tokens within a second; a node's internal-token key
 * withdrawn through the other node's admin API or through the CLI leaves every node's JWKS within a
 * second, its node signs with a new one, and a service's SDK refuses it after `reloadKeys()`. Real
 * processes, a real PostgreSQL and a real Redis.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { createVerifier } from 'gatehouse-sdk'
import { type GatehouseProcess, runCli, startGatehouse, writeTempConfig } from '../harness/gatehouse.ts'
import { type PostgresServer, postgresSkipReason, startPostgres } from '../harness/postgres.ts'
import { type RedisServer, redisSkipReason, startRedis } from '../harness/redis.ts'
import { startUpstream, type Upstream } from '../harness/upstream.ts'
import { freePort, identitySection } from '../identity/support/gateway.ts'
import {
  accessToken,
  callOrders,
  INTERNAL_ISSUER,
  INTERNAL_JWKS,
  internalKids,
  kidOf,
  ordersService,
  providerKids,
} from '../identity/support/keys.ts'
import { within } from './support.ts'

const skip = redisSkipReason() || postgresSkipReason()

describe('signing keys withdrawn at once, on two nodes sharing PostgreSQL and Redis', { skip }, () => {
  let postgres: PostgresServer
  let redis: RedisServer
  let upstream: Upstream
  let env: Record<string, string>
  let a: GatehouseProcess
  let b: GatehouseProcess

  before(async () => {
    ;[postgres, redis, upstream] = await Promise.all([startPostgres(), startRedis(), startUpstream()])
    env = { GATEHOUSE_TEST_DATABASE_URL: await postgres.createDatabase() }
    const port = await freePort()
    const issuer = `http://127.0.0.1:${port}/oidc`
    const config = {
      _format_version: '3.0',
      identity: identitySection(issuer),
      storage: { postgres: { url: '{vault://env/GATEHOUSE_TEST_DATABASE_URL}', pool_size: 4 } },
      redis: { url: redis.url },
      internal_tokens: { issuer: INTERNAL_ISSUER },
      services: [ordersService(issuer, upstream.url)],
    }
    const { file } = writeTempConfig(config)
    const migrated = await runCli(['migrate', '--config', file], env)
    assert.equal(migrated.code, 0, migrated.stderr)
    // Node b serves the same issuer (behind a load balancer it would share a's address).
    a = await startGatehouse({ config, env, args: ['--proxy-listen', `127.0.0.1:${port}`] })
    b = await startGatehouse({ config, env })
  })
  after(async () => {
    await Promise.all([a?.stop(), b?.stop()])
    await upstream?.close()
    await Promise.all([redis?.stop(), postgres?.stop()])
  })

  // The options first and the arguments after `--`: a key id may start with '-' (base64url).
  const cli = (args: string[]) => {
    const end = args.indexOf('--')
    return end === -1
      ? runCli([...args, '--config', a.configFile], env)
      : runCli([...args.slice(0, end), '--config', a.configFile, ...args.slice(end)], env)
  }

  it('accepts a token signed with the key `gatehouse keys rotate` brought in on the very next request, on the node that has not switched yet', async () => {
    const old = await accessToken(a)
    for (const node of [a, b]) assert.equal((await callOrders(node, old)).status, 200)
    // Each round: the first token a node signs with the new key goes at once to the other node, which
    // has then not loaded the key yet (nodes check the store once a second, at their own moments).
    for (let round = 0; round < 3; round++) {
      const rotated = await cli(['keys', 'rotate', '--alg', 'ES256'])
      assert.equal(rotated.code, 0, rotated.stderr)
      const kid = /^ES256 (\S+) activated$/m.exec(rotated.stdout)?.[1]
      assert.ok(kid, rotated.stdout)
      let minted: { token: string; by: GatehouseProcess } | undefined
      await within(
        3000,
        async () => {
          const [atA, atB] = await Promise.all([accessToken(a), accessToken(b)])
          if (kidOf(atA) === kid) minted = { token: atA, by: a }
          else if (kidOf(atB) === kid) minted = { token: atB, by: b }
          return minted !== undefined
        },
        'a token signed with the rotated-in key',
      )
      const other = minted!.by === a ? b : a
      const first = await callOrders(other, minted!.token)
      assert.deepEqual([first.status, first.reason], [200, null], `round ${round}: the other node`)
      assert.equal((await callOrders(minted!.by, minted!.token)).status, 200)
      for (const node of [a, b]) assert.equal((await callOrders(node, old)).status, 200, 'older tokens too')
    }
  })

  it('withdraws the active provider key with `gatehouse keys revoke`: both JWKS drop it and both nodes refuse its tokens within a second', async () => {
    const old = await accessToken(a)
    const kid = kidOf(old)
    for (const node of [a, b])
      assert.equal((await callOrders(node, old)).status, 200, 'verified and remembered')

    const revoked = await cli(['keys', 'revoke', '--reason', 'compromised', '--', kid])
    assert.equal(revoked.code, 0, revoked.stderr)
    assert.match(
      revoked.stdout,
      new RegExp(`^identity provider key ${kid} \\(ES256, active\\) removed from the store$`, 'm'),
    )
    const replacement = /^ES256 key (\S+) signs from now$/m.exec(revoked.stdout)?.[1]
    assert.ok(replacement, revoked.stdout)
    assert.match(
      revoked.stdout,
      new RegExp(
        `^revocation recorded in redis://\\S+: every running node refuses ${kid} within a second$`,
        'm',
      ),
    )

    for (const [name, node] of [
      ['a', a],
      ['b', b],
    ] as const) {
      await within(
        1500,
        async () => !(await providerKids(node)).includes(kid),
        `${name}'s JWKS drops the key`,
      )
      await within(
        1500,
        async () => (await callOrders(node, old)).status === 401,
        `${name} refuses its token`,
      )
      assert.equal((await callOrders(node, old)).reason, 'oidc_key_revoked')
    }
    const fresh = await accessToken(b)
    assert.equal(kidOf(fresh), replacement)
    for (const node of [a, b]) assert.equal((await callOrders(node, fresh)).status, 200)
  })

  it("withdraws node b's internal-token key through node a's admin API: every JWKS drops it within a second, b signs with a new one, the SDK refuses it after reloadKeys()", async () => {
    const token = await accessToken(a)
    const minted = (await callOrders(b, token)).internal!
    const kid = kidOf(minted)
    await within(3000, async () => (await internalKids(a)).includes(kid), "a lists b's key")
    const verifier = createVerifier({
      issuer: INTERNAL_ISSUER,
      audience: 'orders',
      jwksUrl: `${a.proxyUrl}${INTERNAL_JWKS}`,
    })
    assert.equal((await verifier.verify(minted)).subject, 'partner')

    const res = await a.admin(`/signing-keys/${kid}/revoke`, { method: 'POST' })
    // biome-ignore lint/suspicious/noExplicitAny: the answer is checked field by field
    const body = (await res.json()) as any
    assert.equal(res.status, 201, JSON.stringify(body))
    assert.deepEqual(
      [body.data.kind, body.data.was, body.data.nodes],
      ['internal-token', 'peer', 'every node, within a second'],
    )
    for (const [name, node] of [
      ['a', a],
      ['b', b],
    ] as const)
      await within(
        1500,
        async () => !(await internalKids(node)).includes(kid),
        `${name}'s JWKS drops the key`,
      )
    const again = (await callOrders(b, token)).internal!
    assert.notEqual(kidOf(again), kid, 'b signs with a new key')

    assert.equal((await verifier.verify(minted)).subject, 'partner', 'the service still holds the old JWKS')
    await verifier.reloadKeys()
    await assert.rejects(verifier.verify(minted), { code: 'GH_SDK_KEY_UNKNOWN' })
    await within(
      3000,
      async () => {
        await verifier.reloadKeys()
        return verifier.verify(again).then(
          () => true,
          () => false,
        )
      },
      "the service verifies b's new key once a lists it",
    )
  })

  it('withdraws an internal-token key with `gatehouse keys revoke` through Redis, confirmed by its node, and refuses an unknown kid', async () => {
    const minted = (await callOrders(a, await accessToken(a))).internal!
    const kid = kidOf(minted)
    await within(3000, async () => (await internalKids(b)).includes(kid), "b lists a's key")
    const revoked = await cli(['keys', 'revoke', '--', kid])
    assert.equal(revoked.code, 0, revoked.stderr)
    assert.match(
      revoked.stdout,
      new RegExp(
        `^revocation recorded in redis://\\S+: every running node refuses ${kid} within a second$`,
        'm',
      ),
    )
    assert.match(
      revoked.stdout,
      new RegExp(`^internal-token key ${kid} withdrawn by node \\S+, which signs with a new key$`, 'm'),
    )
    for (const [name, node] of [
      ['a', a],
      ['b', b],
    ] as const)
      await within(
        1500,
        async () => !(await internalKids(node)).includes(kid),
        `${name}'s JWKS drops the key`,
      )

    const unknown = await cli(['keys', 'revoke', 'no-such-kid'])
    assert.equal(unknown.code, 1)
    assert.match(
      unknown.stderr,
      /^gatehouse: no signing key 'no-such-kid': not in the store, and no running node publishes it in redis:\/\/\S+; nothing was withdrawn\n$/,
    )
  })
})
