/**
 * The console's Entities and Upstreams pages in a real Chromium against a real gateway (issue 12). DB
 * mode (SQLite): a consumer and an API key created in the console work through the proxy, and deleting
 * the key in the console makes the proxy refuse it; an invalid field shows the admin API's message next
 * to it; a route's plugins are listed in order. DB-less: the pages are read-only with the admin API's
 * reason, and the declarative download loads back into the node. Upstreams: a healthy and an unhealthy
 * target. axe-core on each page, desktop and phone; screenshots to test-results/console/.
 */
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { CHROMIUM, launchBrowser } from '../harness/browser.ts'
import { type GatehouseProcess, startGatehouse } from '../harness/gatehouse.ts'
import { startUpstream, type Upstream } from '../harness/upstream.ts'
import { axeViolations, SIZES, screenshot, signIn, until } from './entities-support.ts'
import { TOKEN } from './support.ts'

const NO_CHROMIUM = existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM}`
const auth = { authorization: `Bearer ${TOKEN}` }

async function json(gh: GatehouseProcess, method: string, path: string, body?: unknown) {
  const res = await gh.admin(path, {
    method,
    headers: { ...auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  const text = await res.text()
  return { status: res.status, body: text === '' ? null : JSON.parse(text) }
}

describe('the Entities page in DB mode', { skip: NO_CHROMIUM }, () => {
  let upstream: Upstream
  let gh: GatehouseProcess
  let browser: Browser
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-console-db-'))

  before(async () => {
    ;[upstream, browser] = await Promise.all([startUpstream(), launchBrowser()])
    gh = await startGatehouse({
      config: {
        _format_version: '3.0',
        admin: { token: TOKEN },
        storage: { sqlite: { path: join(dir, 'gatehouse.db') }, entities: 'database' },
      },
    })
    assert.equal((await json(gh, 'POST', '/services', { name: 'shop', url: upstream.url })).status, 201)
    assert.equal(
      (await json(gh, 'POST', '/services/shop/routes', { name: 'orders', paths: ['/orders'] })).status,
      201,
    )
    assert.equal((await json(gh, 'POST', '/routes/orders/plugins', { name: 'key-auth' })).status, 201)
    assert.equal((await json(gh, 'POST', '/plugins', { name: 'correlation-id' })).status, 201)
    const billing = { name: 'billing', url: upstream.url, tags: ['team-a', 'money'] }
    assert.equal((await json(gh, 'POST', '/services', billing)).status, 201)
  })
  after(async () => {
    await browser?.close()
    await gh?.stop()
    await upstream?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('creates a consumer and an API key that the proxy accepts, and deleting the key makes the proxy refuse it', async () => {
    const context = await browser.newContext({ viewport: SIZES.desktop })
    try {
      const page = await context.newPage()
      await signIn(page, gh.adminUrl, TOKEN)
      await page.goto(`${gh.adminUrl}/console/#/entities/consumers`)
      await page.getByRole('link', { name: 'New consumer' }).click()
      await page.getByLabel('username').fill('alice')
      await page.getByRole('button', { name: 'Create' }).click()
      await page.getByRole('heading', { name: 'consumer alice' }).waitFor()
      await page.getByRole('button', { name: 'Add key-auth' }).click()
      await page.getByRole('button', { name: 'Create' }).click()
      const row = page.locator('[data-kind="key-auths"] li a')
      await row.waitFor()
      const key = ((await row.textContent()) ?? '').trim()
      assert.match(key, /^[0-9a-f]{32}$/, 'the key as the admin API shows it')
      await screenshot(page, 'entities-consumer-desktop')
      const call = () => fetch(`${gh.proxyUrl}/orders`, { headers: { apikey: key } }).then((r) => r.status)
      await until(async () => (await call()) === 200, 5000)

      await row.click()
      await page.getByRole('button', { name: 'Delete' }).click()
      await page.getByRole('button', { name: 'Yes, delete' }).click()
      await page.getByRole('heading', { name: 'Key-auths', level: 2 }).waitFor()
      await until(async () => (await call()) === 401, 5000)
      assert.equal(await call(), 401)
      assert.deepEqual(await axeViolations(page), [], 'key-auths list')
    } finally {
      await context.close()
    }
  })

  it('shows the admin API’s message next to the field it concerns', async () => {
    const context = await browser.newContext({ viewport: SIZES.desktop })
    try {
      const page = await context.newPage()
      await signIn(page, gh.adminUrl, TOKEN)
      await page.goto(`${gh.adminUrl}/console/#/entities/routes/new`)
      await page.getByLabel('name', { exact: true }).fill('broken')
      await page.getByLabel('paths (comma-separated)').fill('no-slash')
      await page.getByLabel('service (id or name)').fill('shop')
      await page.getByRole('button', { name: 'Create' }).click()
      const field = page.locator('[data-field="paths"]')
      await field.locator('.field-error').waitFor()
      assert.match(
        (await field.locator('.field-error').textContent()) ?? '',
        /paths\[0\]: must start with "\/"/,
      )
      assert.equal(await page.locator('#field-paths').getAttribute('aria-invalid'), 'true')
      assert.match(
        (await page.locator('#field-paths').getAttribute('aria-describedby')) ?? '',
        /field-paths-error/,
      )
      assert.equal(await page.locator('[data-field="name"] .field-error').count(), 0)
      assert.deepEqual(await axeViolations(page), [], 'the form with an error')
      await screenshot(page, 'entities-route-invalid-desktop')
    } finally {
      await context.close()
    }
  })

  it('lists a route’s plugins in the order they run, and every page passes axe on a desktop and a phone', async () => {
    for (const size of ['desktop', 'phone'] as const) {
      const context = await browser.newContext({ viewport: SIZES[size] })
      try {
        const page = await context.newPage()
        await signIn(page, gh.adminUrl, TOKEN)
        await page.goto(`${gh.adminUrl}/console/#/entities/routes`)
        await page.getByRole('link', { name: 'orders' }).click()
        const items = page.locator('#effective-plugins li')
        await items.first().waitFor()
        assert.deepEqual(await items.evaluateAll((li) => li.map((l) => l.getAttribute('data-plugin'))), [
          'correlation-id',
          'key-auth',
        ])
        assert.deepEqual(await axeViolations(page), [], `route detail on a ${size}`)
        await screenshot(page, `entities-route-${size}`)
        await page.locator('[data-field="service"] a').click()
        await page.getByRole('heading', { name: 'service shop' }).waitFor()
        for (const kind of ['services', 'routes', 'consumers', 'plugins', 'key-auths']) {
          await page.goto(`${gh.adminUrl}/console/#/entities/${kind}`)
          await page.locator('table.entity-table').waitFor()
          await page.getByRole('status').filter({ hasText: 'shown' }).waitFor()
          assert.deepEqual(await axeViolations(page), [], `${kind} on a ${size}`)
          await screenshot(page, `entities-${kind}-${size}`)
        }
        await page.getByLabel('Search').fill('zzz-nothing')
        assert.equal(await page.locator('table.entity-table tbody tr').count(), 0)
      } finally {
        await context.close()
      }
    }
  })

  it('filters a list by search text and by the admin API’s tags', async () => {
    const context = await browser.newContext({ viewport: SIZES.desktop })
    try {
      const page = await context.newPage()
      await signIn(page, gh.adminUrl, TOKEN)
      await page.goto(`${gh.adminUrl}/console/#/entities/services`)
      const names = () => page.locator('table.entity-table tbody tr td:first-child').allTextContents()
      await page.getByRole('status').filter({ hasText: '2 of 2 shown' }).waitFor()
      await page.getByLabel('Search').fill('127.0.0.1')
      assert.deepEqual((await names()).sort(), ['billing', 'shop'], 'the host matches both')
      await page.getByLabel('Search').fill('SHO')
      assert.deepEqual(await names(), ['shop'])
      await page.getByLabel('Search').fill('')
      await page.getByLabel('Tags').fill('team-a,money')
      await page.getByRole('button', { name: 'Filter' }).click()
      await page.getByRole('status').filter({ hasText: '1 of 1 shown' }).waitFor()
      assert.deepEqual(await names(), ['billing'])
      await page.getByLabel('Tags').fill('team-a,nope')
      await page.getByRole('button', { name: 'Filter' }).click()
      await page.getByRole('status').filter({ hasText: '0 of 0 shown' }).waitFor()
    } finally {
      await context.close()
    }
  })
})

// One at a time: the download test reloads the node, which starts its targets' health afresh.
describe('the Entities and Upstreams pages on a DB-less node', { skip: NO_CHROMIUM, concurrency: 1 }, () => {
  let live: Upstream
  let gh: GatehouseProcess
  let browser: Browser
  let context: BrowserContext
  let page: Page

  before(async () => {
    ;[live, browser] = await Promise.all([startUpstream(), launchBrowser()])
    gh = await startGatehouse({
      config: {
        _format_version: '3.0',
        admin: { token: TOKEN },
        upstreams: [
          {
            name: 'pool',
            // Active probes every second: the live upstream answers, nothing listens on port 9.
            healthchecks: {
              active: {
                http_path: '/',
                timeout: 0.5,
                healthy: { interval: 1, successes: 1 },
                unhealthy: { interval: 1, tcp_failures: 1, timeouts: 1, http_failures: 1 },
              },
            },
            targets: [{ target: `127.0.0.1:${live.port}` }, { target: '127.0.0.1:9' }],
          },
        ],
        services: [{ name: 'shop', host: 'pool', routes: [{ name: 'orders', paths: ['/orders'] }] }],
        consumers: [{ username: 'bob', keyauth_credentials: [{ key: 'bob-key-0123456789abcdef' }] }],
      },
    })
    // The balancer is made by the first request that needs it; its probes start then.
    await fetch(`${gh.proxyUrl}/orders`).then((r) => r.arrayBuffer())
    await until(async () => {
      const report = (await (await gh.admin('/upstreams/pool/health', { headers: auth })).json()) as {
        data: { health: string }[]
      }
      return (
        report.data
          .map((t) => t.health)
          .sort()
          .join() === 'HEALTHY,UNHEALTHY'
      )
    }, 10_000)
    context = await browser.newContext({ viewport: SIZES.desktop, acceptDownloads: true })
    page = await context.newPage()
    await signIn(page, gh.adminUrl, TOKEN)
  })
  after(async () => {
    await context?.close()
    await browser?.close()
    await gh?.stop()
    await live?.close()
  })

  it('shows a healthy and an unhealthy target, with weights', async () => {
    for (const size of ['desktop', 'phone'] as const) {
      await page.setViewportSize(SIZES[size])
      await page.goto(`${gh.adminUrl}/console/#/upstreams`)
      const healthy = page.locator(`tr[data-target="127.0.0.1:${live.port}"] [data-field="health"]`)
      await healthy.waitFor()
      assert.equal(((await healthy.textContent()) ?? '').trim(), 'HEALTHY')
      assert.equal(
        (
          (await page.locator('tr[data-target="127.0.0.1:9"] [data-field="health"]').textContent()) ?? ''
        ).trim(),
        'UNHEALTHY',
      )
      const cell = (target: string, field: string) =>
        page.locator(`tr[data-target="${target}"] [data-field="${field}"]`).textContent()
      assert.equal(((await cell(`127.0.0.1:${live.port}`, 'weight')) ?? '').trim(), '100')
      assert.equal(((await cell(`127.0.0.1:${live.port}`, 'available')) ?? '').trim(), '100 of 100')
      assert.equal(((await cell('127.0.0.1:9', 'available')) ?? '').trim(), '0 of 100')
      // The probes that took port 9 out failed to connect: counted, with the latest one's time.
      assert.match(
        (await cell('127.0.0.1:9', 'failures')) ?? '',
        /^\d+ connection failures?; last: connection failure at \S/,
      )
      assert.equal(((await cell(`127.0.0.1:${live.port}`, 'failures')) ?? '').trim(), 'none')
      assert.deepEqual(await axeViolations(page), [], `upstreams on a ${size}`)
      await screenshot(page, `upstreams-${size}`)
    }
  })
  it('is read-only with the admin API’s reason, and the download loads back into the node', async () => {
    for (const size of ['phone', 'desktop'] as const) {
      await page.setViewportSize(SIZES[size])
      await page.goto(`${gh.adminUrl}/console/#/entities/consumers`)
      const notice = page.locator('#read-only')
      await notice.waitFor()
      assert.match(
        (await notice.textContent()) ?? '',
        /cannot create 'services' entities when not using a database/,
      )
      await page.getByRole('link', { name: 'bob' }).click()
      const keys = page.locator('section[data-kind="key-auths"] li')
      await keys.first().waitFor()
      assert.equal(((await keys.textContent()) ?? '').trim(), 'bob-key-0123456789abcdef')
      assert.equal(await page.getByRole('link', { name: 'New consumer' }).count(), 0)
      assert.equal(await page.getByRole('button', { name: 'Delete' }).count(), 0)
      assert.equal(await page.getByRole('button', { name: /^Add / }).count(), 0)
      assert.equal(await page.getByRole('link', { name: 'Edit' }).count(), 0)
      assert.deepEqual(await axeViolations(page), [], `read-only consumer on a ${size}`)
      await screenshot(page, `entities-dbless-${size}`)
    }

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download as declarative file' }).click(),
    ])
    const file = JSON.parse(readFileSync((await download.path())!, 'utf8'))
    assert.equal(file._format_version, '3.0')
    assert.deepEqual(
      file.services.map((s: { name: string }) => s.name),
      ['shop'],
    )
    assert.deepEqual(
      file.upstreams.map((u: { name: string }) => u.name),
      ['pool'],
    )
    assert.deepEqual(file.targets.map((t: { target: string }) => t.target).sort(), [
      `127.0.0.1:${live.port}`,
      '127.0.0.1:9',
    ])
    assert.deepEqual(
      file.keyauth_credentials.map((k: { key: string }) => k.key),
      ['bob-key-0123456789abcdef'],
    )
    const loaded = await gh.admin('/config', {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify(file),
    })
    assert.equal(loaded.status, 201, await loaded.text())
    const targets = (await (await gh.admin('/upstreams/pool/targets', { headers: auth })).json()) as {
      data: unknown[]
    }
    assert.equal(targets.data.length, 2, 'the upstream and its targets came back')
  })
})
