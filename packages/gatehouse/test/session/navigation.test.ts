/**
 * Page navigations without a session (issue 15), end to end: a browser loading a page that needs a
 * session is sent to sign in (302 to login_path with `return_to`) and comes back to that page signed in;
 * a script's call (fetch, XHR, JSON) still gets the 401; routes that let requests in without a session
 * are not redirected, nor a route that turns the redirect off; a `return_to` that leads off the site is
 * dropped.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { request } from 'undici'
import { assertFetchedError } from '../harness/error-body.ts'
import { ALICE } from '../identity/support/gateway.ts'
import { SessionGateway } from './gateway.ts'
import { Browser, Jar, signIn } from './support.ts'

/** What Chromium sends when it loads a page the user asked for. */
const PAGE = {
  accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8',
  'sec-fetch-mode': 'navigate',
  'sec-fetch-dest': 'document',
  'sec-fetch-site': 'none',
}

describe('page navigations without a session', () => {
  let gw: SessionGateway
  before(async () => {
    gw = await SessionGateway.start()
  })
  after(() => gw?.stop())

  /**
   * A request with exactly these headers (and the jar's cookies), as a browser sends it: fetch() would
   * replace Sec-Fetch-Mode with its own `cors`.
   */
  async function load(path: string, headers: Record<string, string>, jar = new Jar(), method = 'GET') {
    const cookie = jar.header()
    const res = await request(gw.origin + path, {
      method: method as 'GET',
      headers: cookie === '' ? headers : { ...headers, cookie },
    })
    const h = new Headers()
    for (const [name, value] of Object.entries(res.headers))
      for (const v of Array.isArray(value) ? value : [value ?? '']) h.append(name, v)
    const body = method === 'HEAD' ? null : await res.body.arrayBuffer()
    return jar.take(new Response(body, { status: res.statusCode, headers: h }))
  }

  it('sends a page navigation to sign in, with its path and query to come back to, and nothing upstream', async () => {
    const seen = gw.upstream.requests.length
    const res = await load('/api/orders/7?tab=items', PAGE)
    assert.equal(res.status, 302)
    assert.equal(
      res.headers.get('location'),
      `/login?return_to=${encodeURIComponent('/api/orders/7?tab=items')}`,
    )
    assert.equal(res.headers.get('cache-control'), 'no-store')
    // A redirect to sign in is not an error answer (docs/errors.md): no error header, no body.
    assert.equal(res.headers.get('x-gatehouse-error'), null)
    assert.equal(res.headers.get('vary'), 'Sec-Fetch-Mode, Accept')
    assert.equal(gw.upstream.requests.length, seen)
    await gw.gh.waitForLog(
      (l) =>
        l.path === '/api/orders/7' && l.status === 302 && l.error_code === 'GH_ERR_AUTH_CREDENTIALS_MISSING',
    )
    // A browser without Fetch Metadata: a GET (or HEAD) asking for HTML.
    for (const method of ['GET', 'HEAD']) {
      const old = await load('/api/orders', { accept: PAGE.accept }, new Jar(), method)
      assert.equal(old.status, 302, method)
    }
  })

  it('brings the browser back to that page after signing in, with the session', async () => {
    const start = await load('/api/orders/7?tab=items', PAGE)
    const browser = new Browser()
    const done = await signIn(
      browser,
      new URL(start.headers.get('location')!, gw.origin).href,
      '/callback',
      ALICE,
    )
    assert.equal(done.callback.status, 302)
    assert.equal(done.callback.headers.get('location'), '/api/orders/7?tab=items')
    const jar = new Jar()
    jar.take(done.callback)
    const echo = await gw.echoed(await load('/api/orders/7?tab=items', PAGE, jar))
    assert.equal(echo.url, '/7?tab=items', 'the page the browser asked for (strip_path applies as ever)')
    assert.ok(echo.headers['x-authenticated-userid'])
  })

  it('still answers 401 JSON to a script’s call, and to a navigation that is not a GET', async () => {
    for (const headers of [
      { accept: 'application/json' },
      { accept: '*/*' },
      { accept: 'text/html', 'sec-fetch-mode': 'cors' },
      { 'x-requested-with': 'XMLHttpRequest', accept: 'application/json, text/javascript, */*; q=0.01' },
    ]) {
      const res = await load('/api/orders', headers)
      assert.equal(res.status, 401, JSON.stringify(headers))
      await assertFetchedError(res, {
        kong: { message: 'Unauthorized', login: '/login' },
        code: 'GH_ERR_AUTH_CREDENTIALS_MISSING',
      })
    }
    const post = await load('/api/orders', PAGE, new Jar(), 'POST')
    assert.equal(post.status, 401)
  })

  it('lets optional and anonymous routes through, and answers 401 where redirect_navigations is off', async () => {
    assert.equal((await load('/api/public', PAGE)).status, 200)
    assert.equal((await load('/api/guest', PAGE)).status, 200)
    const plain = await load('/api/plain', PAGE)
    assert.equal(plain.status, 401)
    assert.equal(plain.headers.get('www-authenticate'), 'Session')
  })

  it('clears a session cookie that no longer opens, and sends the navigation to sign in', async () => {
    const stale = new Jar()
    stale.cookies.set('gh_session', 'not-a-session')
    const res = await load('/api/orders', PAGE, stale)
    assert.equal(res.status, 302)
    assert.ok(res.headers.getSetCookie().some((c) => c.startsWith('gh_session=;')))
  })

  it('ignores a return_to that leads off this site: the sign-in ends on post_login_redirect', async () => {
    for (const target of ['//evil.example/x', 'https://evil.example/', '/\\evil.example']) {
      const query = `?return_to=${encodeURIComponent(target)}`
      const done = await signIn(new Browser(), `${gw.origin}/login${query}`, '/callback', ALICE)
      assert.equal(done.callback.status, 302, target)
      assert.equal(done.callback.headers.get('location'), '/', target)
    }
  })
})
