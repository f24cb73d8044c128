/**
 * http-log through the real gateway, with a real log server on port 0: Kong's payload and request shape
 * (user info as Basic auth, headers, method), batching, retries with backoff (delivered once), a log
 * server that never answers (the proxy answers regardless), queue overflow dropped and counted, Kong's
 * deprecated 2.x fields, and the queue flushed at SIGTERM.
 */
import assert from 'node:assert/strict'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { type GatehouseProcess, startGatehouse } from '../../../test/harness/gatehouse.ts'
import { startUpstream, type Upstream } from '../../../test/harness/upstream.ts'

interface Received {
  readonly method: string
  readonly url: string
  readonly headers: IncomingMessage['headers']
  readonly body: string
}

/** The log server: records every request; `/flaky` answers 500 twice then 200; `/hang` never answers. */
class LogServer {
  readonly received: Received[] = []
  readonly hanging: ServerResponse[] = []
  #flaky = 0
  readonly server: Server = createServer((req, res) => {
    let body = ''
    req.setEncoding('utf8')
    req.on('data', (c: string) => {
      body += c
    })
    req.on('end', () => {
      this.received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body })
      if (req.url === '/hang') {
        this.hanging.push(res)
        return
      }
      if (req.url === '/flaky' && this.#flaky++ < 2) {
        res.writeHead(500).end('not now')
        return
      }
      res.writeHead(200).end('ok')
    })
  })

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`
  }

  at(path: string): Received[] {
    return this.received.filter((r) => r.url.split('?')[0] === path)
  }

  async waitFor(path: string, count: number): Promise<Received[]> {
    for (let i = 0; i < 400; i++) {
      if (this.at(path).length >= count) return this.at(path)
      await sleep(25)
    }
    assert.fail(`${path} received ${this.at(path).length} requests, expected ${count}`)
  }
}

const PASSWORD = 'p@ss-4e1b-never-logged'

describe('the http-log plugin', () => {
  let upstream: Upstream
  let gh: GatehouseProcess
  const logs = new LogServer()

  before(async () => {
    await new Promise<void>((resolve) => logs.server.listen(0, '127.0.0.1', resolve))
    upstream = await startUpstream()
    const route = (name: string, config: object) => ({
      name,
      paths: [`/${name}`],
      plugins: [{ name: 'http-log', config }],
    })
    const endpoint = (path: string) => `${logs.url}${path}`
    gh = await startGatehouse({
      config: {
        _format_version: '3.0',
        services: [
          {
            name: 'svc',
            url: upstream.url,
            routes: [
              route('single', {
                http_endpoint: `http://collector:${encodeURIComponent(PASSWORD)}@127.0.0.1:${new URL(logs.url).port}/single?tenant=shop`,
                method: 'PUT',
                content_type: 'application/json; charset=utf-8',
                headers: { 'X-Tenant': 'shop' },
              }),
              route('batch', {
                http_endpoint: endpoint('/batch'),
                queue: { max_batch_size: 3, max_coalescing_delay: 3600 },
              }),
              route('flaky', { http_endpoint: endpoint('/flaky'), queue: { initial_retry_delay: 0.01 } }),
              route('dead', { http_endpoint: endpoint('/hang'), timeout: 600_000 }),
              route('overflow', {
                http_endpoint: endpoint('/hang'),
                timeout: 600_000,
                queue: { max_entries: 2 },
              }),
              route('legacy', {
                http_endpoint: endpoint('/legacy'),
                queue_size: 2,
                flush_timeout: 3600,
                retry_count: 3,
              }),
              route('held', {
                http_endpoint: endpoint('/held'),
                queue: { max_batch_size: 100, max_coalescing_delay: 3600 },
              }),
            ],
          },
        ],
      },
    })
  })
  after(async () => {
    await gh?.stop()
    await upstream?.close()
    for (const res of logs.hanging) res.destroy()
    logs.server.closeAllConnections()
    logs.server.close()
  })

  async function call(path: string, headers: Record<string, string> = {}): Promise<Response> {
    const res = await gh.proxy(path, { headers })
    await res.arrayBuffer()
    return res
  }

  it("sends Kong's entry alone, with the method, Content-Type and headers configured and the user info as Basic auth", async () => {
    assert.equal((await call('/single/a?q=1', { 'x-request-id': 'http-log-single' })).status, 200)
    const [got] = await logs.waitFor('/single', 1)
    assert.equal(got!.method, 'PUT')
    assert.equal(got!.url, '/single?tenant=shop')
    assert.equal(got!.headers['content-type'], 'application/json; charset=utf-8')
    assert.equal(got!.headers['x-tenant'], 'shop')
    assert.equal(
      got!.headers.authorization,
      `Basic ${Buffer.from(`collector:${PASSWORD}`).toString('base64')}`,
    )
    const entry = JSON.parse(got!.body)
    assert.ok(!Array.isArray(entry), 'max_batch_size 1: one object, not an array')
    assert.equal(entry.request.id, 'http-log-single')
    assert.equal(entry.request.uri, '/single/a?q=1')
    assert.equal(entry.response.status, 200)
    assert.equal(entry.route.name, 'single')
    assert.equal(entry.service.name, 'svc')
    assert.equal(entry.upstream_status, '200')
    assert.ok(!gh.stdout.includes(PASSWORD) && !gh.stderr.includes(PASSWORD), 'the password is never logged')
  })

  it('sends a JSON array once max_batch_size entries are queued', async () => {
    for (let i = 0; i < 3; i++) assert.equal((await call(`/batch/${i}`)).status, 200)
    const [got] = await logs.waitFor('/batch', 1)
    const batch = JSON.parse(got!.body) as { request: { uri: string } }[]
    assert.ok(Array.isArray(batch))
    assert.deepEqual(
      batch.map((e) => e.request.uri),
      ['/batch/0', '/batch/1', '/batch/2'],
    )
  })

  it('retries a batch the log server refused (500 twice, then 200) and delivers it once', async () => {
    assert.equal((await call('/flaky/x', { 'x-request-id': 'http-log-flaky' })).status, 200)
    const attempts = await logs.waitFor('/flaky', 3)
    assert.deepEqual(
      attempts.map((a) => JSON.parse(a.body).request.id),
      ['http-log-flaky', 'http-log-flaky', 'http-log-flaky'],
    )
    await gh.waitForLog((l) => l.msg === 'http-log: the log server takes entries again')
    await sleep(200)
    assert.equal(logs.at('/flaky').length, 3, 'not sent again once taken')
    const warning = gh.lines.find((l) => l.msg.startsWith('http-log: the log server did not take a batch'))
    assert.match(String(warning?.err), /returned status code 500/)
  })

  it('answers the proxied request while the log server hangs', async () => {
    assert.equal((await call('/dead/1')).status, 200)
    await logs.waitFor('/hang', 1)
    // The log server holds its first request open: the proxy still answers every request.
    for (let i = 2; i <= 5; i++) assert.equal((await call(`/dead/${i}`)).status, 200)
    assert.ok(logs.hanging.length >= 1)
  })

  it('drops the oldest entries when the queue is full, counts them and warns', async () => {
    const before = logs.at('/hang').length
    assert.equal((await call('/overflow/1')).status, 200)
    // The first entry is in flight to the hanging server; two more fill the queue; two more overflow it.
    await logs.waitFor('/hang', before + 1)
    for (let i = 2; i <= 5; i++) assert.equal((await call(`/overflow/${i}`)).status, 200)
    await gh.waitForLog((l) => l.msg.startsWith('http-log: queue full, dropping the oldest entries'))
    const metrics = await (await gh.admin('/metrics')).text()
    assert.match(metrics, /gatehouse_log_entries_dropped_total\{plugin="http-log",reason="queue_full"\} 2\b/)
    assert.match(metrics, /gatehouse_log_entries_sent_total\{plugin="http-log"\} [1-9]/)
  })

  it("takes Kong's deprecated queue_size and flush_timeout for the queue, with Kong's notices", async () => {
    const warned = (text: string) => gh.lines.some((l) => l.level === 'warn' && l.msg.includes(text))
    assert.ok(warned('the queue_size parameter is deprecated'))
    assert.ok(warned('the flush_timeout parameter is deprecated'))
    assert.ok(warned('the retry_count parameter no longer works'))
    for (let i = 0; i < 2; i++) assert.equal((await call(`/legacy/${i}`)).status, 200)
    const [got] = await logs.waitFor('/legacy', 1)
    assert.equal((JSON.parse(got!.body) as unknown[]).length, 2, 'batches of queue_size')
  })

  it('sends what is queued when the gateway stops (SIGTERM)', async () => {
    for (let i = 0; i < 2; i++) assert.equal((await call(`/held/${i}`)).status, 200)
    await sleep(100)
    assert.equal(logs.at('/held').length, 0, 'held: the batch is not full and its delay is an hour')
    const { code } = await gh.stop()
    assert.equal(code, 0)
    const [got] = logs.at('/held')
    assert.ok(got, 'the queue was flushed before the process exited')
    assert.equal((JSON.parse(got.body) as unknown[]).length, 2)
  })
})
