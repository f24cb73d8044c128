/**
 * The session tests' browser: identity/support/browser.ts drives the provider's pages (its cookie jar
 * holds the provider's cookies too); a second, small jar keeps the gateway's own cookies (Path=/) from
 * every response seen, so API calls can be made with any method and headers, and a test can read, copy or
 * tamper with the session cookie as an attacker would.
 */
import assert from 'node:assert/strict'
import { Browser, formTo } from '../identity/support/browser.ts'

export interface SetCookie {
  readonly name: string
  readonly value: string
  readonly attributes: readonly string[]
}

export function parseSetCookie(line: string): SetCookie {
  const [pair, ...attributes] = line.split(';').map((p) => p.trim())
  const eq = pair!.indexOf('=')
  return { name: pair!.slice(0, eq), value: pair!.slice(eq + 1), attributes }
}

export function setCookies(res: Response): SetCookie[] {
  return res.headers.getSetCookie().map(parseSetCookie)
}

/** The gateway's cookies by name (what the browser would send to any path). */
export class Jar {
  readonly cookies = new Map<string, string>()

  take(res: Response): Response {
    for (const c of setCookies(res)) {
      const path = c.attributes.find((a) => a.toLowerCase().startsWith('path='))?.slice(5) ?? '/'
      if (path !== '/') continue
      const cleared = c.value === '' || c.attributes.some((a) => a.toLowerCase() === 'max-age=0')
      if (cleared) this.cookies.delete(c.name)
      else this.cookies.set(c.name, c.value)
    }
    return res
  }

  header(extra: Record<string, string> = {}): string {
    return [...this.cookies, ...Object.entries(extra)].map(([k, v]) => `${k}=${v}`).join('; ')
  }
}

export interface Credentials {
  readonly username: string
  readonly password: string
}

export interface SignedIn {
  /** The gateway's answer to the provider's redirect to the callback (not followed). */
  readonly callback: Response
  /** Titles of the provider pages shown on the way. */
  readonly pages: string[]
}

/**
 * Starts a sign-in at `loginUrl`, goes through the provider's login (and consent) pages, and stops at the
 * gateway's answer to the callback. The provider and the gateway share an origin here, so it follows
 * redirects until one reaches `callbackPath`.
 */
export async function signIn(
  browser: Browser,
  loginUrl: string,
  callbackPath: string,
  credentials: Credentials,
  decision: 'allow' | 'deny' = 'allow',
): Promise<SignedIn> {
  const pages: string[] = []
  let res = await browser.get(loginUrl)
  for (let hops = 0; hops < 20; hops++) {
    if (res.status >= 300 && res.status < 400) {
      const next = new URL(res.headers.get('location')!, res.url)
      res = await browser.get(next)
      if (next.pathname === callbackPath) return { callback: res, pages }
      continue
    }
    const html = await res.text()
    assert.equal(res.status, 200, html)
    pages.push(/<title>([^<]*)<\/title>/.exec(html)?.[1] ?? '')
    const origin = new URL(res.url).origin
    if (html.includes('/login"')) {
      const form = formTo(html, '/login')
      res = await browser.post(new URL(form.action, origin), { ...form.fields, ...credentials })
    } else {
      const form = formTo(html, '/confirm')
      res = await browser.post(new URL(form.action, origin), { ...form.fields, decision })
    }
  }
  assert.fail('the sign-in did not reach the callback')
}

export { Browser }
