/**
 * Signing in with another OpenID Connect provider in a real browser (issue 14): Chromium starts on the
 * built-in provider's login page, presses "Sign in with …", passes through an independent oidc-provider
 * (support/external-provider.ts, another host) and comes back. A first sign-in with create_accounts
 * creates and links an account; without it, the link page asks the local password (typed at the
 * keyboard) and links; the next sign-in uses the link; a refusal at the provider is a page with the way
 * back; a link removed on the account page is in the audit trail, its owner the actor. Every new page
 * passes axe-core (no serious or critical violation) and raises no CSP report.
 *
 * Skipped only when there is no Chromium (CI installs it).
 */
import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { after, before, describe, it } from 'node:test'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { CHROMIUM, launchBrowser } from '../harness/browser.ts'
import { type GatehouseProcess, startGatehouse } from '../harness/gatehouse.ts'
import { assertSelfService, auditOf, SOME_SESSION } from './support/audit.ts'
import {
  EXT_CLIENT_ID,
  EXT_CLIENT_SECRET,
  type ExternalProvider,
  startExternalProvider,
} from './support/external-provider.ts'
import { ALICE, freePort, identitySection, storeOf } from './support/gateway.ts'
import { authorization, client, configFor } from './support/oidc.ts'
import { type RelyingParty, startRelyingParty } from './support/relying-party.ts'

const NO_CHROMIUM = existsSync(CHROMIUM)
  ? false
  : `no Chromium at ${CHROMIUM} (CI installs Debian's chromium; GATEHOUSE_TEST_CHROMIUM names another)`

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8')

/** axe-core's serious and critical violations on the page as it is now (WCAG 2.x A and AA, best practice). */
async function axeViolations(page: Page): Promise<string[]> {
  await page.evaluate(AXE)
  const results = await page.evaluate<{
    violations: { id: string; impact: string; nodes: { target: string[] }[] }[]
  }>(
    `axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } })`,
  )
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)
}

describe('signing in with another provider in Chromium', { skip: NO_CHROMIUM }, () => {
  let rp: RelyingParty
  let ext: ExternalProvider
  let gh: GatehouseProcess
  let issuer: string
  let browser: Browser
  let app: client.Configuration
  const contexts: BrowserContext[] = []

  before(async () => {
    rp = await startRelyingParty()
    const port = await freePort()
    issuer = `http://127.0.0.1:${port}/oidc`
    ext = await startExternalProvider(`${issuer}/broker/callback`)
    const common = { issuer: ext.issuer, client_id: EXT_CLIENT_ID, client_secret: EXT_CLIENT_SECRET }
    const identity = identitySection(issuer, {
      external_providers: [
        { ...common, name: 'ext', display_name: 'Example ID', create_accounts: true },
        { ...common, name: 'corp', display_name: 'Corp SSO' },
      ],
    })
    ;(identity.clients as object[]).push({
      client_id: 'broker-app',
      client_name: 'Broker App',
      redirect_uris: [rp.callback],
      scopes: ['openid', 'profile', 'email'],
      first_party: true,
    })
    gh = await startGatehouse({
      config: { _format_version: '3.0', identity },
      args: ['--proxy-listen', `127.0.0.1:${port}`],
    })
    app = await configFor(issuer, 'broker-app')
    browser = await launchBrowser()
  })

  after(async () => {
    for (const c of contexts) await c.close().catch(() => {})
    await browser?.close()
    await gh?.stop()
    await ext?.close()
    await rp?.close()
  })

  /** A fresh browser context (its own cookies) on the login page of a new authorization request. */
  async function loginPage() {
    const context = await browser.newContext({ viewport: { width: 1024, height: 768 } })
    contexts.push(context)
    const page = await context.newPage()
    const problems: string[] = []
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console: ${m.text()}`)
    })
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`))
    const auth = await authorization(app, { redirect_uri: rp.callback, scope: 'openid profile email' })
    await page.goto(auth.url.href)
    assert.equal(await page.locator('h1').textContent(), 'Sign in')
    return { page, auth, problems }
  }

  /** Waits for the relying party's callback and exchanges the code: Gatehouse's ID token claims. */
  async function signedIn(landed: Promise<URL>, auth: Awaited<ReturnType<typeof authorization>>) {
    const callback = await landed
    assert.equal(callback.searchParams.get('error'), null)
    const tokens = await client.authorizationCodeGrant(app, callback, {
      pkceCodeVerifier: auth.verifier,
      expectedState: auth.state,
      expectedNonce: auth.nonce,
      idTokenExpected: true,
    })
    return tokens.claims()!
  }

  it('creates and links an account at the first sign-in (create_accounts), from a button under the password form', async () => {
    const { page, auth, problems } = await loginPage()
    const buttons = page.getByRole('region', { name: 'Or sign in with' }).getByRole('button')
    assert.deepEqual(await buttons.allTextContents(), ['Sign in with Example ID', 'Sign in with Corp SSO'])
    assert.deepEqual(await axeViolations(page), [])
    ext.next = {
      account: {
        sub: 'ext-frank',
        email: 'frank@ext.test',
        email_verified: true,
        preferred_username: 'frank',
      },
    }
    const landed = rp.next('/cb')
    await page.getByRole('button', { name: 'Sign in with Example ID' }).click()
    const claims = await signedIn(landed, auth)
    const store = await storeOf(gh)
    try {
      const frank = await store.users.findByUsername('frank')
      assert.equal(claims.sub, frank?.id)
      assert.deepEqual(
        (await store.links.listByUser(frank!.id)).map((l) => [l.broker, l.subject]),
        [['ext', 'ext-frank']],
      )
    } finally {
      await store.close()
    }
    assert.deepEqual(problems, [])
  })

  it('without create_accounts links an existing account after its password, typed at the keyboard; the next sign-in uses the link', async () => {
    const { page, auth, problems } = await loginPage()
    ext.next = { account: { sub: 'corp-alice', email: 'alice@corp.test', preferred_username: 'alice.c' } }
    await page.getByRole('button', { name: 'Sign in with Corp SSO' }).click()
    await page.waitForURL(/\/interaction\/[^/]+\/broker$/)
    assert.equal(await page.locator('h1').textContent(), 'Link your account')
    assert.match((await page.locator('main').textContent()) ?? '', /Corp SSO as alice@corp\.test/)
    assert.deepEqual(await axeViolations(page), [])

    // A wrong password first: the same answer as the login page's, focus back in the form.
    await page.keyboard.type(ALICE.username)
    await page.keyboard.press('Tab')
    await page.keyboard.type('not-the-password-1')
    await page.keyboard.press('Enter')
    await page.waitForLoadState('load')
    assert.equal(await page.getByRole('alert').textContent(), 'Invalid username or password.')
    assert.deepEqual(await axeViolations(page), [])

    const landed = rp.next('/cb')
    await page.locator('#password').focus()
    await page.keyboard.type(ALICE.password)
    await page.keyboard.press('Enter')
    const claims = await signedIn(landed, auth)
    const store = await storeOf(gh)
    try {
      const alice = await store.users.findByUsername(ALICE.username)
      assert.equal(claims.sub, alice?.id)
      assert.equal((await store.links.find('corp', 'corp-alice'))?.user_id, alice?.id)
    } finally {
      await store.close()
    }
    assert.deepEqual(problems, [])

    // Next time: the link, no page of ours between the button and the application.
    const again = await loginPage()
    const next = rp.next('/cb')
    await again.page.getByRole('button', { name: 'Sign in with Corp SSO' }).click()
    assert.equal((await signedIn(next, again.auth)).sub, claims.sub)
  })

  it('shows a refusal at the provider as an accessible page with the way back to the sign-in', async () => {
    const { page, problems } = await loginPage()
    ext.next = { error: 'access_denied' }
    await page.getByRole('button', { name: 'Sign in with Example ID' }).click()
    await page.waitForURL(/\/broker\/callback/)
    assert.equal(await page.locator('h1').textContent(), 'Sign-in cancelled')
    assert.deepEqual(await axeViolations(page), [])
    await page.getByRole('link', { name: 'Back to sign-in' }).click()
    await page.waitForLoadState('load')
    assert.equal(await page.locator('h1').textContent(), 'Sign in')
    // Chromium reports the 403 itself as a console error; nothing else (a CSP violation) may show.
    assert.deepEqual(
      problems.filter((p) => !p.includes('status of 403')),
      [],
    )
  })

  it('lists the linked sign-ins on the account page, removes one, and refuses to remove the only way in', async () => {
    let frankId: string
    const store = await storeOf(gh)
    try {
      const frank = await store.users.findByUsername('frank')
      assert.ok(frank, 'made by the first test')
      frankId = frank.id
      await store.links.insert({
        broker: 'corp',
        subject: 'corp-frank',
        user_id: frank.id,
        email: 'frank@corp.test',
        username: null,
        created_at: Math.floor(Date.now() / 1000) - 86_400,
        last_used_at: null,
      })
    } finally {
      await store.close()
    }
    const context = await browser.newContext({ viewport: { width: 1024, height: 768 } })
    contexts.push(context)
    const page = await context.newPage()
    await page.goto(`${issuer}/account`)
    assert.equal(await page.locator('h1').textContent(), 'Sign in')
    ext.next = { account: { sub: 'ext-frank', email: 'frank@ext.test', preferred_username: 'frank' } }
    await Promise.all([
      page.waitForURL(/\/account(\?|$)/),
      page.getByRole('button', { name: 'Sign in with Example ID' }).click(),
    ])
    assert.equal(await page.locator('h1').textContent(), 'Your account')
    const section = page.getByRole('region', { name: 'Linked sign-ins' })
    const items = async () =>
      (await section.getByRole('listitem').allTextContents()).map((t) => t.replace(/\s+/g, ' ').trim())
    const listed = await items()
    assert.equal(listed.length, 2)
    // Oldest link first.
    assert.match(
      listed[1]!,
      /^Example ID: frank@ext\.test Linked \d{4}-\d\d-\d\d \d\d:\d\d UTC; last used \d{4}-/,
    )
    assert.match(listed[0]!, /^Corp SSO: frank@corp\.test Linked .* UTC; not used yet/)
    assert.deepEqual(await axeViolations(page), [])

    await Promise.all([
      page.waitForURL(/done=unlinked/),
      page.getByRole('button', { name: 'Remove the link to Corp SSO' }).click(),
    ])
    assert.match((await page.getByRole('status').textContent()) ?? '', /linked sign-in was removed/)
    assert.equal((await items()).length, 1)
    // One line, the audit event's: frank himself, on the account page.
    const line = await gh.waitForLog((l) => l.type === 'audit' && l.action === 'user.link_removed')
    assert.equal(line.msg, 'identity link removed')
    assert.deepEqual(
      [line['target'], line['detail']],
      [
        { type: 'user', id: frankId, name: 'frank' },
        { provider: 'corp', sign_in_left: true },
      ],
    )
    const trail = await auditOf(gh, frankId, 'user.link_removed')
    assert.equal(trail.length, 1)
    assertSelfService(trail[0]!, 'account', SOME_SESSION)
    assert.deepEqual(trail[0]!.actor, line['actor'])

    // frank has no password: the last link is the only way in, and stays.
    const [refused] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/account/links/remove')),
      page.getByRole('button', { name: 'Remove the link to Example ID' }).click(),
    ])
    assert.equal(refused.status(), 409)
    await page.waitForLoadState('load')
    assert.match((await page.getByRole('alert').textContent()) ?? '', /only way into your account/)
    assert.equal((await items()).length, 1)
    assert.deepEqual(await axeViolations(page), [])
    const after = await storeOf(gh)
    try {
      assert.deepEqual(
        (await after.links.listByUser(frankId)).map((l) => l.broker),
        ['ext'],
      )
    } finally {
      await after.close()
    }
  })
})
