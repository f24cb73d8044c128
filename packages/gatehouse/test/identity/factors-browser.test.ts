/**
 * The second-factor pages in Chromium (issue 14): enrolment with the QR code and the manual key under
 * the pages' strict CSP, the recovery codes shown once, the second step after the password (typed and
 * submitted from the keyboard alone), a wrong recovery code's error; axe-core finds no serious or
 * critical violation on any of them, and no CSP violation or request to another origin happens.
 * The codes are computed here with otpauth, as the user's authenticator app would.
 */
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { after, before, describe, it } from 'node:test'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { axeViolations } from '../console/pages-support.ts'
import { CHROMIUM, launchBrowser } from '../harness/browser.ts'
import { awayFromStepEdge, totpCode } from './support/factors.ts'
import { type IdentityGateway, startIdentityGateway } from './support/gateway.ts'
import { authorization, client, configFor } from './support/oidc.ts'
import { type RelyingParty, startRelyingParty } from './support/relying-party.ts'

const NO_CHROMIUM = existsSync(CHROMIUM)
  ? false
  : `no Chromium at ${CHROMIUM} (CI installs Debian's chromium; GATEHOUSE_TEST_CHROMIUM names another)`

const IVY = { username: 'ivy', email: 'ivy@example.test', password: 'ivy-browser-password-1234' }

describe('the second-factor pages in Chromium', { skip: NO_CHROMIUM }, () => {
  let gw: IdentityGateway
  let rp: RelyingParty
  let browser: Browser
  let secure: client.Configuration
  let origin: string
  let secret = ''
  let recovery: string[] = []

  /** A fresh context (its own cookies), recording CSP violations and requests to other origins. */
  async function tab(): Promise<{ context: BrowserContext; page: Page; foreign: string[] }> {
    const context = await browser.newContext({ viewport: { width: 1024, height: 768 } })
    await context.addInitScript({
      content: `window.__csp = []
        document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI))`,
    })
    const page = await context.newPage()
    const foreign: string[] = []
    page.on('request', (r) => {
      const url = new URL(r.url())
      if (url.origin !== origin && !(r.isNavigationRequest() && url.href.startsWith(rp.callback)))
        foreign.push(url.href)
    })
    return { context, page, foreign }
  }

  async function checkPage(page: Page, heading: string): Promise<void> {
    assert.equal((await page.locator('h1').textContent())?.trim(), heading)
    assert.deepEqual(await axeViolations(page), [], `axe on "${heading}"`)
    assert.deepEqual(await page.evaluate<string[]>('window.__csp'), [], `CSP on "${heading}"`)
  }

  async function signInWithPassword(page: Page) {
    const auth = await authorization(secure, { scope: 'openid profile', redirect_uri: rp.callback })
    await page.goto(auth.url.href)
    await page.getByLabel('Username or e-mail').fill(IVY.username)
    await page.getByLabel('Password').fill(IVY.password)
    await Promise.all([
      page.waitForNavigation(),
      page.getByRole('button', { name: 'Sign in', exact: true }).click(),
    ])
    return auth
  }

  async function callbackTokens(page: Page, auth: Awaited<ReturnType<typeof authorization>>) {
    await page.waitForURL((url) => url.href.startsWith(rp.callback))
    return client.authorizationCodeGrant(secure, new URL(page.url()), {
      pkceCodeVerifier: auth.verifier,
      expectedState: auth.state,
      expectedNonce: auth.nonce,
      idTokenExpected: true,
    })
  }

  before(async () => {
    rp = await startRelyingParty()
    gw = await startIdentityGateway({
      identity: {
        users: [IVY],
        clients: [
          {
            client_id: 'secure-app',
            client_name: 'Secure App',
            redirect_uris: [rp.callback],
            scopes: ['openid', 'profile'],
            first_party: true,
            mfa: 'required',
          },
        ],
      },
    })
    origin = new URL(gw.issuer).origin
    secure = await configFor(gw.issuer, 'secure-app')
    browser = await launchBrowser()
  })
  after(async () => {
    await browser?.close()
    await gw?.gh.stop()
    await rp?.close()
  })

  it('enrols an authenticator app from the QR page, shows the recovery codes once, and signs in with two factors', async () => {
    const { context, page, foreign } = await tab()
    const auth = await signInWithPassword(page)
    await checkPage(page, 'Set up two-step verification')
    const qr = page.getByRole('img', { name: 'QR code to scan with your authenticator app' })
    assert.ok(await qr.isVisible(), 'the QR code is shown')
    assert.ok(((await qr.boundingBox())?.width ?? 0) >= 150, 'the QR code is large enough to scan')
    secret = ((await page.locator('#manual-key').textContent()) ?? '').replace(/\s/g, '')
    assert.match(secret, /^[A-Z2-7]{32}$/)

    await awayFromStepEdge()
    await page.getByLabel('6-digit code from the app').fill(totpCode(secret))
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Turn on' }).click()])
    await checkPage(page, 'Save your recovery codes')
    recovery = (await page.locator('.codes code').allTextContents()).map((c) => c.trim())
    assert.equal(recovery.length, 10)

    await page.getByRole('button', { name: 'Continue' }).click()
    const tokens = await callbackTokens(page, auth)
    assert.deepEqual(tokens.claims()!.amr, ['pwd', 'otp', 'mfa'])
    assert.equal(tokens.claims()!.acr, 'urn:gatehouse:acr:2fa')
    assert.deepEqual(foreign, [])
    await context.close()
  })

  it('asks the code after the password, usable from the keyboard alone, and explains a wrong recovery code', async () => {
    const { context, page, foreign } = await tab()
    const auth = await signInWithPassword(page)
    await checkPage(page, 'Verify it is you')

    await page.getByLabel('Recovery code').fill('aaaaa-bbbbb')
    await Promise.all([
      page.waitForNavigation(),
      page.getByRole('button', { name: 'Use recovery code' }).click(),
    ])
    await checkPage(page, 'Verify it is you')
    assert.match((await page.getByRole('alert').textContent()) ?? '', /not valid or was already used/)
    assert.equal(await page.evaluate<string>('document.activeElement.id'), 'recovery_code')

    // The code field by keyboard: Tab order reaches it, Enter submits its form.
    await page.getByLabel('6-digit code').focus()
    await awayFromStepEdge()
    await page.keyboard.type(totpCode(secret, 1))
    await page.keyboard.press('Enter')
    const tokens = await callbackTokens(page, auth)
    assert.deepEqual(tokens.claims()!.amr, ['pwd', 'otp', 'mfa'])
    assert.deepEqual(foreign, [])
    await context.close()
  })
})
