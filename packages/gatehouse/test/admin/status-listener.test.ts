/**
 * The status listener (`admin.status_listen`, `--status-listen`, GATEHOUSE_STATUS_LISTEN; issue 10,
 * section 1), against a real gateway, a real Redis and a real upstream: `/status`, `/status/ready` and
 * `/metrics` without the admin token, read-only (405 for other methods, 404 for every other path), the
 * Host rule of the admin listener; `/status/ready` 503 GH_ERR_STATUS_NOT_READY naming Redis while it is
 * down and 200 again once it is back, 503 GH_ERR_SERVER_SHUTTING_DOWN while draining. Off by default.
 */
import assert from 'node:assert/strict'
import { rmSync } from 'node:fs'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { type GatehouseProcess, runCli, startGatehouse, writeTempConfig } from '../harness/gatehouse.ts'
import { rawRequest } from '../harness/http.ts'
import { type RedisServer, redisSkipReason, startRedis } from '../harness/redis.ts'
import { startUpstream, type Upstream } from '../harness/upstream.ts'

const TOKEN = 'admin-token-0123456789abcdef'

interface Ready {
  message: string
  code?: string
  statusCode?: number
  checks: Record<string, string>
}

/** Calls `probe` until `done` holds (each wait 50 ms), failing after `deadline` ms with the last value. */
async function until<T>(probe: () => Promise<T>, done: (v: T) => boolean, deadline = 15_000): Promise<T> {
  const start = Date.now()
  for (;;) {
    const value = await probe()
    if (done(value)) return value
    if (Date.now() - start > deadline)
      assert.fail(`not within ${deadline} ms; last: ${JSON.stringify(value)}`)
    await sleep(50)
  }
}

describe('the status listener', { skip: redisSkipReason() }, () => {
  let redis: RedisServer
  let upstream: Upstream
  let gh: GatehouseProcess
  /** Responses the slow route holds until released. */
  const held: (() => void)[] = []

  before(async () => {
    ;[redis, upstream] = await Promise.all([
      startRedis(),
      startUpstream((req, res) => {
        if (req.url?.startsWith('/slow')) held.push(() => res.writeHead(200).end('late'))
        else res.writeHead(200).end('ok')
      }),
    ])
    gh = await startGatehouse({
      config: {
        _format_version: '3.0',
        admin: { token: TOKEN },
        redis: { url: redis.url, command_timeout: 300, connect_timeout: 500 },
        services: [{ name: 'app', url: upstream.url, routes: [{ name: 'app', paths: ['/'] }] }],
      },
      statusListen: true,
    })
  })
  after(async () => {
    for (const release of held) release()
    await gh?.stop()
    await upstream?.close()
    await redis?.stop()
  })

  const ready = async () => {
    const res = await gh.status('/status/ready')
    return { status: res.status, body: (await res.json()) as Ready }
  }

  it('is named in the started line and serves /status, /status/ready and /metrics without the admin token', async () => {
    const started = await gh.waitForLog((l) => l.msg === 'gatehouse started')
    assert.match(String(started.status), /^127\.0\.0\.1:\d+$/)
    assert.notEqual(started.status, started.admin)

    const status = await gh.status('/status')
    assert.equal(status.status, 200)
    const body = (await status.json()) as {
      configuration_hash: string
      database: { reachable: boolean }
      redis?: { reachable: boolean }
    }
    assert.equal(body.configuration_hash, started.config_hash)
    assert.deepEqual(body.database, { reachable: true })
    assert.deepEqual(body.redis, { reachable: true })

    assert.deepEqual(await ready(), {
      status: 200,
      body: { message: 'ready', checks: { configuration: 'ok', redis: 'ok' } },
    })

    const metrics = await gh.status('/metrics')
    assert.equal(metrics.status, 200)
    assert.match(metrics.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/)
    assert.match(await metrics.text(), /^gatehouse_config_info\{hash="[0-9a-f]{64}"\} 1$/m)
  })

  it('answers HEAD with the headers and no body', async () => {
    for (const path of ['/status', '/status/ready', '/metrics']) {
      const res = await rawRequest(gh.statusUrl + path, { method: 'HEAD' })
      assert.equal(res.status, 200, path)
      assert.equal(res.body, '')
    }
  })

  it('is read-only: other methods get 405 with Allow: GET, HEAD, every other path 404', async () => {
    for (const [method, path] of [
      ['POST', '/status'],
      ['DELETE', '/metrics'],
      ['PUT', '/status/ready'],
      ['OPTIONS', '/status'],
    ] as const) {
      const res = await gh.status(path, { method })
      assert.equal(res.status, 405, `${method} ${path}`)
      assert.equal(res.headers.get('allow'), 'GET, HEAD')
      assert.equal(((await res.json()) as { code: string }).code, 'GH_ERR_ADMIN_METHOD_NOT_ALLOWED')
    }
    for (const path of [
      '/',
      '/services',
      '/config',
      '/key-auths',
      '/status/',
      '/metrics/x',
      '/internal-tokens/keys',
    ]) {
      const res = await gh.status(path, { headers: { authorization: `Bearer ${TOKEN}` } })
      assert.equal(res.status, 404, path)
      assert.equal(((await res.json()) as { code: string }).code, 'GH_ERR_ADMIN_NOT_FOUND')
    }
    const post = await gh.status('/config', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ _format_version: '3.0' }),
    })
    assert.equal(post.status, 404)
    await post.body?.cancel()
    assert.equal((await gh.proxy('/x')).status, 200, 'the configuration is unchanged')
  })

  it('refuses a foreign Host with 421, as the admin listener does', async () => {
    const res = await rawRequest(`${gh.statusUrl}/metrics`, { headers: { host: 'rebind.example' } })
    assert.equal(res.status, 421)
    assert.equal(JSON.parse(res.body).code, 'GH_ERR_ADMIN_HOST_NOT_ALLOWED')
    const pod = await rawRequest(`${gh.statusUrl}/status/ready`, {
      headers: { host: new URL(gh.statusUrl).host },
    })
    assert.equal(pod.status, 200, 'a probe naming the address itself')
  })

  it("keeps the admin listener's /status behind the token", async () => {
    const res = await gh.admin('/status')
    assert.equal(res.status, 401)
    await res.body?.cancel()
  })

  it('answers 503 GH_ERR_STATUS_NOT_READY naming Redis while it is down, and 200 once it is back', async () => {
    await redis.kill()
    const down = await until(ready, (r) => r.status === 503)
    assert.deepEqual(down.body, {
      message: 'not ready: redis does not answer',
      code: 'GH_ERR_STATUS_NOT_READY',
      error: 'Service Unavailable',
      statusCode: 503,
      checks: { configuration: 'ok', redis: 'unavailable' },
    })
    const viaAdmin = await gh.admin('/status/ready', { headers: { authorization: `Bearer ${TOKEN}` } })
    assert.equal(viaAdmin.status, 503, 'the admin listener says the same')
    await viaAdmin.body?.cancel()
    const live = await gh.status('/status')
    assert.equal(live.status, 200, 'liveness does not depend on Redis')
    assert.deepEqual(
      ((await live.json()) as { redis: unknown }).redis,
      { reachable: false },
      'but says it is down',
    )

    await redis.start()
    const back = await until(ready, (r) => r.status === 200)
    assert.deepEqual(back.body.checks, { configuration: 'ok', redis: 'ok' })
  })

  it('answers 503 GH_ERR_SERVER_SHUTTING_DOWN while draining, and closes at the end', async () => {
    const pending = gh.proxy('/slow')
    await until(
      async () => held.length,
      (n) => n > 0,
    )
    gh.signal('SIGTERM')
    const draining = await until(ready, (r) => r.status === 503)
    assert.equal(draining.body.code, 'GH_ERR_SERVER_SHUTTING_DOWN')
    assert.equal(draining.body.message, 'not ready: shutting down')
    held.shift()!()
    assert.equal(await (await pending).text(), 'late')
    assert.equal((await gh.exited).code, 0)
    await assert.rejects(gh.status('/status'), 'the status listener is closed')
  })
})

describe('the status_listen setting', () => {
  let off: GatehouseProcess
  let fromEnv: GatehouseProcess
  before(async () => {
    ;[off, fromEnv] = await Promise.all([
      startGatehouse({ config: { _format_version: '3.0' } }),
      startGatehouse({ config: { _format_version: '3.0' }, env: { GATEHOUSE_STATUS_LISTEN: '127.0.0.1:0' } }),
    ])
  })
  after(async () => {
    await Promise.all([off?.stop(), fromEnv?.stop()])
  })

  it('is off by default: the started line names no status listener', async () => {
    const started = await off.waitForLog((l) => l.msg === 'gatehouse started')
    assert.equal(started.status, undefined)
    const node = (await (await off.admin('/')).json()) as { configuration: { status_listen: string } }
    assert.equal(node.configuration.status_listen, 'off')
  })

  it('listens where GATEHOUSE_STATUS_LISTEN says', async () => {
    const started = await fromEnv.waitForLog((l) => l.msg === 'gatehouse started')
    assert.match(String(started.status), /^127\.0\.0\.1:\d+$/)
    const res = await fetch(`http://${started.status}/status/ready`)
    assert.equal(res.status, 200)
    assert.deepEqual(await res.json(), { message: 'ready', checks: { configuration: 'ok' } })
  })

  it('refuses a bad --status-listen with exit 2, naming the flag', async () => {
    const { dir, file } = writeTempConfig({ _format_version: '3.0' })
    try {
      const bad = await runCli(['start', '--config', file, '--status-listen', '127.0.0.1:99999'])
      assert.equal(bad.code, 2)
      assert.equal(
        bad.stderr,
        "gatehouse: --status-listen: invalid listen address '127.0.0.1:99999': port must be 0..65535\n",
      )
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
