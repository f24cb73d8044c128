/**
 * Shared by the browser tests of the Identity and "Why was this refused?" pages: a context that records
 * CSP violations, axe-core's serious and critical findings, a CSP-safe poll, screenshots to
 * test-results/console/, and signing in. (The same helpers as browser.test.ts, which keeps its own.)
 */
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core'
import { CHROMIUM } from '../harness/browser.ts'
import type { GatehouseProcess } from '../harness/gatehouse.ts'

export const NO_CHROMIUM = existsSync(CHROMIUM)
  ? false
  : `no Chromium at ${CHROMIUM} (CI installs Debian's chromium; GATEHOUSE_TEST_CHROMIUM names another)`

const SCREENSHOTS = fileURLToPath(new URL('../../../../test-results/console/', import.meta.url))
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8')

export const SIZES = {
  desktop: { width: 1280, height: 860 },
  phone: { width: 390, height: 844 },
} as const

export async function openContext(browser: Browser, size: keyof typeof SIZES): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport: SIZES[size], deviceScaleFactor: 1 })
  await context.addInitScript({
    content: `window.__cspViolations = []
      document.addEventListener('securitypolicyviolation', (e) =>
        window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI))`,
  })
  return context
}

/** Uncaught page errors and CSP violations seen so far. */
export function watch(page: Page): { errors: string[] } {
  const problems = { errors: [] as string[] }
  page.on('pageerror', (err) => problems.errors.push(err.message))
  return problems
}

export async function cspViolations(page: Page): Promise<string[]> {
  return page.evaluate<string[]>('window.__cspViolations')
}

/** axe-core's serious and critical violations on the page as it is now (WCAG 2.x A and AA rules). */
export async function axeViolations(page: Page): Promise<string[]> {
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

/** Polls `check` every 100 ms (not waitForFunction: its eval() is refused by the console's CSP). */
export async function until(check: () => Promise<boolean>, timeout: number, what = ''): Promise<void> {
  const deadline = Date.now() + timeout
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`not within ${timeout} ms ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

export async function text(locator: Locator): Promise<string> {
  return ((await locator.textContent()) ?? '').trim()
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true })
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true })
}

/** Signs in with `token` (none on loopback without one) and opens the page `#/<id>`, waiting for its heading. */
export async function openPage(
  page: Page,
  gh: GatehouseProcess,
  token: string | null,
  id: string,
): Promise<void> {
  await page.goto(`${gh.adminUrl}/console/`)
  if (token !== null) {
    await page.getByLabel('Admin token').fill(token)
    await page.getByRole('button', { name: 'Sign in' }).click()
  }
  await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor()
  await page.goto(`${gh.adminUrl}/console/#/${id}`)
  await page.locator('#page-title').waitFor()
}
