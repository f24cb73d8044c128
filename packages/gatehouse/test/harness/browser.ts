/**
 * A real browser for page tests: Debian's Chromium driven by playwright-core (no downloaded browser).
 * Headless, sandbox off (tests run as root in CI), background networking off (the machine has no
 * network; Chromium would otherwise keep trying). Playwright gives each launch a fresh temporary profile.
 * Each browser is registered while it launches (resources.ts): a test that fails before it has the
 * browser in hand still has it closed.
 */
import { type Browser, chromium } from 'playwright-core'
import { registerStarting } from './resources.ts'

export const CHROMIUM = process.env.GATEHOUSE_TEST_CHROMIUM ?? '/usr/bin/chromium'

export function launchBrowser(): Promise<Browser> {
  const launching = chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  })
  return registerStarting('chromium', launching, (browser) => browser.close())
}
