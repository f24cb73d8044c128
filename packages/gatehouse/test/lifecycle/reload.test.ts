/**
 * Reloading the configuration of a running gateway (SIGHUP and POST /config): routes swap atomically, a
 * bad configuration is reported and the running one keeps serving, requests in flight across reloads
 * all succeed, and upstream connection pools survive reloads that do not change their service.
 */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { afterEach, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { Client } from 'undici'
import { type GatehouseProcess, type LogLine, startGatehouse } from '../harness/gatehouse.ts'
import { startUpstream, type Upstream } from '../harness/upstream.ts'

const LOADED = 'configuration loaded'
const REJECTED = 'reload rejected; keeping the running configuration'

/** The hash the gateway reports for a configuration (sha256 of its JSON form). */
const hashOf = (config: object) => createHash('sha256').update(JSON.stringify(config)).digest('hex')

/**
 * Two valid configurations. Route `stable` (service `svc`) is identical in both; `only-a`/`only-b` exist
 * in one each; service `moving` changes its connection settings, so its pool is replaced on every swap.
 */
function configs(upstreamUrl: string): { a: object; b: object } {
  const make = (variant: 'a' | 'b') => ({
    _format_version: '3.0',
    services: [
      {
        name: 'svc',
        url: upstreamUrl,
        routes: [
          { name: 'stable', paths: ['/stable'] },
          { name: `only-${variant}`, paths: [`/only-${variant}`] },
        ],
      },
      {
        name: 'moving',
        url: upstreamUrl,
        connect_timeout: variant === 'a' ? 5_000 : 6_000,
        routes: [{ name: 'moving', paths: ['/moving'] }],
      },
    ],
  })
  return { a: make('a'), b: make('b') }
}

/**
 * Replies `{seq, bytes, url}` after reading the whole body: `seq` is the client's `x-seq` header, so a
 * reply can be matched to its request; `x-delay` (ms) makes the reply slow.
 */
function sequenceHandler(req: IncomingMessage, res: ServerResponse): void {
  let bytes = 0
  req.on('data', (chunk: Buffer) => {
    bytes += chunk.length
  })
  req.on('end', () => {
    const reply = () => {
      const body = JSON.stringify({ seq: req.headers['x-seq'] ?? null, bytes, url: req.url })
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
      res.end(body)
    }
    const delay = Number(req.headers['x-delay'] ?? 0)
    if (delay > 0) setTimeout(reply, delay)
    else reply()
  })
}

/**
 * The next `configuration loaded` or `reload rejected` line from `source` written after this call.
 * Matching the source matters: log lines are flushed in batches, so an earlier reload's line can arrive
 * after this call.
 */
function nextReloadOutcome(gh: GatehouseProcess, source: string): Promise<LogLine> {
  const before = new Set(gh.lines)
  return gh.waitForLog(
    (l) => !before.has(l) && l.source === source && (l.msg === LOADED || l.msg === REJECTED),
  )
}

async function reloadBySignal(gh: GatehouseProcess, config: object | string): Promise<LogLine> {
  const outcome = nextReloadOutcome(gh, gh.configFile)
  gh.writeConfig(config)
  gh.signal('SIGHUP')
  return outcome
}

function postConfig(gh: GatehouseProcess, config: object): Promise<Response> {
  return gh.admin('/config', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(config),
  })
}

async function status(gh: GatehouseProcess, path: string): Promise<number> {
  const res = await gh.proxy(path)
  await res.arrayBuffer()
  return res.status
}

/** A file with two problems: an unknown key and a path without its leading slash. */
function invalidConfig(upstreamUrl: string): object {
  return {
    _format_version: '3.0',
    services: [
      {
        name: 'svc',
        url: upstreamUrl,
        routes: [{ name: 'broken', paths: ['no-slash'], stirp_path: true }],
      },
    ],
  }
}

const INVALID_ISSUES = [
  {
    path: 'services[0].routes[0].paths[0]',
    message: 'must start with "/" (prefix) or "~" (regular expression)',
  },
  { path: 'services[0].routes[0].stirp_path', message: "unknown key (did you mean 'strip_path'?)" },
]

const sortIssues = (issues: unknown) =>
  [...(issues as { path: string; message: string }[])].sort((x, y) => x.path.localeCompare(y.path))

describe('reloading the configuration', () => {
  let upstream: Upstream | undefined
  let gh: GatehouseProcess | undefined
  afterEach(async () => {
    await gh?.stop()
    await upstream?.close()
    gh = undefined
    upstream = undefined
  })

  it('swaps the routes on SIGHUP with a changed valid file and logs configuration loaded', async () => {
    upstream = await startUpstream(sequenceHandler)
    const { a, b } = configs(upstream.url)
    gh = await startGatehouse({ config: a })
    assert.equal(await status(gh, '/only-a'), 200)
    assert.equal(await status(gh, '/only-b'), 404)

    const line = await reloadBySignal(gh, b)
    assert.equal(line.msg, LOADED)
    assert.equal(line.level, 'info')
    assert.equal(line.source, gh.configFile)
    assert.equal(line.config_hash, hashOf(b))
    assert.equal(await status(gh, '/only-b'), 200)
    assert.equal(await status(gh, '/only-a'), 404)
    assert.equal(await status(gh, '/stable'), 200)
  })

  it('logs every problem of an invalid file on SIGHUP and keeps serving the running configuration', async () => {
    upstream = await startUpstream(sequenceHandler)
    const { a } = configs(upstream.url)
    gh = await startGatehouse({ config: a })

    const line = await reloadBySignal(gh, invalidConfig(upstream.url))
    assert.equal(line.msg, REJECTED)
    assert.equal(line.level, 'error')
    assert.equal(line.source, gh.configFile)
    assert.deepEqual(sortIssues(line.errors), INVALID_ISSUES)
    assert.equal(await status(gh, '/only-a'), 200)
    assert.equal(await status(gh, '/stable'), 200)
    const current = (await (await gh.admin('/config')).json()) as { config_hash: string }
    assert.equal(current.config_hash, hashOf(a))
  })

  it('logs a file that is not YAML on SIGHUP and keeps serving the running configuration', async () => {
    upstream = await startUpstream(sequenceHandler)
    const { a } = configs(upstream.url)
    gh = await startGatehouse({ config: a })

    const line = await reloadBySignal(gh, 'services: [unclosed\n')
    assert.equal(line.msg, REJECTED)
    assert.equal(line.level, 'error')
    const errors = line.errors as { path: string; message: string }[]
    assert.ok(errors.length > 0)
    for (const e of errors) {
      assert.equal(typeof e.path, 'string')
      assert.equal(typeof e.message, 'string')
      assert.ok(e.message.length > 0)
    }
    assert.equal(await status(gh, '/only-a'), 200)
  })

  it('swaps the routes on POST /config and logs configuration loaded', async () => {
    upstream = await startUpstream(sequenceHandler)
    const { a, b } = configs(upstream.url)
    gh = await startGatehouse({ config: a })

    const outcome = nextReloadOutcome(gh, 'POST /config')
    const res = await postConfig(gh, b)
    assert.equal(res.status, 201)
    const body = (await res.json()) as { message: string; config_hash: string }
    assert.equal(body.message, LOADED)
    assert.equal(body.config_hash, hashOf(b))
    const line = await outcome
    assert.equal(line.msg, LOADED)
    assert.equal(line.source, 'POST /config')
    assert.equal(line.config_hash, hashOf(b))
    assert.equal(await status(gh, '/only-b'), 200)
    assert.equal(await status(gh, '/only-a'), 404)
  })

  it('answers 400 with every problem on POST /config with an invalid configuration, logs them, and keeps serving', async () => {
    upstream = await startUpstream(sequenceHandler)
    const { a } = configs(upstream.url)
    gh = await startGatehouse({ config: a })

    const outcome = nextReloadOutcome(gh, 'POST /config')
    const res = await postConfig(gh, invalidConfig(upstream.url))
    assert.equal(res.status, 400)
    const body = (await res.json()) as { code: string; flattened_errors: unknown }
    assert.equal(body.code, 'GH_ERR_CONFIG_INVALID')
    assert.deepEqual(sortIssues(body.flattened_errors), INVALID_ISSUES)
    const line = await outcome
    assert.equal(line.msg, REJECTED)
    assert.equal(line.level, 'error')
    assert.equal(line.source, 'POST /config')
    assert.deepEqual(sortIssues(line.errors), INVALID_ISSUES)
    assert.equal(await status(gh, '/only-a'), 200)
  })

  it('serves every request with 200 and the right body while the configuration is reloaded under load', async () => {
    upstream = await startUpstream(sequenceHandler)
    const { a, b } = configs(upstream.url)
    const gateway = await startGatehouse({ config: a })
    gh = gateway

    const CLIENTS = 16
    const RELOADS = 12
    const REQUESTS_BETWEEN_RELOADS = 60
    const failures: string[] = []
    let completed = 0
    let inflight = 0
    let running = true

    const worker = async (id: number) => {
      const client = new Client(gateway.proxyUrl, { pipelining: 1 })
      try {
        for (let n = 0; running; n++) {
          const seq = `${id}-${n}`
          const path = n % 2 === 0 ? '/stable/items' : '/moving/items'
          const withBody = n % 3 === 1
          const body = withBody ? Buffer.alloc(1 + ((id * 7919 + n * 104_729) % 65_536), 0x61) : null
          const headers: Record<string, string> = { 'x-seq': seq, 'x-request-id': `load-${seq}` }
          if (n % 4 === 3) headers['x-delay'] = String(50 + ((id * 37 + n * 11) % 151))
          inflight++
          try {
            const res = await client.request({
              path,
              method: withBody ? 'POST' : 'GET',
              headers,
              body,
            })
            const text = await res.body.text()
            const expected = JSON.stringify({ seq, bytes: body?.length ?? 0, url: '/items' })
            if (res.statusCode !== 200 || text !== expected)
              failures.push(`${seq} ${path}: ${res.statusCode} ${text.slice(0, 300)}`)
          } catch (err) {
            failures.push(`${seq} ${path}: ${(err as Error).message}`)
          } finally {
            inflight--
            completed++
          }
        }
      } finally {
        await client.close()
      }
    }
    const workers = Array.from({ length: CLIENTS }, (_, id) => worker(id))

    const until = async (done: () => boolean) => {
      while (!done() && failures.length === 0) await sleep(5)
    }
    const inflightAtReload: number[] = []
    try {
      for (let i = 0; i < RELOADS; i++) {
        await until(() => completed >= (i + 1) * REQUESTS_BETWEEN_RELOADS)
        const next = i % 2 === 0 ? b : a
        inflightAtReload.push(inflight)
        if (i % 4 < 2) {
          const res = await postConfig(gateway, next)
          assert.equal(res.status, 201, await res.text())
        } else {
          const line = await reloadBySignal(gateway, next)
          assert.equal(line.msg, LOADED)
          assert.equal(line.config_hash, hashOf(next))
        }
      }
      await until(() => completed >= (RELOADS + 1) * REQUESTS_BETWEEN_RELOADS)
    } finally {
      running = false
      await Promise.all(workers)
    }

    assert.deepEqual(failures, [])
    assert.ok(
      completed >= (RELOADS + 1) * REQUESTS_BETWEEN_RELOADS,
      `only ${completed} requests ran across the reloads`,
    )
    assert.ok(
      inflightAtReload.every((n) => n > 0),
      `each reload should start while requests are in flight: ${inflightAtReload.join(', ')}`,
    )
    const loaded = gateway.lines.filter((l) => l.msg === LOADED)
    assert.equal(loaded.length, RELOADS)

    // Exactly one access line per request, all of them written out by the time the process exits.
    assert.deepEqual(await gateway.stop(), { code: 0, signal: null })
    const logged = gateway.accessLines().filter((l) => String(l.request_id).startsWith('load-'))
    assert.equal(logged.length, completed)
    assert.equal(new Set(logged.map((l) => l.request_id)).size, completed)
    assert.ok(logged.every((l) => l.status === 200))
  })

  it('applies proxy.shutdown_timeout on reload and warns only about settings that wait for a restart', async () => {
    upstream = await startUpstream(sequenceHandler)
    const { a } = configs(upstream.url)
    gh = await startGatehouse({ config: a })
    const changed = {
      ...a,
      proxy: { keepalive_timeout: 30_000, shutdown_timeout: 1_234, trusted_ips: ['10.0.0.0/8'] },
      logging: { level: 'debug', access_log: true },
    }
    assert.equal((await reloadBySignal(gh, changed)).msg, LOADED)
    const warning = await gh.waitForLog((l) => l.msg === 'settings changed that apply at the next restart')
    assert.equal(warning.level, 'warn')
    assert.deepEqual(warning.settings, ['proxy.keepalive_timeout', 'logging.level'])

    gh.signal('SIGTERM')
    const draining = await gh.waitForLog((l) => l.msg === 'shutting down')
    assert.equal(draining.timeout_ms, 1_234)
  })

  it('keeps upstream keep-alive connections across a reload that does not change the service', async () => {
    const up = await startUpstream(sequenceHandler)
    upstream = up
    // Longer than the test, so no connection ends for being idle and every new one is the gateway's choice.
    up.server.keepAliveTimeout = 120_000
    let connections = 0
    up.server.on('connection', () => {
      connections++
    })
    const { a, b } = configs(up.url)
    gh = await startGatehouse({ config: a })
    const sequential = async (path: string, count: number) => {
      for (let i = 0; i < count; i++) assert.equal(await status(gh!, path), 200)
    }

    await sequential('/stable', 5)
    assert.equal(connections, 1, 'sequential requests share one upstream connection')

    assert.equal((await reloadBySignal(gh, b)).msg, LOADED) // svc unchanged
    assert.equal((await postConfig(gh, a)).status, 201) // svc unchanged
    await sequential('/stable', 5)
    assert.equal(connections, 1, 'reloads that keep the service keep its connections')

    // Control: `moving` changes its connection settings at each reload, so it gets a new pool each time.
    await sequential('/moving', 2)
    assert.equal(connections, 2)
    assert.equal((await reloadBySignal(gh, b)).msg, LOADED)
    await sequential('/moving', 2)
    assert.equal(connections, 3, 'a service whose connection settings changed gets a new pool')
    await sequential('/stable', 2)
    assert.equal(connections, 3)
  })
})
