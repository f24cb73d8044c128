/**
 * Just enough of a browser to sign in without one: fetch with `redirect: 'manual'`, a cookie jar fed
 * from `getSetCookie()` (path-scoped, as the provider scopes its cookies), and the forms of our login
 * and consent pages read from their HTML (action and CSRF token).
 */
import assert from 'node:assert/strict'

interface Cookie {
  readonly value: string
  readonly path: string
}

export class Browser {
  /** origin → name → cookie */
  readonly #jar = new Map<string, Map<string, Cookie>>()

  async get(url: string | URL): Promise<Response> {
    return this.#fetch(new URL(url), { method: 'GET' })
  }

  async post(url: string | URL, fields: Record<string, string>): Promise<Response> {
    return this.#fetch(new URL(url), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
    })
  }

  /** Follows redirects on the provider's origin; stops at the first one elsewhere (the client's callback). */
  async follow(response: Response, origin: string): Promise<Response | URL> {
    let res = response
    for (let hops = 0; hops < 10; hops++) {
      if (res.status < 300 || res.status >= 400) return res
      const location = new URL(res.headers.get('location')!, res.url)
      if (location.origin !== origin) return location
      res = await this.get(location)
    }
    assert.fail('too many redirects')
  }

  cookieNames(origin: string): string[] {
    return [...(this.#jar.get(origin)?.keys() ?? [])]
  }

  async #fetch(url: URL, init: RequestInit): Promise<Response> {
    const cookies = [...(this.#jar.get(url.origin) ?? new Map<string, Cookie>())]
      .filter(
        ([, c]) =>
          url.pathname === c.path || url.pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`),
      )
      .map(([name, c]) => `${name}=${c.value}`)
    const headers = new Headers(init.headers)
    if (cookies.length > 0) headers.set('cookie', cookies.join('; '))
    const res = await fetch(url, { ...init, headers, redirect: 'manual' })
    this.#store(url, res.headers.getSetCookie())
    return res
  }

  #store(url: URL, setCookies: string[]): void {
    let jar = this.#jar.get(url.origin)
    if (jar === undefined) {
      jar = new Map()
      this.#jar.set(url.origin, jar)
    }
    for (const line of setCookies) {
      const [pair, ...attributes] = line.split(';').map((p) => p.trim())
      const eq = pair!.indexOf('=')
      const name = pair!.slice(0, eq)
      const value = pair!.slice(eq + 1)
      const attr = (n: string) =>
        attributes.find((a) => a.toLowerCase().startsWith(`${n}=`))?.slice(n.length + 1)
      const expires = attr('expires')
      const maxAge = attr('max-age')
      if (value === '' || (expires !== undefined && Date.parse(expires) <= Date.now()) || maxAge === '0') {
        jar.delete(name)
        continue
      }
      jar.set(name, { value, path: attr('path') ?? '/' })
    }
  }
}

export interface PageForm {
  readonly action: string
  readonly fields: Record<string, string>
}

/** The forms of a page: action and hidden fields. */
export function formsOf(html: string): PageForm[] {
  const forms: PageForm[] = []
  for (const m of html.matchAll(/<form\b[^>]*\baction="([^"]*)"[^>]*>([\s\S]*?)<\/form>/g)) {
    const fields: Record<string, string> = {}
    for (const input of m[2]!.matchAll(/<input\b[^>]*type="hidden"[^>]*>/g)) {
      const name = /\bname="([^"]*)"/.exec(input[0])?.[1]
      const value = /\bvalue="([^"]*)"/.exec(input[0])?.[1] ?? ''
      if (name !== undefined) fields[name] = decodeEntities(value)
    }
    forms.push({ action: decodeEntities(m[1]!), fields })
  }
  return forms
}

/** The form posting to a path ending in `suffix`. */
export function formTo(html: string, suffix: string): PageForm {
  const form = formsOf(html).find((f) => f.action.endsWith(suffix))
  assert.ok(form, `no form posting to …${suffix} in:\n${html}`)
  return form
}

function decodeEntities(text: string): string {
  return text
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
}
