/**
 * Second factors through the real process (issue 14): enrolment forced by a client's `mfa: required`,
 * the code asked after the password, each code usable once, wrong codes counted towards the lockout,
 * recovery codes single use, the provider's step-up (`acr_values` urn:gatehouse:acr:2fa asks only the
 * code; `max_age` the password again), `unmet_authentication_requirements`, the admin API's view,
 * reset and per-user policy, and the policy of a user the file declares (`identity.users[i].mfa`). Codes are computed here with otpauth, as an authenticator app does; the
 * tokens are checked by openid-client and jose. The pages in a real browser: factors-browser.test.ts.
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { decodeJwt } from 'jose'
import { Secret } from 'otpauth'
import { sealSecret } from '../../src/identity/factors/seal.ts'
import { factorSealKey } from '../../src/identity/secrets.ts'
import type { Store } from '../../src/storage/store.ts'
import { runCli } from '../harness/gatehouse.ts'
import { Browser } from './support/browser.ts'
import {
  awayFromStepEdge,
  open,
  page,
  type Step,
  seedTotp,
  submit,
  titleOf,
  totpCode,
} from './support/factors.ts'
import {
  CALLBACK,
  type IdentityGateway,
  identitySection,
  ORDERS_API,
  startIdentityGateway,
  storeOf,
} from './support/gateway.ts'
import { authorization, client, configFor, TokenVerifier } from './support/oidc.ts'

const PASSWORD = 'factor-test-password-1234'
const user = (username: string) => ({ username, email: `${username}@example.test`, password: PASSWORD })
const DAVE = user('dave')
const ERIN = user('erin')
const FRANK = user('frank')
const GINA = user('gina')
const HUGO = user('hugo')
const JADE = user('jade')
// Kate's policy is in the file (required until a reload removes it), Leo's only after a reload adds it.
const KATE = user('kate')
const LEO = user('leo')
// Made with the admin API: the policy of a user the file does not declare is set there.
const IVAN = user('ivan')
const ACR_1FA = 'urn:gatehouse:acr:1fa'
const ACR_2FA = 'urn:gatehouse:acr:2fa'
const WRONG_CODE = 'That code is not valid.'
const INVALID = 'Invalid username or password.'

function app(client_id: string, extra: Record<string, unknown> = {}) {
  return {
    client_id,
    client_name: client_id,
    redirect_uris: [CALLBACK],
    scopes: ['openid', 'profile'],
    first_party: true,
    ...extra,
  }
}

describe('second factors: one-time codes, recovery codes, policies and step-up', () => {
  let gw: IdentityGateway
  let store: Store
  let origin: string
  const configs = new Map<string, client.Configuration>()
  // Carried between the tests: dave's authenticator app and recovery codes, from his enrolment.
  let daveSecret = ''
  let daveRecovery: string[] = []
  let daveCode = ''

  const config = async (clientId: string) => {
    let c = configs.get(clientId)
    if (c === undefined) {
      c = await configFor(gw.issuer, clientId)
      configs.set(clientId, c)
    }
    return c
  }

  /** Opens an authorization request of `clientId`; returns the flow's first page and how to finish it. */
  async function start(browser: Browser, clientId: string, params: Record<string, string> = {}) {
    const c = await config(clientId)
    const auth = await authorization(c, { scope: 'openid profile', ...params })
    const step = await open(browser, auth.url)
    const exchange = async (callback: Step) => {
      if (!(callback instanceof URL)) assert.fail(`expected the callback, got the page ${titleOf(callback)}`)
      return client.authorizationCodeGrant(c, callback, {
        pkceCodeVerifier: auth.verifier,
        expectedState: auth.state,
        expectedNonce: auth.nonce,
        idTokenExpected: true,
      })
    }
    return { step, exchange }
  }

  const password = (browser: Browser, step: Step, who: { username: string; password: string }) =>
    submit(browser, step, origin, '/login', { username: who.username, password: who.password })

  const admin = async (method: string, path: string, body?: unknown) => {
    const res = await gw.gh.admin(path, {
      method,
      ...(body === undefined
        ? {}
        : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    })
    const text = await res.text()
    return { status: res.status, body: text === '' ? null : JSON.parse(text) }
  }

  /** The `identity` keys of this suite's file; a reload changes the provider's mfa and the users. */
  const identity = (mfa: string, users: object[]) => ({
    mfa,
    login: { max_failures: 3, lockout: 600, backoff: 1 },
    users: [DAVE, ERIN, FRANK, GINA, HUGO, JADE, ...users],
    clients: [
      app('secure-app', { mfa: 'required' }),
      app('spa', { mfa: 'optional' }),
      app('plain'),
      app('portal', {
        grant_types: ['authorization_code', 'refresh_token'],
        scopes: ['openid', 'profile', 'offline_access', 'orders:read'],
        resources: [ORDERS_API],
        mfa: 'optional',
      }),
    ],
  })

  before(async () => {
    gw = await startIdentityGateway({ identity: identity('off', [{ ...KATE, mfa: 'required' }, LEO]) })
    origin = new URL(gw.issuer).origin
    store = await storeOf(gw.gh)
  })
  after(async () => {
    await store?.close()
    await gw?.gh.stop()
  })

  it('advertises the two acr values in discovery, weakest first', async () => {
    assert.deepEqual((await config('plain')).serverMetadata().acr_values_supported, [ACR_1FA, ACR_2FA])
  })

  it('makes a user without a factor enrol when the client requires one; the ID token says pwd, otp, mfa and 2fa', async () => {
    const browser = new Browser()
    const { step, exchange } = await start(browser, 'secure-app')
    const enrol = await password(browser, step, DAVE)
    assert.equal(titleOf(enrol), 'Set up two-step verification')
    const html = page(enrol)
    assert.match(html, /<svg [^>]*role="img"/)
    const uri = /href="(otpauth:\/\/totp\/[^"]+)"/.exec(html)?.[1]?.replace(/&amp;/g, '&')
    assert.ok(uri, 'an otpauth URI')
    const key = /id="manual-key"[^>]*>([A-Z2-7 ]+)</.exec(html)?.[1]
    assert.ok(key, 'the manual key')
    daveSecret = key.replace(/ /g, '')
    const params = new URL(uri).searchParams
    assert.deepEqual(
      [params.get('secret'), params.get('algorithm'), params.get('digits'), params.get('period')],
      [daveSecret, 'SHA1', '6', '30'],
    )

    const wrong = await submit(browser, enrol, origin, '/enrol', {
      code: '000000' === totpCode(daveSecret) ? '111111' : '000000',
    })
    assert.match(page(wrong), /That code is not valid/)
    await awayFromStepEdge()
    const codes = await submit(browser, wrong, origin, '/enrol', { code: totpCode(daveSecret) })
    assert.equal(titleOf(codes), 'Save your recovery codes')
    daveRecovery = [...page(codes).matchAll(/<li><code>([a-z0-9-]+)<\/code><\/li>/g)].map((m) => m[1]!)
    assert.equal(daveRecovery.length, 10)
    assert.equal(new Set(daveRecovery).size, 10)

    const tokens = await exchange(await submit(browser, codes, origin, '/finish', {}))
    const claims = tokens.claims()!
    assert.deepEqual(claims.amr, ['pwd', 'otp', 'mfa'])
    assert.equal(claims.acr, ACR_2FA)
    assert.equal(typeof claims.auth_time, 'number')

    // At rest: the secret sealed, the recovery codes hashed; in the log: neither.
    const dave = (await store.users.findByUsername('dave'))!
    const [factor] = await store.factors.list(dave.id)
    assert.equal(factor?.kind, 'totp')
    assert.ok(!factor.secret.includes(daveSecret))
    assert.equal(await store.factors.recoveryCodesLeft(dave.id), 10)
    await gw.gh.waitForLog((l) => l.msg === 'identity factor enrolled' && l.user_id === dave.id)
    for (const secret of [daveSecret, ...daveRecovery.map((c) => c.replace('-', ''))])
      assert.ok(!gw.gh.stdout.includes(secret) && !gw.gh.stderr.includes(secret), 'a secret in the output')
  })

  it('asks the code after the password when the user has a factor; the access token carries acr, amr and auth_time', async () => {
    const browser = new Browser()
    const { step, exchange } = await start(browser, 'portal', {
      scope: 'openid profile offline_access orders:read',
      prompt: 'consent',
    })
    const second = await password(browser, step, DAVE)
    assert.equal(titleOf(second), 'Verify it is you')
    assert.doesNotMatch(page(second), /name="password"/)
    await awayFromStepEdge()
    daveCode = totpCode(daveSecret, 1)
    // prompt=consent (offline_access needs it): the consent page comes after both factors.
    const consent = await submit(browser, second, origin, '/otp', { code: daveCode })
    assert.equal(titleOf(consent), 'Allow access')
    const tokens = await exchange(await submit(browser, consent, origin, '/confirm', { decision: 'allow' }))
    assert.deepEqual(tokens.claims()!.amr, ['pwd', 'otp', 'mfa'])
    const { payload } = await new TokenVerifier(await config('portal')).accessToken(
      tokens.access_token,
      ORDERS_API,
    )
    assert.deepEqual(payload.amr, ['pwd', 'otp', 'mfa'])
    assert.equal(payload.acr, ACR_2FA)
    assert.equal(payload.auth_time, tokens.claims()!.auth_time)
    // A refreshed access token still says how the user signed in.
    assert.ok(tokens.refresh_token, 'a refresh token')
    const refreshed = await client.refreshTokenGrant(await config('portal'), tokens.refresh_token, {
      resource: ORDERS_API,
    })
    const again = await new TokenVerifier(await config('portal')).accessToken(
      refreshed.access_token,
      ORDERS_API,
    )
    assert.deepEqual([again.payload.amr, again.payload.acr], [['pwd', 'otp', 'mfa'], ACR_2FA])
    assert.equal(again.payload.auth_time, payload.auth_time)
  })

  it('refuses a code that was already used, and counts it as a failure', async () => {
    const browser = new Browser()
    const { step } = await start(browser, 'spa')
    const second = await password(browser, step, DAVE)
    const replay = await submit(browser, second, origin, '/otp', { code: daveCode })
    assert.equal(titleOf(replay), 'Verify it is you')
    assert.ok(page(replay).includes(WRONG_CODE))
    const dave = (await store.users.findByUsername('dave'))!
    await gw.gh.waitForLog(
      (l) => l.msg === 'second factor failed' && l.reason === 'code_replayed' && l.user_id === dave.id,
    )
    // Cleared again by a sign-in that succeeds (below), so the lockout test of erin is not disturbed.
  })

  it('signs in once with each recovery code', async () => {
    const browser = new Browser()
    const { step, exchange } = await start(browser, 'spa')
    const second = await password(browser, step, DAVE)
    const code = daveRecovery[0]!.toUpperCase()
    const tokens = await exchange(await submit(browser, second, origin, '/recovery', { recovery_code: code }))
    assert.deepEqual(tokens.claims()!.amr, ['pwd', 'otp', 'mfa'])
    const dave = (await store.users.findByUsername('dave'))!
    assert.equal(await store.factors.recoveryCodesLeft(dave.id), 9)

    const again = new Browser()
    const retry = await start(again, 'spa')
    const refused = await submit(again, await password(again, retry.step, DAVE), origin, '/recovery', {
      recovery_code: code,
    })
    assert.match(page(refused), /That recovery code is not valid or was already used/)
  })

  it('counts wrong codes towards the account lockout like wrong passwords', async () => {
    await seedTotp(store, 'erin')
    const browser = new Browser()
    const { step } = await start(browser, 'spa')
    let second = await password(browser, step, ERIN)
    for (let i = 0; i < 3; i++) second = await submit(browser, second, origin, '/otp', { code: '000000' })
    assert.match(page(second), /Too many failed attempts/)
    const erin = (await store.users.findByUsername('erin'))!
    await gw.gh.waitForLog(
      (l) => l.msg === 'second factor failed' && l.user_id === erin.id && l.locked === 'account',
    )
    // Counted against the address as well, as wrong passwords are.
    assert.ok(((await store.throttle.get('ip:127.0.0.1'))?.failures ?? 0) >= 3)
    // Locked: the right password is refused now, as after wrong passwords.
    const later = new Browser()
    const retry = await start(later, 'spa')
    const refused = await password(later, retry.step, ERIN)
    assert.ok(page(refused).includes(INVALID))
    await gw.gh.waitForLog((l) => l.msg === 'login failed' && l.reason === 'account_locked')
  })

  it('signs in with the password alone where mfa is off; acr_values 2fa then asks only the code, max_age the password', async () => {
    const secret = await seedTotp(store, 'frank')
    const browser = new Browser()
    const first = await start(browser, 'plain')
    const tokens1 = await first.exchange(await password(browser, first.step, FRANK))
    assert.deepEqual(tokens1.claims()!.amr, ['pwd'])
    assert.equal(tokens1.claims()!.acr, ACR_1FA)

    const stepUp = await start(browser, 'plain', { acr_values: ACR_2FA })
    assert.equal(titleOf(stepUp.step), 'Verify it is you')
    assert.doesNotMatch(page(stepUp.step), /name="password"/)
    await awayFromStepEdge()
    const tokens2 = await stepUp.exchange(
      await submit(browser, stepUp.step, origin, '/otp', { code: totpCode(secret) }),
    )
    const claims = tokens2.claims()!
    assert.deepEqual(claims.amr, ['pwd', 'otp', 'mfa'])
    assert.equal(claims.acr, ACR_2FA)
    assert.equal(claims.sub, tokens1.claims()!.sub)
    assert.ok((claims.auth_time as number) >= (tokens1.claims()!.auth_time as number))

    // The session is 2fa now: asking again needs nothing more.
    const again = await start(browser, 'plain', { acr_values: ACR_2FA })
    assert.equal(decodeJwt((await again.exchange(again.step)).id_token!).acr, ACR_2FA)
    // max_age=0 asks the password again, then the code (acr_values still asks two factors).
    const fresh = await start(browser, 'plain', { acr_values: ACR_2FA, max_age: '0' })
    assert.equal(titleOf(fresh.step), 'Sign in')
    assert.equal(titleOf(await password(browser, fresh.step, FRANK)), 'Verify it is you')
  })

  it('ends with unmet_authentication_requirements when two factors are asked of a user who has none and may not enrol', async () => {
    const browser = new Browser()
    const { step } = await start(browser, 'plain', { acr_values: ACR_2FA })
    const end = await password(browser, step, GINA)
    assert.ok(end instanceof URL)
    assert.equal(end.searchParams.get('error'), 'unmet_authentication_requirements')
    // Where the policy lets users enrol (the client's optional), the same request sets an app up instead.
    const other = new Browser()
    const optional = await start(other, 'spa', { acr_values: ACR_2FA })
    assert.equal(titleOf(await password(other, optional.step, GINA)), 'Set up two-step verification')
  })

  it("shows a user's factors on the admin API without secrets, resets them, and the next sign-in enrols again", async () => {
    const list = await admin('GET', '/identity/users/dave/factors')
    assert.equal(list.status, 200)
    assert.equal(list.body.data.length, 1)
    assert.deepEqual(Object.keys(list.body.data[0]).sort(), [
      'created_at',
      'id',
      'kind',
      'last_used_at',
      'name',
    ])
    assert.equal(list.body.recovery_codes_left, 9)
    assert.ok(!JSON.stringify(list.body).includes(daveSecret))

    const reset = await admin('DELETE', '/identity/users/dave/factors')
    assert.equal(reset.status, 200)
    assert.equal(reset.body.factors_removed, 1)
    await gw.gh.waitForLog(
      (l) =>
        l.msg === 'identity factors reset' &&
        l.action === 'user.mfa_reset' &&
        (l.actor as { via: string }).via === 'admin-api' &&
        (l.detail as { factors_removed: number }).factors_removed === 1,
    )
    assert.equal((await admin('GET', '/identity/users/dave/factors')).body.recovery_codes_left, 0)
    assert.equal((await admin('DELETE', '/identity/users/nobody/factors')).status, 404)

    const browser = new Browser()
    const { step } = await start(browser, 'secure-app')
    assert.equal(titleOf(await password(browser, step, DAVE)), 'Set up two-step verification')
  })

  it("sets a user's own mfa policy on the admin API: required makes them enrol even where the client asks nothing", async () => {
    assert.equal((await admin('POST', '/identity/users', IVAN)).status, 201)
    const bad = await admin('PUT', '/identity/users/ivan/mfa', { mfa: 'always' })
    assert.equal(bad.status, 400)
    const set = await admin('PUT', '/identity/users/ivan/mfa', { mfa: 'required' })
    assert.equal(set.status, 200)
    assert.equal(set.body.mfa, 'required')
    await gw.gh.waitForLog(
      (l) =>
        l.msg === 'identity user mfa policy set' && (l.detail as { mfa: string | null }).mfa === 'required',
    )
    const browser = new Browser()
    const { step } = await start(browser, 'plain')
    assert.equal(titleOf(await password(browser, step, IVAN)), 'Set up two-step verification')

    assert.equal((await admin('PUT', '/identity/users/ivan/mfa', { mfa: null })).body.mfa, null)
    const later = new Browser()
    const again = await start(later, 'plain')
    assert.ok((await password(later, again.step, IVAN)) instanceof URL)
  })

  it('refuses to set the mfa policy of a user the file declares with 409, naming identity.users[i].mfa; reset stays allowed', async () => {
    const hugo = (await store.users.findByUsername('hugo'))!
    for (const mfa of ['required', null]) {
      const refused = await admin('PUT', '/identity/users/hugo/mfa', { mfa })
      assert.deepEqual(refused, {
        status: 409,
        body: {
          error: 'Conflict',
          code: 'GH_ERR_ADMIN_MANAGED_BY_CONFIG',
          message:
            "the mfa policy of user 'hugo' is declared in the configuration file (identity.users[4].mfa); change it there",
          statusCode: 409,
        },
      })
    }
    assert.equal(await store.factors.policy(hugo.id), null)
    const reset = await admin('DELETE', '/identity/users/hugo/factors')
    assert.deepEqual([reset.status, reset.body.factors_removed], [200, 0])
  })

  it('lists, resets and sets with gatehouse users mfa, as the admin API does, and adds a client with its own mfa', async () => {
    const cli = (...args: string[]) => runCli(['users', 'mfa', ...args, '--config', gw.gh.configFile])
    const frank = (await store.users.findByUsername('frank'))!
    const list = await cli('list', 'frank')
    assert.equal(list.code, 0, list.stderr)
    assert.match(list.stdout, /\btotp\b/)
    assert.match(list.stdout, /recovery codes left: 0; own policy: none/)
    // Frank is declared in the file: his policy is set there; Ivan was made with the admin API.
    const refused = await cli('set', 'frank', 'required')
    assert.deepEqual(
      [refused.stderr, refused.code],
      [
        `gatehouse: the mfa policy of user 'frank' (identity.users[2].mfa) is managed by ${gw.gh.configFile}; change it there\n`,
        1,
      ],
    )
    assert.equal(await store.factors.policy(frank.id), null)
    const ivan = (await store.users.findByUsername('ivan'))!
    const set = await cli('set', 'ivan', 'required')
    assert.deepEqual([set.stdout, set.code], ["mfa policy of 'ivan' set to required\n", 0])
    assert.equal(await store.factors.policy(ivan.id), 'required')
    assert.equal((await cli('set', 'ivan', 'sometimes')).code, 2)
    const reset = await cli('reset', 'frank')
    assert.deepEqual(
      [reset.stdout, reset.code],
      ["removed 1 second factor and the recovery codes of 'frank'\n", 0],
    )
    assert.deepEqual(await store.factors.list(frank.id), [])
    const addClient = (mfa: string) =>
      runCli([
        'clients',
        'add',
        `cli-${mfa}`,
        '--public',
        '--redirect-uri',
        CALLBACK,
        '--mfa',
        mfa,
        '--config',
        gw.gh.configFile,
      ])
    assert.equal((await addClient('required')).code, 0)
    assert.equal((await store.clients.get('cli-required'))?.mfa, 'required')
    const badClient = await addClient('sometimes')
    assert.equal(badClient.code, 2)
    assert.match(badClient.stderr, /--mfa 'sometimes'/)
    const nobody = await cli('reset', 'nobody')
    assert.deepEqual([nobody.stderr, nobody.code], ["gatehouse: no user 'nobody'\n", 1])
  })

  it('refuses codes of a factor sealed under another identity.secret, saying so in the log, without failing', async () => {
    const jade = (await store.users.findByUsername('jade'))!
    const secret = new Secret({ size: 20 }).base32
    const id = randomUUID()
    const otherKey = factorSealKey('another-identity-secret-0123456789abcdefghij')
    await store.factors.insert({
      id,
      user_id: jade.id,
      kind: 'totp',
      name: 'Old app',
      secret: sealSecret(otherKey, id, secret),
      last_step: null,
      created_at: 0,
      last_used_at: null,
    })
    const browser = new Browser()
    const { step } = await start(browser, 'spa')
    const refused = await submit(browser, await password(browser, step, JADE), origin, '/otp', {
      code: totpCode(secret),
    })
    assert.equal(refused instanceof URL ? 0 : refused.status, 200)
    assert.ok(page(refused).includes(WRONG_CODE))
    await gw.gh.waitForLog((l) => l.reason === 'factor_secret_unusable' && l.factor_id === id)
  })

  it('makes a user the file declares with mfa: required enrol, where neither the provider nor the client asks', async () => {
    const kate = (await store.users.findByUsername('kate'))!
    assert.equal(await store.factors.policy(kate.id), 'required')
    const browser = new Browser()
    const { step } = await start(browser, 'plain')
    assert.equal(titleOf(await password(browser, step, KATE)), 'Set up two-step verification')
    // Leo, declared without the key, has no policy of his own: the password alone.
    const other = new Browser()
    const leo = await start(other, 'plain')
    assert.ok((await password(other, leo.step, LEO)) instanceof URL)
  })

  it('applies a reload of the file: a removed mfa clears the policy (password alone), an added one makes the user enrol', async () => {
    const seen = new Set(gw.gh.lines)
    // The provider asks a code of users who have one (optional); Kate has none.
    gw.gh.writeConfig({
      _format_version: '3.0',
      identity: identitySection(gw.issuer, identity('optional', [KATE, { ...LEO, mfa: 'required' }])),
    })
    gw.gh.signal('SIGHUP')
    await gw.gh.waitForLog((l) => !seen.has(l) && l.msg === 'identity provider reloaded')
    const cleared = gw.gh.lines.find(
      (l) => !seen.has(l) && l.level === 'warn' && /cleared the own mfa policy/.test(l.msg),
    )
    assert.deepEqual(cleared?.users, ['kate'])

    const kate = new Browser()
    const first = await start(kate, 'plain')
    const tokens = await first.exchange(await password(kate, first.step, KATE))
    assert.deepEqual([tokens.claims()!.amr, tokens.claims()!.acr], [['pwd'], ACR_1FA])
    const leo = new Browser()
    const second = await start(leo, 'plain')
    assert.equal(titleOf(await password(leo, second.step, LEO)), 'Set up two-step verification')
    // Ivan is not in the file: the policy the CLI gave him stays.
    const ivan = (await store.users.findByUsername('ivan'))!
    assert.equal(await store.factors.policy(ivan.id), 'required')
  })
})
