/**
 * A web page on another site cannot drive the admin API (issue 10, section 1), against a real gateway:
 * the reviewer's attack run in a real Chromium (a page on another origin posts a form to /config with
 * `fetch(..., {mode: 'no-cors'})`, reads /key-auths through a no-cors GET, submits a text/plain form)
 * leaves the configuration as it was and the refusals in the log; then every Origin and Sec-Fetch-Site
 * combination, sent raw: the listener's own origin (also through a port forward) and programs without
 * either header pass, anything else gets 403 GH_ERR_ADMIN_CROSS_SITE before the token is looked at or a
 * body is read. Origins in admin.allowed_origins get CORS, and the setting is checked at load.
 */
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Browser } from 'playwright-core'
import { CHROMIUM, launchBrowser } from '../harness/browser.ts'
import { problems } from '../harness/config.ts'
import { type GatehouseProcess, type LogLine, startGatehouse } from '../harness/gatehouse.ts'
import { type RawResponse, rawRequest } from '../harness/http.ts'
import { startUpstream, type Upstream } from '../harness/upstream.ts'

const NO_CHROMIUM = existsSync(CHROMIUM)
  ? false
  : `no Chromium at ${CHROMIUM} (CI installs Debian's chromium; GATEHOUSE_TEST_CHROMIUM names another)`

const CONSOLE = 'https://console.example.com'
const API_KEY = 'alice-key-must-not-leak-0001'
const TOKEN = 'admin-token-0123456789abcdef'

const config = (upstream: Upstream, admin: object = {}) => ({
  _format_version: '3.0',
  admin: { allowed_origins: [CONSOLE], ...admin },
  services: [{ name: 'orders', url: upstream.url, routes: [{ name: 'orders', paths: ['/orders'] }] }],
  plugins: [{ name: 'key-auth', route: 'orders' }],
  consumers: [{ username: 'alice', keyauth_credentials: [{ key: API_KEY }] }],
})

/** What an attacker's page would load instead: a route of its own, and no key-auth. */
const ATTACKER_CONFIG =
  '_format_version: "3.0"\nservices:\n- name: evil\n  url: http://127.0.0.1:9\n  routes:\n  - name: evil\n    paths: [/]\n'

/**
 * The refusals logged since line `from` that `match` (the logger flushes every 100 ms, so a line of an
 * earlier request may come after `from` was taken: `match` tells them apart); waits for `count`.
 */
async function refusals(
  gh: GatehouseProcess,
  from: number,
  count: number,
  match: (l: LogLine) => boolean = () => true,
): Promise<LogLine[]> {
  for (let i = 0; i < 60; i++) {
    const found = gh.lines.slice(from).filter((l) => l.msg === 'admin request refused' && match(l))
    if (found.length >= count) return found
    await sleep(50)
  }
  assert.fail(`expected ${count} matching 'admin request refused' lines after line ${from}`)
}

const routeNames = async (gh: GatehouseProcess) =>
  ((await (await gh.admin('/routes')).json()) as { data: { name: string }[] }).data.map((r) => r.name)

describe('a page on another site in a real browser', { skip: NO_CHROMIUM }, () => {
  let upstream: Upstream
  let page: Upstream
  let gh: GatehouseProcess
  let browser: Browser
  /** The page the attacker serves, with the script `script` (the admin URL in ADMIN). */
  let script = ''

  before(async () => {
    ;[upstream, page, browser] = await Promise.all([
      startUpstream(),
      startUpstream((_req, res) => {
        const html = `<!doctype html><title></title><script>const ADMIN = ${JSON.stringify(gh.adminUrl)};\n${script}</script>`
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html)
      }),
      launchBrowser(),
    ])
    gh = await startGatehouse({ config: config(upstream) })
  })
  after(async () => {
    await browser?.close()
    await gh?.stop()
    await Promise.all([upstream?.close(), page?.close()])
  })

  /**
   * Opens the attacker's page (on `localhost`, a different site from the admin API's 127.0.0.1) and waits
   * until its script sets the title, or, when it navigates away, for the admin API's answer (its status).
   */
  async function visit(code: string, navigates = false): Promise<string> {
    script = code
    const tab = await browser.newPage()
    try {
      const answer = navigates ? tab.waitForResponse((r) => r.url().startsWith(gh.adminUrl)) : null
      await tab.goto(`http://localhost:${page.port}/`)
      if (answer !== null) return String((await answer).status())
      await tab.waitForFunction('document.title !== ""', undefined, { timeout: 10_000 })
      return await tab.title()
    } finally {
      await tab.close()
    }
  }

  it("refuses the reviewer's attack: a no-cors fetch posting kong.yml as a form to /config", async () => {
    const hash = ((await (await gh.admin('/config')).json()) as { config_hash: string }).config_hash
    const from = gh.lines.length
    const title = await visit(`
      const form = new FormData()
      form.set('config', new Blob([${JSON.stringify(ATTACKER_CONFIG)}]), 'kong.yml')
      fetch(ADMIN + '/config', { method: 'POST', mode: 'no-cors', body: form })
        .then(() => { document.title = 'sent' }, (e) => { document.title = 'failed: ' + e })`)
    assert.equal(title, 'sent', 'the browser sent the request (an opaque answer)')
    const [refused] = await refusals(gh, from, 1, (l) => l.method === 'POST')
    assert.equal(refused!.code, 'GH_ERR_ADMIN_CROSS_SITE')
    assert.equal(refused!.origin, `http://localhost:${page.port}`)
    assert.deepEqual(await routeNames(gh), ['orders'])
    assert.equal(((await (await gh.admin('/config')).json()) as { config_hash: string }).config_hash, hash)
    assert.equal((await gh.proxy('/orders')).status, 401, 'key-auth still guards the route')
  })

  it('refuses a no-cors GET of /key-auths, which carries no Origin, by its Sec-Fetch-Site', async () => {
    const from = gh.lines.length
    const title = await visit(`
      fetch(ADMIN + '/key-auths', { mode: 'no-cors' })
        .then(() => { document.title = 'sent' }, (e) => { document.title = 'failed: ' + e })`)
    assert.equal(title, 'sent')
    const [refused] = await refusals(gh, from, 1, (l) => l.method === 'GET')
    assert.equal(refused!.code, 'GH_ERR_ADMIN_CROSS_SITE')
    assert.equal(refused!.reason, 'sec-fetch-site')
    assert.equal(refused!.sec_fetch_site, 'cross-site')
    assert.ok(!gh.stdout.includes(API_KEY), 'the key is never logged')
  })

  it('refuses a plain HTML form that posts JSON as text/plain to /config', async () => {
    const from = gh.lines.length
    // The classic CSRF trick: the field name and value together make a JSON document.
    const name = '{"_format_version": "3.0", "services": [], "x": "'
    const status = await visit(
      `
      const form = document.createElement('form')
      form.method = 'POST'
      form.enctype = 'text/plain'
      form.action = ADMIN + '/config'
      const input = document.createElement('input')
      input.name = ${JSON.stringify(name)}
      input.value = '"}'
      form.append(input)
      document.documentElement.append(form)
      form.submit()`,
      true,
    )
    assert.equal(status, '403')
    const [refused] = await refusals(gh, from, 1, (l) => l.method === 'POST')
    assert.equal(refused!.code, 'GH_ERR_ADMIN_CROSS_SITE')
    assert.equal(refused!.sec_fetch_site, 'cross-site')
    assert.deepEqual(await routeNames(gh), ['orders'])
  })
})

describe('Origin and Sec-Fetch-Site on the admin API', () => {
  let upstream: Upstream
  let gh: GatehouseProcess
  let withToken: GatehouseProcess
  let port: string

  before(async () => {
    upstream = await startUpstream()
    ;[gh, withToken] = await Promise.all([
      startGatehouse({ config: config(upstream) }),
      startGatehouse({ config: config(upstream, { token: TOKEN }) }),
    ])
    port = new URL(gh.adminUrl).port
  })
  after(async () => {
    await Promise.all([gh?.stop(), withToken?.stop()])
    await upstream?.close()
  })

  const get = (headers: Record<string, string>, path = '/key-auths', url = gh.adminUrl) =>
    rawRequest(url + path, { headers })

  function assertRefused(res: RawResponse, what: string): void {
    assert.equal(res.status, 403, what)
    const body = JSON.parse(res.body) as Record<string, unknown>
    assert.deepEqual(body, {
      message:
        'cross-site requests to the admin API are refused (Origin and Sec-Fetch-Site); list a console in admin.allowed_origins',
      code: 'GH_ERR_ADMIN_CROSS_SITE',
      error: 'Forbidden',
      statusCode: 403,
    })
    assert.ok(!res.body.includes(API_KEY), `${what}: no key in the refusal`)
  }

  it('serves programs that send neither header, the listener’s own origin, same-origin and typed URLs', async () => {
    const allowed: Record<string, string>[] = [
      {},
      { origin: `http://127.0.0.1:${port}` },
      { origin: `http://localhost:${port}` },
      { origin: `http://127.0.0.1:${port}`, 'sec-fetch-site': 'same-origin' },
      { 'sec-fetch-site': 'same-origin' },
      { 'sec-fetch-site': 'none' },
    ]
    for (const headers of allowed) {
      const res = await get(headers)
      assert.equal(res.status, 200, JSON.stringify(headers))
      assert.ok(res.body.includes(API_KEY), 'the admin API answered')
      assert.equal(res.headers['access-control-allow-origin'], undefined, 'no CORS for its own origin')
    }
  })

  it('serves its own origin through a port forward: Origin equal to http://<Host>', async () => {
    const res = await get({ host: 'localhost:9001', origin: 'http://localhost:9001' })
    assert.equal(res.status, 200)
    // Another local page on another forwarded port is another origin.
    assertRefused(await get({ host: 'localhost:9001', origin: 'http://localhost:9002' }), 'port 9002')
  })

  it('refuses other origins, Origin: null, malformed origins and cross-site or same-site fetches with 403', async () => {
    const refused: Record<string, string>[] = [
      { origin: `http://127.0.0.1:${Number(port) + 1}` },
      { origin: 'http://evil.example' },
      { origin: `http://evil.example:${port}` },
      { origin: 'null' },
      { origin: `https://127.0.0.1:${port}` },
      { origin: `http://127.0.0.1:${port}/` },
      { origin: `http://user@127.0.0.1:${port}` },
      { origin: `http://127.0.0.1:${port}`, 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site' },
      { origin: 'https://console.example.com.evil.example' },
    ]
    const from = gh.lines.length
    for (const headers of refused) assertRefused(await get(headers), JSON.stringify(headers))
    const origins = new Set(refused.map((h) => h.origin))
    const logged = await refusals(gh, from, refused.length, (l) =>
      l.origin === undefined ? l.sec_fetch_site !== undefined : origins.has(l.origin as string),
    )
    assert.ok(logged.every((l) => l.code === 'GH_ERR_ADMIN_CROSS_SITE'))
    const reasons = (origin: string | undefined) =>
      logged.filter((l) => l.origin === origin).map((l) => l.reason)
    assert.deepEqual(reasons('http://evil.example'), ['origin'])
    assert.deepEqual(reasons('null'), ['origin'])
    assert.deepEqual(reasons(`http://127.0.0.1:${port}`), ['sec-fetch-site'])
    assert.deepEqual(reasons(undefined), ['sec-fetch-site', 'sec-fetch-site'])
  })

  it('refuses a cross-site POST /config before its body is read: nothing changes', async () => {
    const before = await routeNames(gh)
    const res = await rawRequest(`${gh.adminUrl}/config`, {
      method: 'POST',
      headers: { origin: 'http://evil.example', 'content-type': 'application/json' },
      body: JSON.stringify({ _format_version: '3.0' }),
    })
    assertRefused(res, 'POST /config')
    assert.deepEqual(await routeNames(gh), before)
  })

  it('refuses cross-site requests with 403 before the admin token is checked', async () => {
    const res = await get({ origin: 'http://evil.example' }, '/status', withToken.adminUrl)
    assertRefused(res, 'no token')
    const own = await get(
      { origin: `http://127.0.0.1:${new URL(withToken.adminUrl).port}` },
      '/status',
      withToken.adminUrl,
    )
    assert.equal(own.status, 401, 'its own origin still needs the token')
  })

  it('answers an origin of admin.allowed_origins with CORS, its preflight included', async () => {
    const preflight = await rawRequest(`${withToken.adminUrl}/services`, {
      method: 'OPTIONS',
      headers: {
        origin: CONSOLE,
        'sec-fetch-site': 'cross-site',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, content-type',
      },
    })
    assert.equal(preflight.status, 204, 'a preflight carries no token and is answered before the check')
    assert.equal(preflight.headers['access-control-allow-origin'], CONSOLE)
    assert.equal(preflight.headers['access-control-allow-methods'], 'GET, HEAD, POST, PUT, PATCH, DELETE')
    assert.equal(
      preflight.headers['access-control-allow-headers'],
      'authorization, content-type, kong-admin-token',
    )
    assert.equal(preflight.headers.vary, 'Origin')

    const read = await get(
      { origin: CONSOLE, 'sec-fetch-site': 'cross-site', authorization: `Bearer ${TOKEN}` },
      '/key-auths',
      withToken.adminUrl,
    )
    assert.equal(read.status, 200)
    assert.equal(read.headers['access-control-allow-origin'], CONSOLE)
    const unauthenticated = await get({ origin: CONSOLE }, '/key-auths', withToken.adminUrl)
    assert.equal(unauthenticated.status, 401, 'a listed origin still needs the token')
    assert.equal(
      unauthenticated.headers['access-control-allow-origin'],
      CONSOLE,
      'so the console can read why',
    )

    const other = await rawRequest(`${withToken.adminUrl}/services`, {
      method: 'OPTIONS',
      headers: { origin: 'https://other.example.com', 'access-control-request-method': 'POST' },
    })
    assert.equal(other.status, 403)
    assert.equal(other.headers['access-control-allow-origin'], undefined)
  })

  it('checks admin.allowed_origins and admin.allowed_hosts when the configuration is loaded', () => {
    const issues = problems(
      '_format_version: "3.0"\nadmin:\n  allowed_origins: ["https://console.example.com/", "console.example.com", "HTTPS://Console.example.com", "ftp://files.example.com", "https://console.example.com:443"]\n  allowed_hosts: ["admin.example.com:8001", "http://admin.example.com", "*.example.com", "::1", "admin.internal"]\n',
    )
    const origin =
      'expected an origin as browsers send it: scheme://host[:port] in lower case, no path or trailing slash, no default port (https://console.example.com)'
    const host = 'expected a host name (admin.example.com, *.example.com) or an IP address, without a port'
    assert.deepEqual(issues, [
      `gatehouse.yaml: admin.allowed_hosts[0]: ${host}`,
      `gatehouse.yaml: admin.allowed_hosts[1]: ${host}`,
      `gatehouse.yaml: admin.allowed_origins[0]: ${origin}`,
      `gatehouse.yaml: admin.allowed_origins[1]: ${origin}`,
      `gatehouse.yaml: admin.allowed_origins[2]: ${origin}`,
      `gatehouse.yaml: admin.allowed_origins[3]: ${origin}`,
      `gatehouse.yaml: admin.allowed_origins[4]: ${origin}`,
    ])
  })
})
