/**
 * The admin console's files at /console/ (issue 12), against a real gateway with an admin token: they
 * load without the token (the page must load to ask for it) and nothing else does; every answer carries
 * the strict CSP, nosniff, no-referrer and no framing; hashed assets are immutable and index.html is
 * revalidated; a file the build did not make is a 404 in the admin envelope, whatever spelling of `..`
 * asks for it (sent raw: fetch would resolve the dots itself); the Host and cross-site guards hold; files
 * never built get a page saying how to build them (GATEHOUSE_CONSOLE_DIR names an empty folder), and
 * `admin.console: false` turns the console off.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { CONSOLE_CSP } from '../../src/admin/console.ts'
import { type GatehouseProcess, startGatehouse } from '../harness/gatehouse.ts'
import { rawRequest } from '../harness/http.ts'
import { portOf, send } from '../harness/raw-socket.ts'
import { consoleManifest, TOKEN } from './support.ts'

const config = { _format_version: '3.0', admin: { token: TOKEN } }

function assertSecurityHeaders(headers: Headers | Record<string, unknown>, what: string): void {
  const get = (name: string) =>
    headers instanceof Headers ? headers.get(name) : (headers[name] as string | undefined)
  assert.equal(get('content-security-policy'), CONSOLE_CSP, `${what}: CSP`)
  assert.equal(get('x-content-type-options'), 'nosniff', `${what}: nosniff`)
  assert.equal(get('referrer-policy'), 'no-referrer', `${what}: referrer`)
  assert.equal(get('x-frame-options'), 'DENY', `${what}: framing`)
}

describe('the console files', () => {
  let gh: GatehouseProcess
  const manifest = consoleManifest()
  const script = manifest.files.find((f) => f.endsWith('.js'))!
  const style = manifest.files.find((f) => f.endsWith('.css'))!

  before(async () => {
    gh = await startGatehouse({ config })
  })
  after(async () => {
    await gh?.stop()
  })

  it('has a CSP without inline script or style, nothing from another origin and no framing', () => {
    assert.doesNotMatch(CONSOLE_CSP, /unsafe-inline|unsafe-eval|\*|https?:/)
    for (const directive of [
      "default-src 'none'",
      "script-src 'self'",
      "style-src 'self'",
      "connect-src 'self'",
      "frame-ancestors 'none'",
      "base-uri 'none'",
    ])
      assert.ok(CONSOLE_CSP.split('; ').includes(directive), directive)
  })

  it('serves index.html at /console/ without the token, revalidated, naming the hashed bundle and stylesheet', async () => {
    const res = await gh.admin('/console/')
    assert.equal(res.status, 200)
    assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8')
    assert.equal(res.headers.get('cache-control'), 'no-cache')
    assertSecurityHeaders(res.headers, 'index.html')
    const html = await res.text()
    assert.equal(html, readFileSync(join(manifest.dir, 'index.html'), 'utf8'))
    assert.match(html, new RegExp(`<script type="module" src="\\./${script.replace('.', '\\.')}"></script>`))
    assert.match(html, new RegExp(`<link rel="stylesheet" href="\\./${style.replace('.', '\\.')}">`))
    assert.doesNotMatch(html, /<script>|<style|style=/, 'nothing inline')
    const etag = res.headers.get('etag')!
    const again = await gh.admin('/console/', { headers: { 'if-none-match': etag } })
    assert.equal(again.status, 304)
    assert.equal((await gh.admin('/console/index.html')).status, 200)
  })

  it('serves the hashed assets as immutable, with their types', async () => {
    for (const [file, type] of [
      [script, 'text/javascript; charset=utf-8'],
      [style, 'text/css; charset=utf-8'],
    ] as const) {
      assert.match(file, /^app-[A-Z0-9]{8}\.(js|css)$/, 'a content hash in the name')
      const res = await gh.admin(`/console/${file}`)
      assert.equal(res.status, 200, file)
      assert.equal(res.headers.get('content-type'), type)
      assert.equal(res.headers.get('cache-control'), 'public, max-age=31536000, immutable')
      assertSecurityHeaders(res.headers, file)
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), readFileSync(join(manifest.dir, file)))
    }
    const head = await rawRequest(`${gh.adminUrl}/console/${script}`, { method: 'HEAD' })
    assert.equal(head.status, 200)
    assert.equal(head.body, '')
  })

  it('redirects /console to /console/', async () => {
    const res = await gh.admin('/console?x=1', { redirect: 'manual' })
    assert.equal(res.status, 301)
    assert.equal(res.headers.get('location'), '/console/')
  })

  it('answers a file the build did not make with 404 in the admin envelope', async () => {
    for (const path of [
      '/console/nope.js',
      '/console/manifest.json',
      '/console/assets/',
      '/console/app.js',
    ]) {
      const res = await gh.admin(path)
      assert.equal(res.status, 404, path)
      assert.equal(res.headers.get('x-gatehouse-error'), 'GH_ERR_ADMIN_NOT_FOUND')
      assertSecurityHeaders(res.headers, path)
      assert.deepEqual(await res.json(), {
        message: 'no such file in the admin console',
        code: 'GH_ERR_ADMIN_NOT_FOUND',
        error: 'Not Found',
        statusCode: 404,
      })
    }
  })

  it('never leaves its folder, whatever spelling of .. the target uses', async () => {
    const port = portOf(gh.adminUrl)
    const secret = readFileSync(join(gh.dir, 'gatehouse.json'), 'utf8')
    for (const target of [
      '/console/../console/../../package.json',
      '/console/..%2f..%2fpackage.json',
      '/console/%2e%2e/%2e%2e/package.json',
      '/console/%2e%2e%2f%2e%2e%2fpackage.json',
      '/console/..%5c..%5cpackage.json',
      '/console/....//....//etc/passwd',
      '/console/%252e%252e/package.json',
      `/console/${encodeURIComponent(gh.configFile)}`,
      '/console//etc/passwd',
      '/console/%00index.html',
    ]) {
      const { responses } = await send(
        port,
        `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`,
      )
      const res = responses[0]!
      // Either a console 404, or (the dots resolved out of /console/) an admin path behind the token.
      assert.ok([404, 401].includes(res.status), `${target}: ${res.status}`)
      assert.doesNotMatch(res.body, /"name"|root:|_format_version/, `${target} leaked a file`)
      assert.ok(!res.body.includes(secret), target)
    }
  })

  it('takes GET and HEAD only', async () => {
    const res = await gh.admin('/console/', {
      method: 'POST',
      body: '{}',
      headers: { 'content-type': 'application/json' },
    })
    assert.equal(res.status, 405)
    assert.equal(res.headers.get('allow'), 'GET, HEAD')
    assert.equal(((await res.json()) as { code: string }).code, 'GH_ERR_ADMIN_METHOD_NOT_ALLOWED')
  })

  it('keeps everything else behind the token: /console/../status is /status', async () => {
    const { responses } = await send(
      portOf(gh.adminUrl),
      'GET /console/../status HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n',
    )
    assert.equal(responses[0]!.status, 401)
    assert.equal((await gh.admin('/status')).status, 401)
    assert.equal((await gh.admin('/stats/stream')).status, 401)
  })

  it('refuses the files and the stream to a foreign Host (DNS rebinding) with 421 and to a cross-site request with 403, token or not', async () => {
    for (const path of ['/console/', `/console/${script}`, '/stats/stream']) {
      const rebound = await rawRequest(gh.adminUrl + path, {
        headers: { host: 'rebind.example', authorization: `Bearer ${TOKEN}` },
      })
      assert.equal(rebound.status, 421, path)
      assert.equal(JSON.parse(rebound.body).code, 'GH_ERR_ADMIN_HOST_NOT_ALLOWED')
    }
    for (const headers of [
      { origin: 'https://evil.example' },
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site' },
    ]) {
      for (const path of [`/console/${script}`, '/stats/stream']) {
        const res = await gh.admin(path, { headers: { ...headers, authorization: `Bearer ${TOKEN}` } })
        assert.equal(res.status, 403, `${path} ${JSON.stringify(headers)}`)
        assert.equal(((await res.json()) as { code: string }).code, 'GH_ERR_ADMIN_CROSS_SITE')
      }
    }
    const own = await gh.admin('/console/', { headers: { 'sec-fetch-site': 'none', origin: gh.adminUrl } })
    assert.equal(own.status, 200, 'the listener itself, typed in the address bar')
  })
})

describe('a console that was never built', () => {
  let gh: GatehouseProcess
  let off: GatehouseProcess
  const empty = mkdtempSync(join(tmpdir(), 'gatehouse-console-empty-'))

  before(async () => {
    ;[gh, off] = await Promise.all([
      startGatehouse({ config, env: { GATEHOUSE_CONSOLE_DIR: empty } }),
      startGatehouse({ config: { ...config, admin: { token: TOKEN, console: false } } }),
    ])
  })
  after(async () => {
    await Promise.all([gh?.stop(), off?.stop()])
    rmSync(empty, { recursive: true, force: true })
  })

  it('serves a page saying how to build it, and warns at start; the admin API works as before', async () => {
    await gh.waitForLog((l) => l.level === 'warn' && /console's files are not built/.test(l.msg))
    const page = await gh.admin('/console/', { headers: { accept: 'text/html' } })
    assert.equal(page.status, 503)
    assert.equal(page.headers.get('content-type'), 'text/html; charset=utf-8')
    assert.equal(page.headers.get('x-gatehouse-error'), 'GH_ERR_ADMIN_CONSOLE_NOT_BUILT')
    assertSecurityHeaders(page.headers, 'not built')
    assert.match(await page.text(), /npm run build:console/)
    const program = await gh.admin('/console/app.js')
    assert.equal(program.status, 503)
    assert.equal(((await program.json()) as { code: string }).code, 'GH_ERR_ADMIN_CONSOLE_NOT_BUILT')
    const status = await gh.admin('/status', { headers: { authorization: `Bearer ${TOKEN}` } })
    assert.equal(status.status, 200)
    assert.equal(gh.child.exitCode, null, 'still running')
  })

  it('is off with admin.console: false: /console/ is an admin path like any other, behind the token', async () => {
    assert.equal((await off.admin('/console/')).status, 401)
    const res = await off.admin('/console/', { headers: { authorization: `Bearer ${TOKEN}` } })
    assert.equal(res.status, 404)
    assert.equal(((await res.json()) as { code: string }).code, 'GH_ERR_ADMIN_NOT_FOUND')
  })
})
