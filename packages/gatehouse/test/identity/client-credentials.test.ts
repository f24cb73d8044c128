/**
 * client_credentials for API clients (a partner backend): JWT access tokens for the client's one API,
 * with `sub` = the client id and no user claims, narrowed to the scopes both the API and the client
 * allow; DPoP binding; and a client whose id is a user's id (it could impersonate that user to APIs
 * that only look at `sub`, RFC 9700 §4.15) refused.
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT } from 'jose'
import {
  type IdentityGateway,
  ORDERS_API,
  PARTNER_SECRET,
  PROFILE_API,
  startIdentityGateway,
  storeOf,
} from './support/gateway.ts'
import { assertNoDevelopmentDefaults, client, configFor, oauthError, TokenVerifier } from './support/oidc.ts'

describe('client_credentials at the identity provider', () => {
  let gw: IdentityGateway
  let partner: client.Configuration
  let verify: TokenVerifier
  before(async () => {
    gw = await startIdentityGateway()
    partner = await configFor(gw.issuer, 'partner', PARTNER_SECRET)
    verify = new TokenVerifier(partner)
  })
  after(async () => {
    await gw?.gh.stop()
  })

  it('issues an at+jwt for the client’s API whose sub is the client, with no user claims', async () => {
    const tokens = await client.clientCredentialsGrant(partner, {
      scope: 'orders:read',
      resource: ORDERS_API,
    })
    assert.equal(tokens.token_type, 'bearer')
    assert.equal(tokens.expires_in, 300)
    const { payload } = await verify.accessToken(tokens.access_token, ORDERS_API)
    assert.equal(payload.sub, 'partner')
    assert.equal(payload.client_id, 'partner')
    assert.equal(payload.scope, 'orders:read')
    for (const claim of ['roles', 'country', 'customer_type', 'email', 'name'])
      assert.equal(payload[claim], undefined, claim)
  })

  it('defaults to the client’s only API and keeps only scopes the API and the client both allow', async () => {
    const tokens = await client.clientCredentialsGrant(partner, {
      scope: 'orders:read orders:write orders:admin openid',
    })
    const { payload } = await verify.accessToken(tokens.access_token, ORDERS_API)
    assert.equal(payload.scope, 'orders:read orders:write')
  })

  it('refuses an API the client may not use, and one that does not exist, with invalid_target', async () => {
    for (const resource of [PROFILE_API, 'https://unknown.api.test']) {
      assert.deepEqual(await oauthError(client.clientCredentialsGrant(partner, { resource })), {
        error: 'invalid_target',
        status: 400,
      })
    }
  })

  it('binds the token to the client’s DPoP key', async () => {
    const keyPair = await client.randomDPoPKeyPair('ES256')
    const tokens = await client.clientCredentialsGrant(
      partner,
      { resource: ORDERS_API },
      { DPoP: client.getDPoPHandle(partner, keyPair) },
    )
    assert.equal(tokens.token_type, 'dpop')
    const { payload } = await verify.accessToken(tokens.access_token, ORDERS_API)
    assert.deepEqual(payload.cnf, { jkt: await calculateJwkThumbprint(await exportJWK(keyPair.publicKey)) })
  })

  it('refuses a DPoP proof used twice (its jti is remembered in the store)', async () => {
    const tokenEndpoint = partner.serverMetadata().token_endpoint!
    const { publicKey, privateKey } = await generateKeyPair('ES256')
    const proof = await new SignJWT({ htm: 'POST', htu: tokenEndpoint, jti: randomUUID() })
      .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: await exportJWK(publicKey) })
      .setIssuedAt()
      .sign(privateKey)
    const send = () =>
      fetch(tokenEndpoint, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`partner:${PARTNER_SECRET}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
          dpop: proof,
        },
        body: new URLSearchParams({ grant_type: 'client_credentials', resource: ORDERS_API }).toString(),
      })
    const first = await send()
    assert.equal(first.status, 200)
    assert.equal(((await first.json()) as { token_type: string }).token_type, 'DPoP')
    const replay = await send()
    assert.equal(replay.status, 400)
    assert.equal(((await replay.json()) as { error: string }).error, 'invalid_grant')
    await gw.gh.waitForLog((l) => l.event === 'grant.error' && l.detail === 'DPoP proof JWT Replay detected')
  })

  it('refuses a client whose client_id is a user’s id, so no client token carries a user’s sub', async () => {
    const store = await storeOf(gw.gh)
    try {
      const alice = (await store.users.findByUsername('alice'))!
      const partnerRow = (await store.clients.get('partner'))!
      await store.clients.insert({ ...partnerRow, client_id: alice.id, source: 'cli' })
      const impostor = await configFor(gw.issuer, alice.id, PARTNER_SECRET)
      assert.equal(
        (await oauthError(client.clientCredentialsGrant(impostor, { resource: ORDERS_API }))).error,
        'invalid_client',
      )
      await gw.gh.waitForLog((l) => l.reason === 'client_id_is_user_id')
    } finally {
      await store.close()
    }
  })

  it('ran none of oidc-provider’s development defaults', () => {
    assertNoDevelopmentDefaults(gw.gh.stdout + gw.gh.stderr)
  })
})
