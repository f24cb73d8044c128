/**
 * What the shop's tests share: the whole shop started for real (lib/shop.ts, every process on 127.0.0.1
 * with ports chosen by the system, so a shop on 8000 or another test run is no obstacle), Debian's
 * Chromium driven by playwright-core, and the sign-in through the identity provider's real login page.
 * The shop, its processes and the browsers are registered with the gateway's test harness the moment
 * they exist (resources.ts), so a `before` that fails halfway leaves nothing running.
 */
import { existsSync, mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { CHROMIUM } from '../../packages/gatehouse/test/harness/browser.ts'
import { registerStarting, spawnTracked } from '../../packages/gatehouse/test/harness/resources.ts'
import { type Account, type Shop, startShop } from './lib/shop.ts'

export { CHROMIUM, launchBrowser } from '../../packages/gatehouse/test/harness/browser.ts'
export const NO_CHROMIUM = existsSync(CHROMIUM)
  ? false
  : `no Chromium at ${CHROMIUM} (CI installs Debian's chromium; GATEHOUSE_TEST_CHROMIUM names another)`

/** The shop on loopback, port 0 everywhere (the admin API too). */
export function startTestShop(): Promise<Shop> {
  const starting = startShop({
    proxyListen: '127.0.0.1:0',
    env: { ...process.env, GATEHOUSE_ADMIN_LISTEN: '127.0.0.1:0', GATEHOUSE_LOG_LEVEL: 'info' },
    spawn: spawnTracked,
  })
  return registerStarting('shop', starting, (shop) => shop.stop())
}

/** Where screenshots go: $GATEHOUSE_TEST_SCREENSHOTS, else a folder in the temp dir (kept, for humans). */
export function screenshotDir(): string {
  const dir = process.env.GATEHOUSE_TEST_SCREENSHOTS ?? join(tmpdir(), 'gatehouse-shop-screenshots')
  mkdirSync(dir, { recursive: true })
  return dir
}

/** A fresh browser profile (its own cookies) with one tab; page errors are collected in `problems`. */
export async function openTab(
  browser: Browser,
): Promise<{ context: BrowserContext; page: Page; problems: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
  const page = await context.newPage()
  const problems: string[] = []
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`))
  page.on('console', (m) => {
    // A 401 from the API is an answer the page handles, not a problem.
    if (m.type() === 'error' && !/status of 401/.test(m.text())) problems.push(`console: ${m.text()}`)
  })
  return { context, page, problems }
}

/** Waits until the page's script has rendered the current view. */
export async function rendered(page: Page): Promise<void> {
  await page.waitForSelector('body[data-ready="true"]')
}

/**
 * Signs in from the store: "Log in" → the provider's login page → back on the page it started from,
 * signed in.
 */
export async function logIn(page: Page, account: Account): Promise<void> {
  await page.locator('#login').click()
  await page.getByLabel('Username or e-mail', { exact: true }).fill(account.username)
  await page.getByLabel('Password', { exact: true }).fill(account.password)
  await page.getByRole('button', { name: 'Sign in', exact: true }).click()
  await page.locator('#logout').waitFor()
  await rendered(page)
}

/**
 * Signs in over plain HTTP, as a browser would but without one: /login, the provider's login form,
 * back to /callback. Returns a cookie jar whose `fetch` sends the session cookie (and keeps any new one).
 */
export async function signInOverHttp(shop: Shop, account: Account): Promise<CookieJar> {
  const jar = new CookieJar()
  let res = await jar.fetch(`${shop.base}/login`)
  for (let hops = 0; hops < 10 && res.status >= 300 && res.status < 400; hops++)
    res = await jar.fetch(new URL(res.headers.get('location')!, res.url).href)
  const html = await res.text()
  const action = /<form\b[^>]*\baction="([^"]*\/login)"/.exec(html)?.[1]
  if (action === undefined) throw new Error(`no login form in:\n${html}`)
  const fields = new URLSearchParams({ username: account.username, password: account.password })
  for (const m of html.matchAll(/<input\b[^>]*type="hidden"[^>]*>/g)) {
    const name = /\bname="([^"]*)"/.exec(m[0])?.[1]
    if (name !== undefined) fields.set(name, /\bvalue="([^"]*)"/.exec(m[0])?.[1] ?? '')
  }
  res = await jar.fetch(new URL(action.replaceAll('&amp;', '&'), res.url).href, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: fields.toString(),
  })
  for (let hops = 0; hops < 10 && res.status >= 300 && res.status < 400; hops++) {
    const next = new URL(res.headers.get('location')!, res.url)
    res = await jar.fetch(next.href)
    if (next.pathname === '/callback') break
  }
  if (!jar.has('gh_session')) throw new Error(`no session after signing in (status ${res.status})`)
  return jar
}

/** Cookies by name and path, sent where their path applies (the provider scopes its cookies by path). */
export class CookieJar {
  readonly #cookies = new Map<string, { name: string; value: string; path: string }>()

  has(name: string): boolean {
    return [...this.#cookies.values()].some((c) => c.name === name)
  }

  async fetch(url: string, init: RequestInit = {}): Promise<Response> {
    const { pathname } = new URL(url)
    const cookie = [...this.#cookies.values()]
      .filter((c) => pathname === c.path || pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`))
      .map((c) => `${c.name}=${c.value}`)
      .join('; ')
    const headers = new Headers(init.headers)
    if (cookie !== '') headers.set('cookie', cookie)
    const res = await fetch(url, { ...init, headers, redirect: 'manual' })
    for (const line of res.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';').map((p) => p.trim())
      const eq = pair.indexOf('=')
      const name = pair.slice(0, eq)
      const value = pair.slice(eq + 1)
      const path = attributes.find((a) => /^path=/i.test(a))?.slice(5) ?? '/'
      const key = `${name}\0${path}`
      if (value === '' || attributes.some((a) => /^max-age=0$/i.test(a))) this.#cookies.delete(key)
      else this.#cookies.set(key, { name, value, path })
    }
    return res
  }
}
