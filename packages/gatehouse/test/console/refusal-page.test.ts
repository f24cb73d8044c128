/**
 * The console's "Why was this refused?" page in a real Chromium against a real gateway (issue 12): a route
 * picked from the searchable list, an expired JWT pasted — jwt's row says refused with 401,
 * GH_ERR_AUTH_CREDENTIALS_INVALID, jwt_claims and "expired" in words —; a missing API key — key-auth
 * refused with GH_ERR_AUTH_CREDENTIALS_MISSING and key_auth_no_key, acl not evaluated —; a good key sent
 * under the name the route's key-auth reads passes every plugin and would be forwarded. The pasted secret
 * sits in a password field with a show toggle and never reaches the URL or the browser's storage; axe finds
 * no serious or critical violation, desktop and phone; screenshots go to test-results/console/.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { SignJWT } from 'jose'
import type { Browser, Page } from 'playwright-core'
import { launchBrowser } from '../harness/browser.ts'
import { type GatehouseProcess, startGatehouse } from '../harness/gatehouse.ts'
import { startUpstream, type Upstream } from '../harness/upstream.ts'
import {
  axeViolations,
  cspViolations,
  NO_CHROMIUM,
  openContext,
  openPage,
  SIZES,
  screenshot,
  text,
  watch,
} from './pages-support.ts'
import { TOKEN } from './support.ts'

const ALICE_KEY = 'alice-console-key-0123456789'
const JWT_SECRET = 'console-explain-jwt-secret-of-at-least-32-bytes'

describe('the "Why was this refused?" page', { skip: NO_CHROMIUM }, () => {
  let upstream: Upstream
  let gh: GatehouseProcess
  let browser: Browser
  let expired: string

  before(async () => {
    ;[upstream, browser] = await Promise.all([startUpstream(), launchBrowser()])
    gh = await startGatehouse({
      config: {
        _format_version: '3.0',
        admin: { token: TOKEN },
        services: [
          {
            name: 'orders',
            url: upstream.url,
            routes: [
              {
                name: 'jwt-route',
                paths: ['/jwt'],
                plugins: [{ name: 'jwt', config: { claims_to_verify: ['exp'] } }],
              },
              {
                name: 'keys-route',
                paths: ['/keys'],
                plugins: [
                  { name: 'key-auth', config: { key_names: ['x-shop-key'] } },
                  { name: 'acl', config: { allow: ['staff'] } },
                ],
              },
            ],
          },
        ],
        consumers: [
          { username: 'alice', keyauth_credentials: [{ key: ALICE_KEY }], acls: [{ group: 'staff' }] },
          { username: 'issuer', jwt_secrets: [{ key: 'issuer-a', secret: JWT_SECRET }] },
        ],
      },
    })
    expired = await new SignJWT({ sub: 'someone' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer('issuer-a')
      .setIssuedAt(1_700_000_000)
      .setExpirationTime(1_700_000_600)
      .sign(new TextEncoder().encode(JWT_SECRET))
  })
  after(async () => {
    await browser?.close()
    await gh?.stop()
    await upstream?.close()
  })

  const row = (page: Page, plugin: string) => page.locator(`#explain-verdicts tr[data-plugin="${plugin}"]`)

  /** Picks a route by searching for it, then the credential kind. */
  async function describeRequest(page: Page, search: string, route: string, kind: string): Promise<void> {
    await page.getByLabel('Search routes').fill(search)
    await page.getByLabel('Route', { exact: true }).selectOption({ label: route })
    await page.getByLabel('Credential').selectOption({ label: kind })
  }

  async function explain(page: Page): Promise<void> {
    const before = await page.locator('#explain-result').count()
    const answered = page.waitForResponse((r) => r.url().endsWith('/explain'))
    await page.getByRole('button', { name: 'Explain', exact: true }).click()
    assert.equal((await answered).status(), 200)
    if (before === 0) await page.locator('#explain-result').waitFor()
  }

  it('explains an expired JWT, a missing key and a good key, row by row; the pasted secret stays in the page', async () => {
    const context = await openContext(browser, 'desktop')
    try {
      const page = await context.newPage()
      const problems = watch(page)
      await openPage(page, gh, TOKEN, 'refused')
      assert.equal(await text(page.locator('#page-title')), 'Why was this refused?')
      await page.getByText('2 of 2 routes').waitFor()
      assert.deepEqual(await axeViolations(page), [], 'the empty form')

      // The search narrows the list; the expired token, pasted into a password field.
      await page.getByLabel('Search routes').fill('jwt')
      await page.getByText('1 of 2 routes').waitFor()
      await describeRequest(page, 'jwt', 'jwt-route — /jwt', 'Bearer token')
      const secret = page.getByLabel('Token (sent as Authorization: Bearer)')
      assert.equal(await secret.getAttribute('type'), 'password')
      await secret.fill(expired)
      await page.getByRole('button', { name: 'Show the value' }).click()
      assert.equal(await secret.getAttribute('type'), 'text')
      await page.getByRole('button', { name: 'Hide the value' }).click()
      assert.equal(await secret.getAttribute('type'), 'password')
      await explain(page)
      const jwt = row(page, 'jwt')
      assert.equal(await jwt.getAttribute('data-verdict'), 'refused')
      assert.equal(await text(jwt.locator('[data-field="status"]')), '401')
      assert.equal(await text(jwt.locator('[data-field="code"]')), 'GH_ERR_AUTH_CREDENTIALS_INVALID')
      assert.match(await text(jwt.locator('[data-field="reason"]')), /^jwt_claims.*expired/)
      assert.match(await text(jwt.locator('[data-field="detail"]')), /exp: token expired/)
      assert.match(await text(page.locator('#explain-outcome')), /Refused with 401/)
      assert.equal(await text(page.locator('#explain-consumer')), 'none identified')
      assert.match(await text(page.locator('#explain-sent')), /expired: true/)
      // Not in the address, not in storage, not in a cookie; the answer does not echo it either.
      assert.ok(!page.url().includes(expired.slice(0, 20)))
      assert.equal(await page.evaluate('localStorage.length'), 0)
      assert.equal(await page.evaluate('sessionStorage.length'), 1, 'the admin token only')
      assert.equal((await context.cookies()).length, 0)
      assert.ok(!(await text(page.locator('#explain-result'))).includes(expired.split('.')[2]!))
      assert.deepEqual(await axeViolations(page), [], 'an expired token explained')
      await screenshot(page, 'refused-expired-jwt-desktop')

      // A missing key: key-auth refuses, acl is not evaluated.
      await describeRequest(page, 'keys', 'keys-route — /keys', 'API key')
      assert.equal(await page.getByLabel('Name').inputValue(), 'x-shop-key', 'the route’s key name')
      await page.getByLabel('API key').fill('')
      await explain(page)
      await row(page, 'key-auth').waitFor()
      const keyAuth = row(page, 'key-auth')
      assert.equal(await keyAuth.getAttribute('data-verdict'), 'refused')
      assert.equal(await text(keyAuth.locator('[data-field="code"]')), 'GH_ERR_AUTH_CREDENTIALS_MISSING')
      assert.match(await text(keyAuth.locator('[data-field="reason"]')), /^key_auth_no_key.*No API key/)
      assert.equal(await row(page, 'acl').getAttribute('data-verdict'), 'not_evaluated')
      assert.equal(await text(row(page, 'acl').locator('td').nth(1)), 'Not evaluated')
      await screenshot(page, 'refused-missing-key-desktop')

      // A good key, under the route's own header name: every plugin passes.
      await page.getByLabel('API key').fill(ALICE_KEY)
      await explain(page)
      await page.locator('#explain-outcome[data-result="forwarded"]').waitFor()
      assert.equal(await row(page, 'key-auth').getAttribute('data-verdict'), 'passed')
      assert.equal(await row(page, 'acl').getAttribute('data-verdict'), 'passed')
      assert.equal(await text(page.locator('#explain-consumer')), 'alice')
      assert.match(await text(page.locator('#explain-outcome')), /Would be forwarded to service orders/)
      assert.equal(upstream.requests.length, 0, 'nothing was forwarded')
      await screenshot(page, 'refused-good-key-desktop')
      assert.deepEqual(await cspViolations(page), [])
      assert.deepEqual(problems.errors, [])
    } finally {
      await context.close()
    }
  })

  it('explains a request typed by method and path, and fits a phone without accessibility violations', async () => {
    const context = await openContext(browser, 'phone')
    try {
      const page = await context.newPage()
      await openPage(page, gh, TOKEN, 'refused')
      await page.getByLabel('Method').fill('get')
      await page.getByLabel('Path').fill('/keys/orders/1')
      await page.getByLabel('Credential').selectOption({ label: 'API key' })
      await explain(page)
      assert.match(await text(page.locator('#explain-answer-route')), /^keys-route\s*matched by the router/)
      assert.equal(await row(page, 'key-auth').getAttribute('data-verdict'), 'refused')
      assert.deepEqual(await axeViolations(page), [], 'on a phone')
      const width = await page.evaluate<number>('document.documentElement.scrollWidth')
      assert.ok(width <= SIZES.phone.width, `fits a phone (${width} px wide)`)
      await screenshot(page, 'refused-phone')
    } finally {
      await context.close()
    }
  })
})
