/**
 * The self-service pages (issue 14) through the real process and Chromium: the account page (sign-in
 * through its own client, profile, password change, sessions, sign out everywhere), password reset and
 * registration by e-mail with a real SMTP receiver (smtp-server) started here, CSRF refusals, and axe
 * on every page. Users are added through the admin API (the file's users are read-only on the page).
 * Every change is read back from the audit trail (`GET /identity/audit`): the person as the actor, through
 * the page or the link, from the browser's address, and no password, link or personal value in it.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { axeViolations, cspViolations, NO_CHROMIUM, openContext } from '../console/pages-support.ts'
import { launchBrowser } from '../harness/browser.ts'
import { runCli } from '../harness/gatehouse.ts'
import { SmtpReceiver } from '../harness/smtp.ts'
import {
  assertNotRecorded,
  assertSelfService,
  auditOf,
  lastEventId,
  onlyEvent,
  SOME_SESSION,
} from './support/audit.ts'
import { type IdentityGateway, startIdentityGateway, storeOf, WEB_SECRET } from './support/gateway.ts'
import { client, codeFlow, configFor, oauthError } from './support/oidc.ts'

const DAVE = { username: 'dave', email: 'dave@example.test', password: 'dave-password-1234' }

async function addUser(gw: IdentityGateway, user: { username: string; email: string; password: string }) {
  const res = await gw.gh.admin('/identity/users', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...user, claims: { name: 'Dave Example' } }),
  })
  const body = await res.text()
  assert.equal(res.status, 201, body)
  return JSON.parse(body) as { id: string }
}

/** The page's accessibility: no serious or critical axe finding, no CSP violation. */
async function assertClean(page: Page): Promise<void> {
  assert.deepEqual(await axeViolations(page), [], `axe on ${page.url()}`)
  assert.deepEqual(await cspViolations(page), [], `CSP on ${page.url()}`)
}

async function heading(page: Page): Promise<string> {
  return ((await page.locator('h1').textContent()) ?? '').trim()
}

/** From wherever `page` is, signs in on the login page and waits for the account page. */
async function signInOnPage(page: Page, username: string, password: string): Promise<void> {
  assert.equal(await heading(page), 'Sign in')
  await page.getByLabel('Username or e-mail').fill(username)
  await page.getByLabel('Password', { exact: true }).fill(password)
  await Promise.all([
    page.waitForURL(/\/account(\?|$)/),
    page.getByRole('button', { name: 'Sign in', exact: true }).click(),
  ])
}

async function openAccount(context: BrowserContext, gw: IdentityGateway, user = DAVE): Promise<Page> {
  const page = await context.newPage()
  await page.goto(`${gw.issuer}/account`)
  if ((await heading(page)) === 'Sign in') await signInOnPage(page, user.username, user.password)
  assert.equal(await heading(page), 'Your account')
  return page
}

describe('the account page, password reset and registration', { skip: NO_CHROMIUM }, () => {
  let smtp: SmtpReceiver
  let gw: IdentityGateway
  let browser: Browser
  let dave: { id: string }

  before(async () => {
    smtp = await SmtpReceiver.start()
    gw = await startIdentityGateway({
      identity: {
        email: { smtp: { host: '127.0.0.1', port: smtp.port }, from: 'Accounts <accounts@example.test>' },
        registration: { enabled: true },
        password_reset: { enabled: true },
      },
    })
    dave = await addUser(gw, DAVE)
    browser = await launchBrowser()
  })

  after(async () => {
    await browser?.close()
    await gw?.gh.stop()
    await smtp?.close()
  })

  it('sends a signed-out visitor through sign-in (its own client, no consent) to the account page', async () => {
    const context = await openContext(browser, 'phone')
    const page = await context.newPage()
    await page.goto(`${gw.issuer}/account`)
    assert.equal(await heading(page), 'Sign in')
    await assertClean(page)
    await signInOnPage(page, DAVE.username, DAVE.password)
    assert.equal(await heading(page), 'Your account')
    assert.match((await page.locator('main').textContent()) ?? '', /Signed in as dave/)
    await assertClean(page)
    // Keyboard: every control is reachable with Tab, starting with the sign-out link.
    await page.keyboard.press('Tab')
    assert.equal(await page.evaluate('document.activeElement.textContent'), 'Sign out')
    await context.close()
  })

  it('changes the name; a new e-mail address needs the current password and is verified by a mailed link', async () => {
    const context = await openContext(browser, 'desktop')
    const page = await openAccount(context, gw)
    await page.getByLabel('Name', { exact: true }).fill('Dave Renamed')
    await Promise.all([
      page.waitForURL(/done=profile/),
      page.getByRole('button', { name: 'Save profile' }).click(),
    ])
    assert.match((await page.getByRole('status').textContent()) ?? '', /profile was saved/)
    const store = await storeOf(gw.gh)
    try {
      assert.equal((await store.users.get(dave.id))?.claims['name'], 'Dave Renamed')
      const renamed = await onlyEvent(gw.gh, 'dave', 'user.profile_changed')
      assertSelfService(renamed, 'account', SOME_SESSION)
      assert.deepEqual([renamed.target.id, renamed.detail], [dave.id, { fields: 'name' }])

      await page.getByLabel('E-mail', { exact: true }).fill('dave.new@example.test')
      await page.getByRole('button', { name: 'Save profile' }).click()
      await page.waitForLoadState('load')
      assert.match((await page.getByRole('alert').textContent()) ?? '', /current password is not right/)
      assert.equal((await store.users.get(dave.id))?.email, DAVE.email)

      const before = smtp.mails.length
      await page.getByLabel('E-mail', { exact: true }).fill('dave.new@example.test')
      await page.getByLabel('Current password (needed to change your e-mail)').fill(DAVE.password)
      await Promise.all([
        page.waitForURL(/done=profile-verify/),
        page.getByRole('button', { name: 'Save profile' }).click(),
      ])
      const changed = await store.users.get(dave.id)
      assert.equal(changed?.email, 'dave.new@example.test')
      assert.equal(changed?.claims['email_verified'], false)
      // The refused attempt recorded nothing; the address change is one event, from the same session.
      const moved = await onlyEvent(gw.gh, 'dave', 'user.profile_changed', renamed.id)
      assert.deepEqual([moved.actor, moved.detail], [renamed.actor, { fields: 'email' }])
      await smtp.waitFor(before + 1)
      assert.deepEqual(smtp.mails[before]!.to, ['dave.new@example.test'])
      await page.goto(smtp.link(before, `${gw.issuer}/account/verify-email?token=`))
      assert.equal(await heading(page), 'E-mail verified')
      await assertClean(page)
      assert.equal((await store.users.get(dave.id))?.claims['email_verified'], true)
      assertSelfService(await onlyEvent(gw.gh, 'dave', 'user.email_verified'), 'email-verification', null)
      // Names of fields, never their values (personal data the trail would outlive the account with).
      const trail = JSON.stringify(await auditOf(gw.gh, 'dave'))
      assert.ok(!trail.includes('Dave Renamed') && !trail.includes('dave.new@example.test'), trail)
      // Back, so the other tests find the address they expect.
      await store.users.update(dave.id, { email: DAVE.email })
    } finally {
      await store.close()
    }
    await context.close()
  })

  it('refuses a CSRF-less or foreign form, on the account page and the signed-out pages', async () => {
    const context = await openContext(browser, 'desktop')
    const page = await openAccount(context, gw)
    const forged = await context.request.post(`${gw.issuer}/account/profile`, {
      form: { csrf: 'not-the-token', name: 'Mallory' },
      maxRedirects: 0,
    })
    assert.equal(forged.status(), 403)
    const missing = await context.request.post(`${gw.issuer}/account/signout-everywhere`, {
      form: {},
      maxRedirects: 0,
    })
    assert.equal(missing.status(), 403)
    const reset = await fetch(`${gw.issuer}/password-reset`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'identifier=dave',
    })
    assert.equal(reset.status, 403)
    assert.equal(await heading(page), 'Your account')
    await context.close()
  })

  it('changes the password (the wrong current one refused), signing out every other session', async () => {
    const other = await openContext(browser, 'desktop')
    const otherPage = await openAccount(other, gw)
    const context = await openContext(browser, 'desktop')
    const page = await openAccount(context, gw)
    assert.equal((await page.locator('ul.sessions > li').count()) >= 2, true)

    await page.getByLabel('Current password', { exact: true }).fill('not-the-password-1')
    await page.getByLabel('New password', { exact: true }).fill('dave-new-password-5678')
    await page.getByLabel('New password again').fill('dave-new-password-5678')
    await page.getByRole('button', { name: 'Change password' }).click()
    await page.waitForLoadState('load')
    assert.match((await page.getByRole('alert').textContent()) ?? '', /current password is not right/)
    await assertClean(page)

    await page.getByLabel('Current password', { exact: true }).fill(DAVE.password)
    await page.getByLabel('New password', { exact: true }).fill('short')
    await page.getByLabel('New password again').fill('short')
    await page.getByRole('button', { name: 'Change password' }).click()
    await page.waitForLoadState('load')
    assert.match((await page.getByRole('alert').textContent()) ?? '', /fewer than 12 characters/)

    await page.getByLabel('Current password', { exact: true }).fill(DAVE.password)
    await page.getByLabel('New password', { exact: true }).fill('dave-new-password-5678')
    await page.getByLabel('New password again').fill('dave-new-password-5678')
    await Promise.all([
      page.waitForURL(/done=password/),
      page.getByRole('button', { name: 'Change password' }).click(),
    ])
    assert.equal(await page.locator('ul.sessions > li').count(), 1)
    // The other browser is signed out; this one is not.
    await otherPage.goto(`${gw.issuer}/account`)
    assert.equal(await heading(otherPage), 'Sign in')
    await page.goto(`${gw.issuer}/account`)
    assert.equal(await heading(page), 'Your account')
    // Two refusals recorded nothing; the change is the password, then the other sessions it ended.
    const changed = await onlyEvent(gw.gh, 'dave', 'user.password_changed')
    assertSelfService(changed, 'account', SOME_SESSION)
    const ended = await onlyEvent(gw.gh, 'dave', 'user.session_ended')
    assert.ok(ended.id > changed.id)
    assert.deepEqual(ended.actor, changed.actor)
    const { sessions_ended: count, ...detail } = ended.detail
    assert.deepEqual(detail, { session: null, reason: 'password changed by its owner' })
    assert.ok(typeof count === 'number' && count >= 1, JSON.stringify(ended))
    await assertNotRecorded(gw.gh, [DAVE.password, 'dave-new-password-5678', 'not-the-password-1'])
    DAVE.password = 'dave-new-password-5678'
    await other.close()
    await context.close()
  })

  it('lists sessions and signs one out; "sign out everywhere" ends every session and revokes earlier tokens', async () => {
    const store = await storeOf(gw.gh)
    await store.oidc.deleteByAccount(dave.id)
    await store.close()
    // A session in another browser, and tokens a client got through it.
    const web = await configFor(gw.issuer, 'web-app', WEB_SECRET)
    const tokens = await codeFlow(web, DAVE, { scope: 'openid profile offline_access' })
    assert.ok(tokens.refresh_token)
    const second = await openContext(browser, 'desktop')
    const secondPage = await openAccount(second, gw)
    const context = await openContext(browser, 'desktop')
    const page = await openAccount(context, gw)
    assert.equal(await page.locator('ul.sessions > li').count(), 3)
    const list = (await page.locator('ul.sessions').textContent()) ?? ''
    assert.match(list, /Applications: web-app/)
    assert.match(list, /Last used from 127\.0\.0\.1, Chrome on Linux/)
    await assertClean(page)

    // Sign out the second browser's session (the newest one before this one).
    const uids = async () => {
      const res = await gw.gh.admin('/identity/users/dave/sessions')
      return ((await res.json()) as { data: { uid: string }[] }).data.map((s) => s.uid)
    }
    const before = await uids()
    const mark = await lastEventId(gw.gh)
    const buttons = page.getByRole('button', { name: /^Sign out the session/ })
    assert.equal(await buttons.count(), 2)
    await Promise.all([page.waitForURL(/done=session/), buttons.nth(1).click()])
    assert.equal(await page.locator('ul.sessions > li').count(), 2)
    const left = await uids()
    const gone = before.filter((uid) => !left.includes(uid))
    assert.equal(gone.length, 1)
    const one = await onlyEvent(gw.gh, 'dave', 'user.session_ended', mark)
    assertSelfService(one, 'account', SOME_SESSION)
    assert.ok(left.includes(one.actor['session'] as string), 'the acting session is one still there')
    assert.deepEqual(one.detail, {
      session: gone[0],
      sessions_ended: 1,
      reason: 'signed out from the account page',
    })
    await secondPage.goto(`${gw.issuer}/account`)
    assert.equal(await heading(secondPage), 'Sign in')

    await page.getByRole('button', { name: 'Sign out everywhere' }).click()
    await page.waitForLoadState('load')
    assert.equal(await heading(page), 'Signed out everywhere')
    await assertClean(page)
    assert.equal(
      (await oauthError(client.refreshTokenGrant(web, tokens.refresh_token!))).error,
      'invalid_grant',
    )
    await assert.rejects(client.fetchUserInfo(web, tokens.access_token, client.skipSubjectCheck))
    await page.goto(`${gw.issuer}/account`)
    assert.equal(await heading(page), 'Sign in')
    // One line per event: the audit line.
    const line = await gw.gh.waitForLog((l) => l.type === 'audit' && l.action === 'user.signed_out')
    assert.equal(line.msg, 'account signed out everywhere')
    assert.equal((line['target'] as { id: string }).id, dave.id)
    const everywhere = await onlyEvent(gw.gh, 'dave', 'user.signed_out')
    assert.deepEqual(everywhere.actor, one.actor)
    assert.deepEqual(
      [everywhere.detail['sessions_ended'], everywhere.detail['reason']],
      [2, 'signed out everywhere by its owner'],
    )
    // The command line's table says who: the person, on the account page, from where.
    const table = await runCli(['audit', 'list', '--user', 'dave', '--config', gw.gh.configFile])
    assert.equal(table.code, 0, table.stderr)
    assert.match(
      table.stdout,
      /\buser\.signed_out +self-service account 127\.0\.0\.1 +user dave +sessions_ended=2 /,
    )
    await second.close()
    await context.close()
  })

  it('resets a password by e-mail: one answer for every address, a link that works once', async () => {
    const context = await openContext(browser, 'phone')
    const page = await context.newPage()
    await page.goto(`${gw.issuer}/account`)
    // A wrong password first: the reset clears the failed sign-ins, and says so in the trail.
    await page.getByLabel('Username or e-mail').fill(DAVE.username)
    await page.getByLabel('Password', { exact: true }).fill('not-daves-password-0')
    await page.getByRole('button', { name: 'Sign in', exact: true }).click()
    await page.waitForLoadState('load')
    assert.equal(await heading(page), 'Sign in')
    const mark = await lastEventId(gw.gh)
    await Promise.all([
      page.waitForURL(/password-reset$/),
      page.getByRole('link', { name: 'Forgot password?' }).click(),
    ])
    assert.equal(await heading(page), 'Reset your password')
    await assertClean(page)

    // An unknown address: the same answer, and no mail.
    const before = smtp.mails.length
    await page.getByLabel('Username or e-mail').fill('nobody@example.test')
    await page.getByRole('button', { name: 'Send the link' }).click()
    await page.waitForLoadState('load')
    const unknownAnswer = (await page.getByRole('status').textContent()) ?? ''
    await assertClean(page)
    await gw.gh.waitForLog((l) => l.msg === 'password reset link not sent' && l['reason'] === 'unknown_user')
    assert.equal(smtp.mails.length, before)

    await page.goto(`${gw.issuer}/password-reset`)
    await page.getByLabel('Username or e-mail').fill(DAVE.email)
    await page.getByRole('button', { name: 'Send the link' }).click()
    await page.waitForLoadState('load')
    assert.equal((await page.getByRole('status').textContent()) ?? '', unknownAnswer)
    await smtp.waitFor(before + 1)
    assert.deepEqual(smtp.mails[before]!.to, [DAVE.email])
    const link = smtp.link(before, `${gw.issuer}/password-reset/confirm?token=`)
    assert.ok(!gw.gh.stdout.includes(link.split('token=')[1]!), 'the link is never logged')

    await page.goto(link)
    assert.equal(await heading(page), 'Set a new password')
    await assertClean(page)
    await page.getByLabel('New password', { exact: true }).fill('dave-reset-password-9012')
    await page.getByLabel('New password again').fill('dave-reset-password-9012')
    // The same form submitted twice at the same moment (two tabs, a double click through a slow network):
    // exactly one sets the password, the other finds the link used.
    const form = page.locator('form', { has: page.getByRole('button', { name: 'Set the password' }) })
    const action = new URL((await form.getAttribute('action')) ?? '', page.url()).href
    // Run in the page (the tests' TypeScript has no DOM types): the fields as the browser would post them.
    const fields = await form.evaluate((f) => {
      const { FormData } = globalThis as unknown as {
        FormData: new (form: unknown) => Iterable<[string, unknown]>
      }
      return Object.fromEntries([...new FormData(f)].map(([k, v]) => [k, String(v)]))
    })
    const twice = await Promise.all(
      [1, 2].map(() =>
        context.request.post(action, {
          data: new URLSearchParams(fields).toString(),
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
        }),
      ),
    )
    assert.deepEqual(twice.map((res) => res.status()).sort(), [200, 400])
    const answers = await Promise.all(twice.map((res) => res.text()))
    assert.equal(answers.filter((text) => text.includes('Password changed')).length, 1)
    assert.equal(answers.filter((text) => text.includes('Link expired')).length, 1)
    // What the reset changed, once, by whoever held the link: the password, every session, the lock.
    const reset = (await auditOf(gw.gh, 'dave')).filter((e) => e.id > mark).reverse()
    assert.deepEqual(
      reset.map((e) => e.action),
      ['user.password_changed', 'user.signed_out', 'user.unlocked'],
    )
    for (const e of reset) assertSelfService(e, 'password-reset', null)
    assert.equal(reset[1]!.detail['reason'], 'password reset by e-mail')
    await assertNotRecorded(gw.gh, ['dave-reset-password-9012', link.split('token=')[1]!])
    DAVE.password = 'dave-reset-password-9012'

    // Used once: it is bound to the old password hash.
    await page.goto(link)
    assert.equal(await heading(page), 'Link expired')
    const reused = await context.request.get(link)
    assert.equal(reused.status(), 400)
    // And the new password signs in, from the next second on: the reset revoked every token of the account
    // issued up to its own second (`iat` counts whole seconds), which a person never signs in within.
    await sleep(1000 - (Date.now() % 1000) + 50)
    await page.goto(`${gw.issuer}/account`)
    await signInOnPage(page, DAVE.username, DAVE.password)
    assert.equal(await heading(page), 'Your account')
    await context.close()
  })

  it('registers an account that exists only once the mailed link is used', async () => {
    const context = await openContext(browser, 'desktop')
    const page = await context.newPage()
    await page.goto(`${gw.issuer}/account`)
    await page.getByRole('link', { name: 'Create an account' }).click()
    await page.waitForLoadState('load')
    assert.equal(await heading(page), 'Create an account')
    await assertClean(page)

    // A taken username is said (the person must choose another); a taken address is not.
    await page.getByLabel('E-mail', { exact: true }).fill('erin@example.test')
    await page.getByLabel('Username').fill('dave')
    await page.getByLabel('Password', { exact: true }).fill('erin-password-3456')
    await page.getByLabel('Password again').fill('erin-password-3456')
    await page.getByRole('button', { name: 'Create the account' }).click()
    await page.waitForLoadState('load')
    assert.match((await page.getByRole('alert').textContent()) ?? '', /username is not available/)
    await assertClean(page)

    const before = smtp.mails.length
    await page.getByLabel('Username').fill('erin')
    await page.getByLabel('Password', { exact: true }).fill('erin-password-3456')
    await page.getByLabel('Password again').fill('erin-password-3456')
    await page.getByRole('button', { name: 'Create the account' }).click()
    await page.waitForLoadState('load')
    assert.equal(await heading(page), 'Check your e-mail')
    const store = await storeOf(gw.gh)
    try {
      await smtp.waitFor(before + 1)
      assert.equal(
        await store.users.findByUsername('erin'),
        undefined,
        'nothing exists before the link is used',
      )
      const link = smtp.link(before, `${gw.issuer}/register/verify?token=`)
      await page.goto(link)
      assert.equal(await heading(page), 'Create your account')
      await assertClean(page)
      await page.getByRole('button', { name: 'Create my account' }).click()
      await page.waitForLoadState('load')
      assert.equal(await heading(page), 'Account created')
      const erin = await store.users.findByUsername('erin')
      assert.equal(erin?.email, 'erin@example.test')
      assert.equal(erin?.claims['email_verified'], true)
      assert.equal(erin?.disabled, false)
      const added = await onlyEvent(gw.gh, 'erin', 'user.added')
      assertSelfService(added, 'registration', null)
      assert.deepEqual(
        [added.target, added.detail],
        [
          { type: 'user', id: erin!.id, name: 'erin' },
          { roles: '', disabled: false },
        ],
      )
      await assertNotRecorded(gw.gh, ['erin-password-3456', link.split('token=')[1]!])
      // Once only.
      await page.goto(link)
      await page.getByRole('button', { name: 'Create my account' }).click()
      await page.waitForLoadState('load')
      assert.equal(await heading(page), 'Link expired')

      // Registering a taken address: the same answer, and its owner is told instead.
      const owner = smtp.mails.length
      await page.goto(`${gw.issuer}/register`)
      await page.getByLabel('E-mail', { exact: true }).fill(DAVE.email)
      await page.getByLabel('Username').fill('dave2')
      await page.getByLabel('Password', { exact: true }).fill('dave2-password-3456')
      await page.getByLabel('Password again').fill('dave2-password-3456')
      await page.getByRole('button', { name: 'Create the account' }).click()
      await page.waitForLoadState('load')
      assert.equal(await heading(page), 'Check your e-mail')
      await smtp.waitFor(owner + 1)
      assert.match(smtp.mails[owner]!.raw, /already has one/)
      assert.equal(await store.users.findByUsername('dave2'), undefined)
    } finally {
      await store.close()
    }
    await page.goto(`${gw.issuer}/account`)
    await signInOnPage(page, 'erin', 'erin-password-3456')
    assert.equal(await heading(page), 'Your account')
    await context.close()
  })
})

describe('without mail', () => {
  it('has no reset or registration pages and no links to them', async () => {
    const gw = await startIdentityGateway()
    try {
      for (const path of ['/password-reset', '/register'])
        assert.equal((await fetch(`${gw.issuer}${path}`)).status, 404, path)
    } finally {
      await gw.gh.stop()
    }
  })
})
