/**
 * Graceful shutdown on SIGTERM: the listener stops accepting at once, requests in flight finish (up to
 * proxy.shutdown_timeout, after which they are cut), idle keep-alive connections are closed, and the
 * process exits 0 after logging `stopped`.
 */
import assert from 'node:assert/strict'
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http'
import { afterEach, describe, it } from 'node:test'
import { Client } from 'undici'
import { type GatehouseProcess, startGatehouse } from '../harness/gatehouse.ts'
import { serviceConfig, startUpstream, type Upstream } from '../harness/upstream.ts'

const SLOW_BODY = 'slow-'.repeat(20_000) // 100 kB, so "the full body" means several chunks

/** An upstream whose `/slow` answers after `x-delay` ms; `arrived` resolves when a slow request is in. */
async function slowUpstream(): Promise<{
  upstream: Upstream
  arrived: Promise<void>
  /** Resolves true when the gateway closed a slow request before it was answered. */
  abandoned: Promise<boolean>
}> {
  let onArrived!: () => void
  let onClosed!: (abandoned: boolean) => void
  const arrived = new Promise<void>((resolve) => {
    onArrived = resolve
  })
  const abandoned = new Promise<boolean>((resolve) => {
    onClosed = resolve
  })
  const upstream = await startUpstream((req: IncomingMessage, res: ServerResponse) => {
    req.resume()
    if (!req.url?.startsWith('/slow')) {
      res.writeHead(200, { 'content-type': 'text/plain' })
      res.end('fast')
      return
    }
    onArrived()
    const timer = setTimeout(() => {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(SLOW_BODY) })
      res.end(SLOW_BODY)
    }, Number(req.headers['x-delay']))
    res.once('close', () => {
      clearTimeout(timer)
      onClosed(!res.writableFinished)
    })
  })
  return { upstream, arrived, abandoned }
}

interface Outcome {
  status?: number
  headers?: Record<string, string | string[] | undefined>
  body?: string
  error?: string
}

/** One request on a connection of its own; never rejects. */
function send(url: string, path: string, headers: Record<string, string> = {}): Promise<Outcome> {
  return new Promise((resolve) => {
    const req = httpRequest(`${url}${path}`, { agent: false, headers }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => {
        body += chunk
      })
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }))
      res.on('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message }))
    })
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message }))
    req.end()
  })
}

/**
 * A shutdown timeout longer than `exitOrKill` waits: a test that uses it fails if the gateway waits for
 * the timeout instead of exiting once its requests are done.
 */
const LONG = { proxy: { shutdown_timeout: 600_000 } }

/** The exit status, or SIGKILL if the process is still running 15 s after this call. */
async function exitOrKill(gh: GatehouseProcess): Promise<{ code: number | null; signal: string | null }> {
  const timer = setTimeout(() => gh.child.kill('SIGKILL'), 15_000)
  const exit = await gh.exited
  clearTimeout(timer)
  return exit
}

describe('graceful shutdown', () => {
  let upstream: Upstream | undefined
  let gh: GatehouseProcess | undefined
  afterEach(async () => {
    await gh?.stop()
    await upstream?.close()
    gh = undefined
    upstream = undefined
  })

  it('lets a request in flight finish with its full body, refuses new connections, then exits 0', async () => {
    const slow = await slowUpstream()
    upstream = slow.upstream
    gh = await startGatehouse({ config: serviceConfig(upstream.url, undefined, LONG) })

    const inFlight = send(gh.proxyUrl, '/slow', { 'x-delay': '1000', 'x-request-id': 'in-flight' })
    await slow.arrived
    gh.signal('SIGTERM')
    const draining = await gh.waitForLog((l) => l.msg === 'shutting down')
    assert.equal(draining.inflight, 1)

    const late = await send(gh.proxyUrl, '/fast')
    assert.equal(late.status, undefined, 'a connection made after SIGTERM must not be served')
    assert.ok(late.error === 'ECONNREFUSED' || late.error === 'ECONNRESET', `got ${late.error}`)

    const done = await inFlight
    assert.equal(done.status, 200)
    assert.equal(done.body, SLOW_BODY)
    assert.equal(done.headers?.connection, 'close')

    const exit = await exitOrKill(gh)
    assert.deepEqual(exit, { code: 0, signal: null })
    const access = gh.accessLines().find((l) => l.request_id === 'in-flight')
    assert.equal(access?.status, 200)
    assert.ok(gh.lines.some((l) => l.msg === 'stopped' && l.reason === 'SIGTERM'))
    assert.ok(!gh.lines.some((l) => l.msg.startsWith('shutdown timeout reached')))
  })

  it('closes an idle keep-alive connection and exits 0 without waiting for the timeout', async () => {
    const slow = await slowUpstream()
    upstream = slow.upstream
    gh = await startGatehouse({ config: serviceConfig(upstream.url, undefined, LONG) })
    const client = new Client(gh.proxyUrl)
    const disconnected = new Promise<void>((resolve) => client.once('disconnect', () => resolve()))
    const res = await client.request({ path: '/fast', method: 'GET' })
    assert.equal(await res.body.text(), 'fast')
    assert.notEqual(res.headers.connection, 'close')

    gh.signal('SIGTERM')
    const exit = await exitOrKill(gh)
    await disconnected
    await client.close()
    assert.deepEqual(exit, { code: 0, signal: null })
    assert.ok(gh.lines.some((l) => l.msg === 'stopped'))
    assert.ok(!gh.lines.some((l) => l.msg.startsWith('shutdown timeout reached')))
  })

  it('exits 0 after proxy.shutdown_timeout when a request would take longer, and says so', async () => {
    const slow = await slowUpstream()
    upstream = slow.upstream
    gh = await startGatehouse({
      config: serviceConfig(upstream.url, undefined, { proxy: { shutdown_timeout: 500 } }),
    })

    const inFlight = send(gh.proxyUrl, '/slow', { 'x-delay': '10000', 'x-request-id': 'cut-off' })
    await slow.arrived
    gh.signal('SIGTERM')

    const exit = await exitOrKill(gh)
    assert.deepEqual(exit, { code: 0, signal: null })
    const cut = await inFlight
    assert.equal(cut.status, undefined, 'the cut-off request gets no response')
    assert.equal(await slow.abandoned, true, 'the upstream request is cancelled')

    const timeout = gh.lines.find((l) => l.msg.startsWith('shutdown timeout reached'))
    assert.equal(timeout?.level, 'warn')
    assert.equal(timeout?.inflight, 1)
    const line = gh.accessLines().find((l) => l.request_id === 'cut-off')
    assert.equal(line?.status, 503, 'logged as cut by the gateway, not as a client that left (499)')
    assert.equal(line?.error_code, 'GH_ERR_SERVER_SHUTTING_DOWN')
    assert.ok(gh.lines.some((l) => l.msg === 'stopped'))
  })

  it('answers and logs every request it accepted when SIGTERM arrives under load', async () => {
    upstream = await startUpstream()
    const gateway = await startGatehouse({ config: serviceConfig(upstream.url, undefined, LONG) })
    gh = gateway
    const answered = new Set<string>()
    const wrong: string[] = []
    let signalled = false
    const worker = async (id: number) => {
      const client = new Client(gateway.proxyUrl)
      try {
        for (let n = 0; ; n++) {
          const requestId = `w${id}-${n}`
          try {
            const res = await client.request({
              path: `/items/${requestId}`,
              method: 'GET',
              headers: { 'x-request-id': requestId },
            })
            const body = (await res.body.json()) as { url: string }
            if (res.statusCode === 200 && body.url === `/items/${requestId}`) answered.add(requestId)
            else wrong.push(`${requestId}: ${res.statusCode} ${JSON.stringify(body)}`)
          } catch (err) {
            // Closed or refused once the gateway stops taking requests; this client is then done.
            if (!signalled) wrong.push(`${requestId}: ${(err as Error).message}`)
            break
          }
        }
      } finally {
        await client.destroy()
      }
    }
    const workers = Array.from({ length: 16 }, (_, id) => worker(id))
    // Generous: on a loaded machine 200 requests of one client can take a while; the test is about what follows.
    await gateway.waitForLog((l) => l.type === 'access' && l.request_id === 'w0-200', 60_000)
    signalled = true
    gateway.signal('SIGTERM')
    const exit = await exitOrKill(gateway)
    await Promise.all(workers)

    assert.deepEqual(exit, { code: 0, signal: null })
    assert.deepEqual(wrong, [])
    const logged = gateway.accessLines().map((l) => l.request_id as string)
    assert.deepEqual(new Set(logged), answered, 'every answered request is logged, and only those')
    assert.equal(logged.length, answered.size)
    assert.ok(answered.size > 200)
    assert.equal(gateway.lines.at(-1)?.msg, 'stopped')
  })

  it('exits 0 and logs stopped on SIGTERM when idle', async () => {
    const slow = await slowUpstream()
    upstream = slow.upstream
    gh = await startGatehouse({ config: serviceConfig(upstream.url, undefined, LONG) })
    gh.signal('SIGTERM')
    assert.deepEqual(await exitOrKill(gh), { code: 0, signal: null })
    const messages = gh.lines.map((l) => l.msg)
    assert.deepEqual(messages.slice(-2), ['shutting down', 'stopped'])
  })
})
