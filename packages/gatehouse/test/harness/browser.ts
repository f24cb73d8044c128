/**
 * A real browser for page tests: Debian's Chromium driven by playwright-core (no downloaded browser).
 * Headless, sandbox off (tests run as root in CI), background networking off (the machine has no
 * network; Chromium would otherwise keep trying). Playwright gives each launch a fresh temporary profile.
 */
import { type Browser, chromium } from 'playwright-core'

export const CHROMIUM = process.env.GATEHOUSE_TEST_CHROMIUM ?? '/usr/bin/chromium'

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
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
}
