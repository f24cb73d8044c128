/**
 * The authorization code flow with PKCE, driven by openid-client through our real login and consent
 * pages (no browser), and everything that follows from it: the ID token and an RFC 9068 access token
 * for the API (verified with jose against the JWKS), refresh with rotation, reuse detection, userinfo,
 * introspection, revocation, RP-initiated logout, DPoP-bound tokens, first-party clients.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { calculateJwkThumbprint, exportJWK } from 'jose'
import { Browser, formTo } from './support/browser.ts'
import {
  ALICE,
  BOB,
  CALLBACK,
  type IdentityGateway,
  LOGGED_OUT,
  ORDERS_API,
  PARTNER_SECRET,
  startIdentityGateway,
  WEB_SECRET,
} from './support/gateway.ts'
import {
  assertNoDevelopmentDefaults,
  authorization,
  client,
  codeFlow,
  configFor,
  oauthError,
  signIn,
  TokenVerifier,
} from './support/oidc.ts'

const ORDERS = {
  scope: 'openid profile email offline_access orders:read',
  resource: ORDERS_API,
  prompt: 'consent',
}

describe('the code flow with PKCE against the identity provider', () => {
  let gw: IdentityGateway
  let web: client.Configuration
  let spa: client.Configuration
  let verify: TokenVerifier
  before(async () => {
    gw = await startIdentityGateway()
    web = await configFor(gw.issuer, 'web-app', WEB_SECRET)
    spa = await configFor(gw.issuer, 'spa')
    verify = new TokenVerifier(web)
  })
  after(async () => {
    await gw?.gh.stop()
  })

  it('signs in on the login and consent pages and issues an ID token and an at+jwt for the API', async () => {
    const pages: string[] = []
    const tokens = await codeFlow(web, ALICE, ORDERS, { pages })
    assert.deepEqual(pages, ['Sign in', 'Allow access'])
    assert.equal(tokens.token_type, 'bearer')

    const id = tokens.claims()!
    const idToken = await verify.idToken(tokens.id_token!, 'web-app')
    assert.equal(idToken.payload.sub, id.sub)

    const at = await verify.accessToken(tokens.access_token, ORDERS_API)
    assert.equal(at.payload.sub, id.sub)
    assert.equal(at.payload.client_id, 'web-app')
    assert.equal(at.payload.aud, ORDERS_API)
    assert.equal(at.payload.scope, 'orders:read')
    assert.deepEqual(at.payload['roles'], ['customer', 'beta'])
    assert.equal(at.payload['country'], 'GB')
    assert.equal(at.payload['customer_type'], 'premium')
    assert.equal(at.payload['name'], undefined, 'only the resource’s configured claims')
    assert.equal(at.payload.exp! - at.payload.iat!, 300)
    assert.ok(tokens.refresh_token)
  })

  it('rotates the refresh token, and a reused one revokes the whole grant', async () => {
    const first = await codeFlow(web, BOB, ORDERS)
    const second = await client.refreshTokenGrant(web, first.refresh_token!)
    assert.ok(second.refresh_token && second.refresh_token !== first.refresh_token)
    const at = await verify.accessToken(second.access_token, ORDERS_API)
    assert.deepEqual(at.payload['roles'], ['customer'])

    assert.equal(
      (await oauthError(client.refreshTokenGrant(web, first.refresh_token!))).error,
      'invalid_grant',
    )
    // The reuse revoked the grant: the rotated token is dead too.
    assert.equal(
      (await oauthError(client.refreshTokenGrant(web, second.refresh_token!))).error,
      'invalid_grant',
    )
    await gh().waitForLog((l) => l.msg === 'grant revoked')
  })

  it('skips consent for a first-party client and serves userinfo with an opaque access token', async () => {
    const pages: string[] = []
    const tokens = await codeFlow(spa, ALICE, { scope: 'openid profile email' }, { pages })
    assert.deepEqual(pages, ['Sign in'])
    const sub = tokens.claims()!.sub
    const info = await client.fetchUserInfo(spa, tokens.access_token, sub)
    assert.deepEqual(info, {
      sub,
      name: 'Alice Example',
      preferred_username: 'alice',
      updated_at: info.updated_at,
      email: ALICE.email,
      email_verified: false,
    })
  })

  it('grants a first-party client its API scopes without consent, and no scope it may not ask for', async () => {
    const portal = await configFor(gw.issuer, 'portal')
    const pages: string[] = []
    const tokens = await codeFlow(
      portal,
      BOB,
      { scope: 'openid profile orders:read orders:write' },
      { pages },
    )
    assert.deepEqual(pages, ['Sign in'])
    const at = await verify.accessToken(tokens.access_token, ORDERS_API)
    assert.equal(at.payload.scope, 'orders:read')
    assert.equal(at.payload.client_id, 'portal')

    const auth = await authorization(portal, { scope: 'openid email' })
    const refused = await signIn(new Browser(), auth.url, BOB)
    assert.equal(refused.searchParams.get('error'), 'invalid_scope')
    assert.equal(refused.searchParams.get('scope'), 'email')
  })

  it('introspects and revokes a client’s own refresh token, and lets no other client do either', async () => {
    const tokens = await codeFlow(web, BOB, ORDERS)
    const rt = tokens.refresh_token!
    const active = await client.tokenIntrospection(web, rt)
    assert.equal(active.active, true)
    assert.equal(active.client_id, 'web-app')
    assert.equal(active.sub, tokens.claims()!.sub)

    const partner = await configFor(gw.issuer, 'partner', PARTNER_SECRET)
    assert.equal((await client.tokenIntrospection(partner, rt)).active, false)
    assert.equal((await client.tokenIntrospection(spa, rt)).active, false)

    // Another client's revocation is ignored; the owner's takes effect.
    await client.tokenRevocation(spa, rt)
    assert.equal((await client.tokenIntrospection(web, rt)).active, true)
    await client.tokenRevocation(web, rt)
    assert.equal((await client.tokenIntrospection(web, rt)).active, false)
    assert.equal((await oauthError(client.refreshTokenGrant(web, rt))).error, 'invalid_grant')
  })

  it('sends the user back to the client with access_denied when they deny consent', async () => {
    const auth = await authorization(web, ORDERS)
    const callback = await signIn(new Browser(), auth.url, ALICE, { decision: 'deny' })
    assert.equal(callback.origin + callback.pathname, CALLBACK)
    assert.equal(callback.searchParams.get('error'), 'access_denied')
    assert.equal(callback.searchParams.get('state'), auth.state)
  })

  it('binds tokens to a DPoP key (cnf.jkt) when the client proves one', async () => {
    const keyPair = await client.randomDPoPKeyPair('ES256')
    const DPoP = client.getDPoPHandle(web, keyPair)
    const tokens = await codeFlow(web, ALICE, ORDERS, { DPoP })
    assert.equal(tokens.token_type, 'dpop')
    const jkt = await calculateJwkThumbprint(await exportJWK(keyPair.publicKey))
    const at = await verify.accessToken(tokens.access_token, ORDERS_API)
    assert.deepEqual(at.payload.cnf, { jkt })
    const refreshed = await client.refreshTokenGrant(web, tokens.refresh_token!, undefined, { DPoP })
    assert.deepEqual((await verify.accessToken(refreshed.access_token, ORDERS_API)).payload.cnf, { jkt })
  })

  it('binds a public client’s refresh token to its DPoP key (RFC 9449 §5)', async () => {
    const DPoP = client.getDPoPHandle(spa, await client.randomDPoPKeyPair('ES256'))
    const tokens = await codeFlow(spa, BOB, { scope: 'openid offline_access', prompt: 'consent' }, { DPoP })
    assert.equal(
      (await oauthError(client.refreshTokenGrant(spa, tokens.refresh_token!))).error,
      'invalid_grant',
    )
    const other = client.getDPoPHandle(spa, await client.randomDPoPKeyPair('ES256'))
    assert.equal(
      (await oauthError(client.refreshTokenGrant(spa, tokens.refresh_token!, undefined, { DPoP: other })))
        .error,
      'invalid_grant',
    )
    const refreshed = await client.refreshTokenGrant(spa, tokens.refresh_token!, undefined, { DPoP })
    assert.equal(refreshed.token_type, 'dpop')
  })

  it('signs the user out from the client (RP-initiated logout) and ends their session and grants', async () => {
    const browser = new Browser()
    // Without offline_access, the refresh token lives only as long as the session.
    const tokens = await codeFlow(
      web,
      ALICE,
      { scope: 'openid profile orders:read', resource: ORDERS_API },
      { browser },
    )
    assert.ok(tokens.refresh_token)
    const logout = client.buildEndSessionUrl(web, {
      id_token_hint: tokens.id_token!,
      post_logout_redirect_uri: LOGGED_OUT,
      state: 'bye',
    })
    const page = await browser.get(logout)
    assert.equal(page.status, 200)
    assert.equal(page.headers.get('x-frame-options'), 'DENY')
    const html = await page.text()
    assert.match(html, /<h1>Sign out<\/h1>/)
    const form = formTo(html, '/session/end/confirm')
    const done = await browser.follow(
      await browser.post(new URL(form.action, gw.issuer), { ...form.fields, logout: 'yes' }),
      new URL(gw.issuer).origin,
    )
    assert.ok(done instanceof URL)
    assert.equal(done.origin + done.pathname, LOGGED_OUT)
    assert.equal(done.searchParams.get('state'), 'bye')
    assert.equal(
      (await oauthError(client.refreshTokenGrant(web, tokens.refresh_token!))).error,
      'invalid_grant',
    )

    // The session is gone: the next authorization asks for the password again.
    const again = await authorization(web, ORDERS)
    const next = await browser.follow(await browser.get(again.url), new URL(gw.issuer).origin)
    assert.ok(!(next instanceof URL))
    assert.match(await next.text(), /<title>Sign in<\/title>/)
  })

  it('shows our signed-out page after a logout that names no post_logout_redirect_uri', async () => {
    const browser = new Browser()
    await codeFlow(spa, BOB, { scope: 'openid' }, { browser })
    const origin = new URL(gw.issuer).origin
    const page = await browser.get(client.buildEndSessionUrl(spa, { client_id: 'spa' }))
    const form = formTo(await page.text(), '/session/end/confirm')
    const done = await browser.follow(
      await browser.post(new URL(form.action, origin), { ...form.fields, logout: 'yes' }),
      origin,
    )
    assert.ok(!(done instanceof URL))
    assert.equal(done.status, 200)
    assert.equal(done.headers.get('cache-control'), 'no-store')
    assert.match(done.headers.get('content-security-policy')!, /default-src 'none'/)
    assert.match(await done.text(), /<h1>Signed out<\/h1>/)
  })

  it('ran none of oidc-provider’s development defaults during all of the above', () => {
    assertNoDevelopmentDefaults(gh().stdout + gh().stderr)
    assert.equal(gh().stderr, '')
  })

  const gh = () => gw.gh
})
