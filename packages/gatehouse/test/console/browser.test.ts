/**
 * The admin console in a real Chromium against a real gateway and upstream (issue 12): signing in with
 * the admin token (a wrong one refused with its message, the token kept in sessionStorage and never in a
 * cookie, signing out forgets it); the Overview's version and configuration hash; the live charts moving
 * while a bounded load runs through the proxy (asserted on the numbers the charts were given, not on
 * time); a page on another origin can neither read the stream nor frame or drive the console; no CSP
 * violation and no script error anywhere; axe-core finds no serious or critical violation on any page, on
 * a desktop and a phone; the keyboard reaches everything with a visible focus; on loopback without a token
 * the console opens at once. Screenshots of every page, desktop and phone, go to test-results/console/.
 */
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core'
import pkg from '../../package.json' with { type: 'json' }
import { CHROMIUM, launchBrowser } from '../harness/browser.ts'
import { type GatehouseProcess, startGatehouse } from '../harness/gatehouse.ts'
import { startUpstream, type Upstream } from '../harness/upstream.ts'
import { load, TOKEN } from './support.ts'

const NO_CHROMIUM = existsSync(CHROMIUM)
  ? false
  : `no Chromium at ${CHROMIUM} (CI installs Debian's chromium; GATEHOUSE_TEST_CHROMIUM names another)`

/** Where the screenshots go (gitignored). */
export const SCREENSHOTS = fileURLToPath(new URL('../../../../test-results/console/', import.meta.url))
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8')

const SIZES = {
  desktop: { width: 1280, height: 860 },
  phone: { width: 390, height: 844 },
} as const
const PAGES = ['overview', 'entities', 'upstreams', 'identity', 'refused'] as const

const config = (upstream: Upstream, admin: object) => ({
  _format_version: '3.0',
  admin,
  services: [
    {
      name: 'shop',
      url: upstream.url,
      routes: [
        { name: 'orders', paths: ['/orders'], strip_path: false },
        { name: 'missing', paths: ['/missing'], strip_path: false },
      ],
    },
  ],
})

/** What went wrong in a page: CSP violations (reported by the page itself) and uncaught errors. */
interface Problems {
  readonly violations: string[]
  readonly errors: string[]
}

async function openContext(browser: Browser, size: keyof typeof SIZES): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport: SIZES[size], deviceScaleFactor: 1 })
  // In-page code is text here: the tests are type-checked without the DOM's types.
  await context.addInitScript({
    content: `window.__cspViolations = []
      document.addEventListener('securitypolicyviolation', (e) =>
        window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI))`,
  })
  return context
}

function watch(page: Page): Problems {
  const problems: Problems = { violations: [], errors: [] }
  page.on('pageerror', (err) => problems.errors.push(err.message))
  page.on('console', (msg) => {
    if (msg.type() === 'error' && /Content Security Policy/i.test(msg.text()))
      problems.violations.push(msg.text())
  })
  return problems
}

async function cspViolations(page: Page): Promise<string[]> {
  return page.evaluate<string[]>('window.__cspViolations')
}

/** axe-core's serious and critical violations on the page as it is now (WCAG 2.x A and AA rules). */
async function axeViolations(page: Page): Promise<string[]> {
  // Evaluated through the DevTools protocol, which the page's CSP does not govern (a <script> would be).
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

/**
 * Polls `check` (every 100 ms) until it holds, failing after `timeout` ms. Not page.waitForFunction: it
 * evaluates its predicate with eval() in the page, which the console's CSP forbids, as it should.
 */
async function until(check: () => Promise<boolean>, timeout: number): Promise<void> {
  const deadline = Date.now() + timeout
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`not within ${timeout} ms`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

/** A locator's text, trimmed ('' for none). */
async function text(locator: Locator): Promise<string> {
  return ((await locator.textContent()) ?? '').trim()
}

async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true })
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true })
}

async function signIn(page: Page, gh: GatehouseProcess, token: string): Promise<void> {
  await page.goto(`${gh.adminUrl}/console/`)
  await page.getByLabel('Admin token').fill(token)
  await page.getByRole('button', { name: 'Sign in' }).click()
}

describe('the admin console in a browser, with an admin token', { skip: NO_CHROMIUM }, () => {
  let upstream: Upstream
  let gh: GatehouseProcess
  let browser: Browser

  before(async () => {
    ;[upstream, browser] = await Promise.all([
      startUpstream((req, res) => {
        const status = req.url?.startsWith('/missing') ? 404 : 200
        setTimeout(() => res.writeHead(status, { 'content-type': 'text/plain' }).end('x'), 3)
      }),
      launchBrowser(),
    ])
    gh = await startGatehouse({ config: config(upstream, { token: TOKEN }) })
  })
  after(async () => {
    await browser?.close()
    await gh?.stop()
    await upstream?.close()
  })

  it('asks for the token, refuses a wrong one with its message, and keeps the right one for the tab only', async () => {
    const context = await openContext(browser, 'desktop')
    try {
      const page = await context.newPage()
      const problems = watch(page)
      await page.goto(`${gh.adminUrl}/console/`)
      await page.getByLabel('Admin token').waitFor()
      assert.equal(await page.getByLabel('Admin token').getAttribute('type'), 'password')
      assert.deepEqual(await axeViolations(page), [], 'sign-in page')

      await page.getByLabel('Admin token').fill('not-the-admin-token-0000')
      await page.getByRole('button', { name: 'Sign in' }).click()
      const alert = page.getByRole('alert')
      await alert.waitFor()
      assert.match(await text(alert), /refused this token: invalid admin token/)
      assert.equal(await page.getByLabel('Admin token').getAttribute('aria-invalid'), 'true')
      assert.equal(await page.evaluate('sessionStorage.length'), 0, 'a refused token is not kept')
      await screenshot(page, 'sign-in-refused-desktop')

      await page.getByLabel('Admin token').fill(TOKEN)
      await page.getByRole('button', { name: 'Sign in' }).click()
      await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor()
      assert.equal(await page.evaluate("sessionStorage.getItem('gatehouse.admin-token')"), TOKEN)
      assert.equal(await page.evaluate('document.cookie'), '', 'never a cookie')
      assert.deepEqual((await context.cookies()).length, 0)

      // A reload keeps the tab signed in; a new tab (another session) is not.
      await page.reload()
      await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor()
      const other = await context.newPage()
      await other.goto(`${gh.adminUrl}/console/`)
      await other.getByLabel('Admin token').waitFor()
      await other.close()

      await page.getByRole('button', { name: 'Sign out' }).click()
      await page.getByLabel('Admin token').waitFor()
      assert.match(await text(page.getByRole('status').first()), /Signed out/)
      assert.equal(await page.evaluate('sessionStorage.length'), 0, 'signing out forgets the token')
      assert.deepEqual(await cspViolations(page), [])
      assert.deepEqual(problems, { violations: [], errors: [] })
    } finally {
      await context.close()
    }
  })

  it('shows the version and the configuration hash, and the charts move while a bounded load runs', async () => {
    const context = await openContext(browser, 'desktop')
    try {
      const page = await context.newPage()
      const problems = watch(page)
      await signIn(page, gh, TOKEN)
      await page.locator('#node-version').waitFor()
      const status = (await (
        await gh.admin('/status', { headers: { authorization: `Bearer ${TOKEN}` } })
      ).json()) as { configuration_hash: string }
      assert.equal(await text(page.locator('#node-version dd')), pkg.version)
      assert.equal(await text(page.locator('#node-config-hash dd')), status.configuration_hash)
      assert.match(await text(page.locator('#node-status dd')), /Ready/)
      assert.match(await text(page.locator('#node-store dd')), /None/)
      assert.match(await text(page.locator('#node-redis dd')), /Not configured/)
      await page.getByRole('status').filter({ hasText: 'Live' }).waitFor()

      const requests = page.locator('figure[data-chart="requests"]')
      const before = Number(await requests.getAttribute('data-total'))
      const statuses = [
        ...(await load(gh.proxyUrl, '/orders', 40)),
        ...(await load(gh.proxyUrl, '/missing', 10)),
      ]
      assert.equal(statuses.length, 50)
      // The numbers the chart was given: every request of the load, within a few seconds of streaming.
      await until(async () => Number(await requests.getAttribute('data-total')) >= before + 50, 20_000)
      assert.equal(Number(await requests.getAttribute('data-total')), before + 50)
      const row = page.locator('#routes-table tr[data-route="orders"]')
      await row.waitFor()
      assert.equal(await text(row.locator('[data-field="requests"]')), '40')
      assert.match(
        await text(page.locator('figure[data-chart="status"] .chart-summary')),
        /40 2xx, 10 4xx, 0 5xx/,
      )
      assert.match(await text(row.locator('td').nth(6)), /^\d+(\.\d+)? ms$/, 'its p50')
      assert.match(await text(row.locator('td').nth(7)), /^\d+(\.\d+)? ms$/, 'its p99')
      assert.equal(await page.locator('figure[data-chart] canvas').count(), 3, 'three uPlot charts drawn')

      // One route picked: the charts show its numbers only.
      await page.getByLabel('Route', { exact: true }).selectOption({ label: 'missing (service shop)' })
      await until(async () => (await requests.getAttribute('data-total')) === '10', 10_000)
      await page.getByLabel('Route', { exact: true }).selectOption({ index: 0 })
      assert.deepEqual(await axeViolations(page), [], 'overview')
      assert.deepEqual(await cspViolations(page), [])
      assert.deepEqual(problems, { violations: [], errors: [] })
    } finally {
      await context.close()
    }
  })

  it('takes every page on a desktop and a phone: no serious accessibility violation, no CSP violation; screenshots', async () => {
    await load(gh.proxyUrl, '/orders', 20)
    for (const size of ['desktop', 'phone'] as const) {
      const context = await openContext(browser, size)
      try {
        const page = await context.newPage()
        const problems = watch(page)
        await page.goto(`${gh.adminUrl}/console/`)
        await page.getByLabel('Admin token').waitFor()
        assert.deepEqual(await axeViolations(page), [], `sign-in on a ${size}`)
        await screenshot(page, `sign-in-${size}`)
        await signIn(page, gh, TOKEN)
        for (const id of PAGES) {
          await page.goto(`${gh.adminUrl}/console/#/${id}`)
          await page.locator('#page-title').waitFor()
          if (id === 'overview') {
            await page.locator('#node-version').waitFor()
            await page.getByRole('status').filter({ hasText: 'Live' }).waitFor()
          }
          assert.equal(
            await page.locator(`nav[aria-label="Console pages"] a[aria-current="page"]`).getAttribute('href'),
            `#/${id}`,
          )
          assert.deepEqual(await axeViolations(page), [], `${id} on a ${size}`)
          const width = await page.evaluate<number>('document.documentElement.scrollWidth')
          assert.ok(width <= SIZES[size].width, `${id} fits a ${size} (${width} px wide)`)
          await screenshot(page, `${id}-${size}`)
        }
        assert.deepEqual(await cspViolations(page), [])
        assert.deepEqual(problems, { violations: [], errors: [] })
      } finally {
        await context.close()
      }
    }
  })

  it('is usable with the keyboard alone, with a visible focus', async () => {
    const context = await openContext(browser, 'desktop')
    try {
      const page = await context.newPage()
      await signIn(page, gh, TOKEN)
      await page.locator('#node-version').waitFor()
      await page.keyboard.press('Tab')
      assert.equal(
        await page.evaluate<string | null>('document.activeElement?.textContent ?? null'),
        'Skip to content',
      )
      const focusStyle = () =>
        page.evaluate<string>(
          '(() => { const s = getComputedStyle(document.activeElement); return s.outlineStyle + " " + s.outlineWidth })()',
        )
      assert.equal(await focusStyle(), 'solid 3px')
      // Past the sign-out button to the navigation; Enter on "Entities" opens it and focuses its heading.
      const focused: string[] = []
      for (let i = 0; i < 6; i++) {
        await page.keyboard.press('Tab')
        focused.push(
          (await page.evaluate<string | null>('document.activeElement?.textContent ?? null')) ?? '',
        )
        if (focused.at(-1)!.startsWith('Entities')) break
      }
      assert.ok(focused.at(-1)!.startsWith('Entities'), `reached: ${focused.join(' | ')}`)
      assert.equal(await focusStyle(), 'solid 3px')
      await page.keyboard.press('Enter')
      await until(async () => (await page.evaluate('document.activeElement?.id')) === 'page-title', 5000)
      assert.equal(await text(page.locator('#page-title')), 'Entities')
      assert.equal(await page.title(), 'Entities · Gatehouse console')
    } finally {
      await context.close()
    }
  })

  it('cannot be read, framed or driven by a page on another origin', async () => {
    let script = ''
    const attacker = await startUpstream((_req, res) => {
      const html = `<!doctype html><title></title><body><script>const ADMIN = ${JSON.stringify(gh.adminUrl)};\n${script}</script></body>`
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html)
    })
    const context = await browser.newContext()
    try {
      const page = await context.newPage()
      const visit = async (code: string) => {
        script = code
        await page.goto(`http://localhost:${attacker.port}/`)
        await page.waitForFunction('document.title !== ""', undefined, { timeout: 10_000 })
        return page.title()
      }
      // Reading the stream, even knowing the token: the preflight is refused, so fetch fails.
      assert.match(
        await visit(`
          fetch(ADMIN + '/stats/stream', { headers: { authorization: 'Bearer ${TOKEN}' } })
            .then((r) => { document.title = 'read ' + r.status }, (e) => { document.title = 'failed: ' + e.name })`),
        /^failed: TypeError$/,
      )
      assert.match(
        await visit(`
          fetch(ADMIN + '/console/').then((r) => r.text())
            .then((t) => { document.title = 'read ' + t.length }, (e) => { document.title = 'failed: ' + e.name })`),
        /^failed: TypeError$/,
      )
      // Framing the console (to click through it): the admin listener refuses the cross-site load.
      const framed = page.waitForResponse((r) => r.url().startsWith(`${gh.adminUrl}/console/`))
      await visit(`
        const frame = document.createElement('iframe')
        frame.src = ADMIN + '/console/'
        document.body.append(frame)
        document.title = 'framed'`)
      const answer = await framed
      assert.equal(answer.status(), 403)
      assert.equal(answer.headers()['x-frame-options'], undefined, 'refused before the console answered')
      assert.equal(answer.headers()['x-gatehouse-error'], 'GH_ERR_ADMIN_CROSS_SITE')
    } finally {
      await context.close()
      await attacker.close()
    }
  })
})

describe('the admin console on loopback without a token', { skip: NO_CHROMIUM }, () => {
  let upstream: Upstream
  let gh: GatehouseProcess
  let browser: Browser

  before(async () => {
    ;[upstream, browser] = await Promise.all([startUpstream(), launchBrowser()])
    gh = await startGatehouse({ config: config(upstream, {}) })
  })
  after(async () => {
    await browser?.close()
    await gh?.stop()
    await upstream?.close()
  })

  it('opens the Overview at once, with nothing to sign out of', async () => {
    const context = await openContext(browser, 'desktop')
    try {
      const page = await context.newPage()
      await page.goto(`${gh.adminUrl}/console`)
      assert.equal(page.url(), `${gh.adminUrl}/console/`, 'redirected to the folder')
      await page.locator('#node-version').waitFor()
      assert.equal(await page.getByLabel('Admin token').count(), 0)
      assert.equal(await page.getByRole('button', { name: 'Sign out' }).count(), 0)
      assert.match(await text(page.locator('header')), /No admin token needed/)
    } finally {
      await context.close()
    }
  })
})
