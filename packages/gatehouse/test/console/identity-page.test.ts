/**
 * The console's Identity page in a real Chromium against a real gateway with the identity provider on
 * (issue 12): a user added in the console signs in at the provider's login page; disabled (after a
 * confirmation) they are refused, enabled again, and a password reset in the console works for sign-in;
 * a too-short password shows the admin API's problem next to the field; a confidential client's secret is
 * shown once and forgotten when dismissed; the internal-token keys rotate (after a confirmation); the
 * file's users are read-only with the reason, and Unlock lifts the lock failed sign-ins put on one; a user
 * and a client are removed, a subject revoked and a provider key withdrawn, each after a confirmation; a
 * user's second factors, external links and sessions are shown (no secret) and reset, unlinked and signed
 * out everywhere, each after a confirmation (issue 14). With
 * the provider off the page says so, naming identity.enabled. axe finds no serious or critical violation,
 * desktop and phone; screenshots go to test-results/console/.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { Browser as Chromium, Page } from 'playwright-core'
import { launchBrowser } from '../harness/browser.ts'
import { type GatehouseProcess, startGatehouse } from '../harness/gatehouse.ts'
import { Browser, formTo } from '../identity/support/browser.ts'
import { seedTotp } from '../identity/support/factors.ts'
import {
  ALICE,
  BOB,
  type IdentityGateway,
  startIdentityGateway,
  storeOf,
  WEB_SECRET,
} from '../identity/support/gateway.ts'
import { authorization, type client, codeFlow, configFor } from '../identity/support/oidc.ts'
import {
  axeViolations,
  cspViolations,
  NO_CHROMIUM,
  openContext,
  openPage,
  SIZES,
  screenshot,
  text,
  until,
  watch,
} from './pages-support.ts'

const DAVE = { username: 'dave', password: 'dave-first-passphrase-1' }
const DAVE_NEW = 'dave-second-passphrase-2'

describe('the Identity page', { skip: NO_CHROMIUM }, () => {
  let gw: IdentityGateway
  let web: client.Configuration
  let chromium: Chromium

  /** One sign-in on the provider's real login form. */
  async function login(credentials: { username: string; password: string }): Promise<'ok' | 'refused'> {
    const browser = new Browser()
    const auth = await authorization(web, { scope: 'openid' })
    const page = await browser.follow(await browser.get(auth.url), new URL(gw.issuer).origin)
    assert.ok(!(page instanceof URL))
    const form = formTo(await page.text(), '/login')
    const res = await browser.post(new URL(form.action, gw.issuer), { ...form.fields, ...credentials })
    return res.status === 303 ? 'ok' : 'refused'
  }

  before(async () => {
    // Three failures lock an account, without the back-off delay, so the unlock test is quick.
    ;[gw, chromium] = await Promise.all([
      startIdentityGateway({
        identity: {
          login: { max_failures: 3, lockout: 900, backoff: 0 },
          // Never reached (discovery is on first use): it gives alice's link a display name.
          external_providers: [
            {
              name: 'corp',
              display_name: 'Corp SSO',
              issuer: 'http://127.0.0.1:9/corp',
              client_id: 'gatehouse',
              client_secret: 'corp-client-secret-0123456789abcdef',
            },
          ],
        },
      }),
      launchBrowser(),
    ])
    web = await configFor(gw.issuer, 'web-app', WEB_SECRET)
  })
  after(async () => {
    await chromium?.close()
    await gw?.gh.stop()
  })

  const userRow = (page: Page, name: string) => page.locator(`#users-table tr[data-user="${name}"]`)

  it('adds, disables, enables a user and resets their password, with the effect at the login page', async () => {
    const context = await openContext(chromium, 'desktop')
    try {
      const page = await context.newPage()
      const problems = watch(page)
      await openPage(page, gw.gh, null, 'identity')
      await page.locator('#users-table').waitFor()
      assert.match(
        await text(userRow(page, 'alice')),
        /Declared in the configuration file \(identity\.users\)/,
      )
      assert.equal(await userRow(page, 'alice').getByRole('button', { name: 'Remove alice' }).count(), 0)
      assert.deepEqual(await axeViolations(page), [], 'identity page')

      // A password the admin API refuses: its problem next to the field.
      await page.getByLabel('Username').fill(DAVE.username)
      await page.getByLabel('Password', { exact: true }).fill('short')
      await page.getByRole('button', { name: 'Add user' }).click()
      await page.locator('#user-password-error').waitFor()
      assert.match(await text(page.locator('#user-password-error')), /12 characters/)
      assert.equal(await page.getByLabel('Password', { exact: true }).getAttribute('aria-invalid'), 'true')
      assert.deepEqual(await axeViolations(page), [], 'a field error shown')
      await screenshot(page, 'identity-field-error-desktop')

      await page.getByLabel('Password', { exact: true }).fill(DAVE.password)
      await page.getByRole('button', { name: 'Add user' }).click()
      await userRow(page, 'dave').waitFor()
      assert.equal(await page.locator('#user-password-error').count(), 0)
      assert.equal(await login(DAVE), 'ok')

      // Disable asks first; then the provider refuses the sign-in.
      await page.getByRole('button', { name: 'Disable dave' }).click()
      await page.getByRole('alertdialog').waitFor()
      assert.match(await text(page.getByRole('alertdialog')), /Disable dave\?/)
      await page.getByRole('alertdialog').getByRole('button', { name: 'Disable' }).click()
      await until(
        async () => (await text(userRow(page, 'dave').locator('[data-field="state"]'))) === 'Disabled',
        5000,
      )
      assert.equal(await login(DAVE), 'refused')

      await page.getByRole('button', { name: 'Enable dave' }).click()
      await until(
        async () => (await text(userRow(page, 'dave').locator('[data-field="state"]'))) === 'Enabled',
        5000,
      )
      assert.equal(await login(DAVE), 'ok')

      await page.getByRole('button', { name: 'Reset password of dave' }).click()
      await page.getByLabel('New password for dave').fill(DAVE_NEW)
      await page.getByRole('button', { name: 'Set password' }).click()
      await page.getByRole('status').filter({ hasText: 'dave: password reset.' }).waitFor()
      assert.equal(await login({ username: 'dave', password: DAVE_NEW }), 'ok')
      assert.equal(await login(DAVE), 'refused', 'the old password no longer works')
      await screenshot(page, 'identity-users-desktop')
      assert.deepEqual(await cspViolations(page), [])
      assert.deepEqual(problems.errors, [])
    } finally {
      await context.close()
    }
  })

  it('unlocks a file user locked by failed sign-ins, and removes a user after asking', async () => {
    for (let i = 0; i < 3; i++)
      assert.equal(await login({ username: 'bob', password: 'not-bobs-password' }), 'refused')
    assert.equal(await login(BOB), 'refused', 'locked: even the right password is refused')
    const context = await openContext(chromium, 'desktop')
    try {
      const page = await context.newPage()
      await openPage(page, gw.gh, null, 'identity')
      await userRow(page, 'bob').waitFor()
      assert.equal(await userRow(page, 'bob').getByRole('button', { name: 'Disable bob' }).count(), 0)
      await page.getByRole('button', { name: 'Unlock bob' }).click()
      await page.getByRole('status').filter({ hasText: 'bob: cleared the failed logins and lock' }).waitFor()
      assert.equal(await login(BOB), 'ok')
      await page.getByRole('button', { name: 'Unlock bob' }).click()
      await page.getByRole('status').filter({ hasText: 'has no failed logins or lock to clear' }).waitFor()

      // Remove asks first; Cancel leaves the user, Remove removes it.
      await userRow(page, 'dave').waitFor()
      await page.getByRole('button', { name: 'Remove dave' }).click()
      const ask = page.getByRole('alertdialog')
      assert.match(await text(ask), /Remove dave\? This cannot be undone/)
      await ask.getByRole('button', { name: 'Cancel' }).click()
      assert.equal(await userRow(page, 'dave').count(), 1)
      await page.getByRole('button', { name: 'Remove dave' }).click()
      await ask.getByRole('button', { name: 'Remove' }).click()
      await until(async () => (await userRow(page, 'dave').count()) === 0, 5000, 'dave removed')
      assert.equal(await login({ username: 'dave', password: DAVE_NEW }), 'refused')
    } finally {
      await context.close()
    }
  })

  it('shows a new client’s secret once, and rotates the internal-token keys after asking', async () => {
    const context = await openContext(chromium, 'desktop')
    try {
      const page = await context.newPage()
      await openPage(page, gw.gh, null, 'identity')
      await page.locator('#clients-table').waitFor()
      await page.getByLabel('Client id').fill('console-app')
      await page.getByLabel('Redirect URIs (space-separated)').fill('http://127.0.0.1:9/console-cb')
      await page.getByRole('button', { name: 'Add client' }).click()
      await page.locator('#client-secret').waitFor()
      const secret = await text(page.locator('#client-secret code'))
      assert.ok(secret.length >= 32, 'a generated secret')
      assert.match(await text(page.locator('#client-secret')), /shown this once/)
      await page.locator('#clients-table tr[data-client="console-app"]').waitFor()
      await screenshot(page, 'identity-client-secret-desktop')
      await page.getByRole('button', { name: 'I have stored it: hide it' }).click()
      assert.equal(await page.locator('#client-secret').count(), 0)
      assert.ok(!(await page.content()).includes(secret), 'the secret is gone from the page')

      const keys = page.locator('#internal-keys-table tbody tr')
      await keys.first().waitFor()
      const before = await keys.count()
      await page.getByRole('button', { name: 'Rotate the internal-token keys' }).click()
      await page.getByRole('alertdialog').getByRole('button', { name: 'Rotate now' }).click()
      await until(async () => (await keys.count()) > before, 5000, 'a new internal-token key')
      await page.getByRole('status').filter({ hasText: 'Internal-token keys: rotated.' }).waitFor()

      // The client just added is removed after asking.
      const client = page.locator('#clients-table tr[data-client="console-app"]')
      await page.getByRole('button', { name: 'Remove console-app' }).click()
      await page.getByRole('alertdialog').getByRole('button', { name: 'Remove' }).click()
      await until(async () => (await client.count()) === 0, 5000, 'console-app removed')

      // A provider key withdrawn (after asking) leaves the list.
      const kid = await page.locator('#idp-keys-table tbody tr').first().getAttribute('data-kid')
      assert.ok(kid)
      await page.getByRole('button', { name: `Withdraw ${kid}` }).click()
      assert.match(await text(page.getByRole('alertdialog')), /Withdraw the key .* on every node\?/)
      await page.getByRole('alertdialog').getByRole('button', { name: 'Withdraw' }).click()
      await page
        .getByRole('status')
        .filter({ hasText: `${kid} withdrawn.` })
        .waitFor()
      // The list is read again after the message: wait for it, as a person would.
      await until(
        async () => (await page.locator(`#idp-keys-table tr[data-kid="${kid}"]`).count()) === 0,
        5000,
        'the withdrawn key leaves the list',
      )

      // Revoke: an empty id is named next to the field without asking; a subject is revoked after asking.
      await page.getByRole('button', { name: 'Revoke', exact: true }).click()
      assert.match(await text(page.locator('#revoke-value-error')), /Enter the id of the subject/)
      assert.equal(await page.getByRole('alertdialog').count(), 0)
      assert.equal(await page.getByLabel('Its id').getAttribute('aria-invalid'), 'true')
      await page.getByLabel('Its id').fill('u-mallory')
      await page.getByLabel('Reason (optional)').fill('left the company')
      await page.getByRole('button', { name: 'Revoke', exact: true }).click()
      assert.match(await text(page.getByRole('alertdialog')), /Revoke the subject u-mallory\?/)
      await page.getByRole('alertdialog').getByRole('button', { name: 'Revoke now' }).click()
      const revoked = page.locator('#revocations-table tbody tr').filter({ hasText: 'u-mallory' })
      await revoked.waitFor()
      assert.match(await text(revoked), /subject.*left the company/s)
      await screenshot(page, 'identity-keys-revocations-desktop')
    } finally {
      await context.close()
    }
  })

  it('shows a user’s second factors, external links and sessions, and resets, unlinks and signs out after asking', async () => {
    // A session first (alice has no second factor yet), then an authenticator app and a link.
    await codeFlow(await configFor(gw.issuer, 'spa'), ALICE, { scope: 'openid' })
    const store = await storeOf(gw.gh)
    let secret: string
    try {
      secret = await seedTotp(store, ALICE.username)
      const alice = await store.users.findByUsername(ALICE.username)
      await store.links.insert({
        broker: 'corp',
        subject: 'corp-alice',
        user_id: alice!.id,
        email: 'alice@corp.test',
        username: null,
        created_at: Math.floor(Date.now() / 1000),
        last_used_at: null,
      })
    } finally {
      await store.close()
    }
    const context = await openContext(chromium, 'desktop')
    try {
      const page = await context.newPage()
      const problems = watch(page)
      await openPage(page, gw.gh, null, 'identity')
      const toggle = userRow(page, 'alice').getByRole('button', { name: 'Sign-in security of alice' })
      assert.equal(await toggle.getAttribute('aria-expanded'), 'false')
      await toggle.click()
      assert.equal(await toggle.getAttribute('aria-expanded'), 'true')
      const panel = page.getByRole('region', { name: 'Sign-in security of alice' })
      const list = (name: string) => panel.locator(`[data-list="${name}"] li`)
      await list('sessions').first().waitFor()
      assert.match(await text(list('factors')), /Seeded app · Authenticator app \(TOTP\)\s*Added/)
      assert.match(await text(list('links')), /Corp SSO · alice@corp\.test\s*Linked .*; last used –/)
      assert.match(await text(list('sessions')), /Signed in .* · pwd\s*Applications: spa/)
      assert.ok(!(await page.content()).includes(secret), 'never a factor’s secret')
      const found = await axeViolations(page)
      assert.deepEqual(found, [], `a user’s security shown: ${JSON.stringify(found)}`)
      await screenshot(page, 'identity-user-security-desktop')

      await panel.getByRole('button', { name: 'Reset second factors of alice' }).click()
      assert.match(
        await text(page.getByRole('alertdialog')),
        /Remove every second factor and recovery code of alice\?/,
      )
      await page.getByRole('alertdialog').getByRole('button', { name: 'Reset' }).click()
      await panel.getByRole('status').filter({ hasText: 'alice: 1 second factor removed.' }).waitFor()
      assert.equal(await list('factors').count(), 0)

      await panel.getByRole('button', { name: 'Unlink alice from Corp SSO' }).click()
      await page.getByRole('alertdialog').getByRole('button', { name: 'Unlink' }).click()
      await panel.getByRole('status').filter({ hasText: 'alice: unlinked from Corp SSO.' }).waitFor()
      assert.equal(await list('links').count(), 0)

      await panel.getByRole('button', { name: 'Sign out everywhere (alice)' }).click()
      await page.getByRole('alertdialog').getByRole('button', { name: 'Sign out everywhere' }).click()
      await panel
        .getByRole('status')
        .filter({ hasText: /alice: signed out everywhere \(1 session ended\)/ })
        .waitFor()
      assert.equal(await list('sessions').count(), 0)
      assert.match(await text(panel), /Not signed in anywhere/)
      assert.deepEqual(await axeViolations(page), [], 'after the changes')

      // The admin API agrees.
      const read = async (what: string) =>
        ((await (await gw.gh.admin(`/identity/users/alice/${what}`)).json()) as { data: unknown[] }).data
      assert.deepEqual([await read('factors'), await read('links'), await read('sessions')], [[], [], []])
      await gw.gh.waitForLog(
        (l) => l.action === 'user.link_removed' && (l.actor as { via: string }).via === 'admin-api',
      )
      assert.deepEqual(await cspViolations(page), [])
      assert.deepEqual(problems.errors, [])
    } finally {
      await context.close()
    }
  })

  it('has no serious accessibility violation on a phone either, and fits it', async () => {
    const context = await openContext(chromium, 'phone')
    try {
      const page = await context.newPage()
      await openPage(page, gw.gh, null, 'identity')
      await page.locator('#revocations-table').waitFor()
      await page.locator('#users-table').waitFor()
      assert.deepEqual(await axeViolations(page), [], 'identity on a phone')
      const width = await page.evaluate<number>('document.documentElement.scrollWidth')
      assert.ok(width <= SIZES.phone.width, `fits a phone (${width} px wide)`)
      await screenshot(page, 'identity-phone')
    } finally {
      await context.close()
    }
  })
})

describe('the Identity page with the identity provider off', { skip: NO_CHROMIUM }, () => {
  let gh: GatehouseProcess
  let chromium: Chromium
  before(async () => {
    ;[gh, chromium] = await Promise.all([
      startGatehouse({ config: { _format_version: '3.0' } }),
      launchBrowser(),
    ])
  })
  after(async () => {
    await chromium?.close()
    await gh?.stop()
  })

  it('says so, naming identity.enabled, and still shows the internal-token keys and revocations', async () => {
    const context = await openContext(chromium, 'desktop')
    try {
      const page = await context.newPage()
      await openPage(page, gh, null, 'identity')
      await page.locator('#identity-off').waitFor()
      assert.match(await text(page.locator('#identity-off')), /identity\.enabled: true/)
      await page.locator('#internal-keys-table tbody tr').first().waitFor()
      await page.locator('#revocations-table').waitFor()
      assert.equal(await page.locator('#users-table, #clients-table, #idp-keys-table').count(), 0)
      assert.deepEqual(await axeViolations(page), [], 'identity off')
      await screenshot(page, 'identity-off-desktop')
    } finally {
      await context.close()
    }
  })
})
