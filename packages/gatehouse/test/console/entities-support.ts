/**
 * Browser helpers for the console's page tests (entities.test.ts): signing in, axe-core's serious and
 * critical findings, screenshots to test-results/console/, polling without eval (the console's CSP).
 * browser.test.ts keeps its own copies; they can move here when both are merged.
 */
import assert from 'node:assert/strict'
import { mkdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Page } from 'playwright-core'

export const SCREENSHOTS = fileURLToPath(new URL('../../../../test-results/console/', import.meta.url))
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8')

export const SIZES = {
  desktop: { width: 1280, height: 860 },
  phone: { width: 390, height: 844 },
} as const

export async function signIn(page: Page, adminUrl: string, token: string): Promise<void> {
  await page.goto(`${adminUrl}/console/`)
  await page.getByLabel('Admin token').fill(token)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor()
}

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

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true })
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true })
}

/** Polls `check` every 100 ms until it holds; fails after `timeout` ms. */
export async function until(check: () => Promise<boolean>, timeout: number): Promise<void> {
  const deadline = Date.now() + timeout
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`not within ${timeout} ms`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}
