/**
 * What the process writes: the started line, one access-log line per request (errors and client aborts
 * included), and never a token, cookie, API key or vault-resolved secret, whatever the request or the
 * configuration error.
 */
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { rmSync } from 'node:fs'
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http'
import { after, before, describe, it } from 'node:test'
import {
  type GatehouseProcess,
  type LogLine,
  runCli,
  startGatehouse,
  writeTempConfig,
} from '../harness/gatehouse.ts'
import { closedPort, echoHandler, startUpstream, type Upstream } from '../harness/upstream.ts'

const hashOf = (config: object) => createHash('sha256').update(JSON.stringify(config)).digest('hex')

/** A string that appears nowhere unless we put it there. */
const distinctive = (label: string) => `${label}-${randomBytes(12).toString('hex')}`

const ACCESS_FIELDS = [
  'request_id',
  'method',
  'path',
  'route',
  'service',
  'consumer',
  'status',
  'latency_ms',
  'upstream_latency_ms',
  'client_ip',
  'bytes_sent',
]

function gatewayConfig(upstreamUrl: string, deadPort: number, extra: object = {}): object {
  return {
    _format_version: '3.0',
    services: [
      { name: 'svc', url: upstreamUrl, routes: [{ name: 'api', paths: ['/api'] }] },
      {
        name: 'dead-svc',
        url: `http://127.0.0.1:${deadPort}`,
        retries: 0,
        routes: [{ name: 'dead', paths: ['/dead'] }],
      },
    ],
    ...extra,
  }
}

/**
 * Echoes, except `/api/stream`: a response that never ends (a chunk every 10 ms); `streamClosed`
 * resolves with whether the gateway abandoned it before the end.
 */
async function loggingUpstream(): Promise<{ upstream: Upstream; streamClosed: Promise<boolean> }> {
  let onClosed!: (abandoned: boolean) => void
  const streamClosed = new Promise<boolean>((resolve) => {
    onClosed = resolve
  })
  const upstream = await startUpstream((req: IncomingMessage, res: ServerResponse) => {
    if (req.url !== '/stream') {
      echoHandler(req, res)
      return
    }
    req.resume()
    res.writeHead(200, { 'content-type': 'text/plain' })
    const ticker = setInterval(() => res.write('chunk;'), 10)
    res.once('close', () => {
      clearInterval(ticker)
      onClosed(!res.writableFinished)
    })
  })
  return { upstream, streamClosed }
}

/** The access line of `requestId`, once written (lines reach stdout within ~100 ms). */
function accessLine(gh: GatehouseProcess, requestId: string): Promise<LogLine> {
  return gh.waitForLog((l) => l.type === 'access' && l.request_id === requestId)
}

describe('the access log', () => {
  let upstream: Upstream
  let streamClosed: Promise<boolean>
  let gh: GatehouseProcess
  let config: object
  before(async () => {
    ;({ upstream, streamClosed } = await loggingUpstream())
    config = gatewayConfig(upstream.url, await closedPort())
    gh = await startGatehouse({ config })
  })
  after(async () => {
    await gh.stop()
    await upstream.close()
  })

  it('starts with a line naming the proxy and admin addresses and the configuration hash', async () => {
    const started = gh.lines.find((l) => l.msg === 'gatehouse started')!
    assert.equal(started.level, 'info')
    assert.match(started.proxy as string, /^127\.0\.0\.1:\d+$/)
    assert.match(started.admin as string, /^127\.0\.0\.1:\d+$/)
    assert.notEqual(started.proxy, started.admin)
    assert.equal(started.config_hash, hashOf(config))
    const status = (await (await fetch(`http://${started.admin as string}/config`)).json()) as {
      config_hash: string
    }
    assert.equal(status.config_hash, started.config_hash)
    const proxied = await fetch(`http://${started.proxy as string}/api/ping`)
    assert.equal(proxied.status, 200)
    await proxied.arrayBuffer()
  })

  it('writes one line per request with the route, service, status, timings and sizes', async () => {
    const ids = ['one-1', 'one-2', 'one-3']
    const bodies: string[] = []
    for (const id of ids) {
      const res = await gh.proxy(`/api/items/${id}?page=2`, { headers: { 'x-request-id': id } })
      assert.equal(res.status, 200)
      bodies.push(await res.text())
    }
    // Lines are written in order: once the sentinel's is in, any duplicate of the others would be too.
    await (await gh.proxy('/api/sentinel', { headers: { 'x-request-id': 'one-sentinel' } })).arrayBuffer()
    await accessLine(gh, 'one-sentinel')

    for (const [i, id] of ids.entries()) {
      const lines = gh.accessLines().filter((l) => l.request_id === id)
      assert.equal(lines.length, 1, `one line for ${id}`)
      const line = lines[0]!
      for (const field of ACCESS_FIELDS) assert.ok(field in line, `${field} is logged`)
      assert.equal(line.level, 'info')
      assert.equal(line.msg, 'request')
      assert.equal(line.method, 'GET')
      assert.equal(line.path, `/api/items/${id}`)
      assert.equal(line.route, 'api')
      assert.equal(line.service, 'svc')
      assert.equal(line.consumer, null)
      assert.equal(line.status, 200)
      assert.equal(typeof line.latency_ms, 'number')
      assert.equal(typeof line.upstream_latency_ms, 'number')
      assert.ok((line.upstream_latency_ms as number) <= (line.latency_ms as number))
      assert.equal(line.client_ip, '127.0.0.1')
      assert.equal(line.bytes_sent, Buffer.byteLength(bodies[i]!))
      assert.equal(line.error_code, undefined)
    }
  })

  it('logs a request no route matches as 404 with its error code', async () => {
    const res = await gh.proxy('/nowhere', { headers: { 'x-request-id': 'log-404' } })
    assert.equal(res.status, 404)
    const body = await res.text()
    const line = await accessLine(gh, 'log-404')
    assert.equal(line.status, 404)
    assert.equal(line.route, null)
    assert.equal(line.service, null)
    assert.equal(line.upstream_latency_ms, null)
    assert.equal(line.error_code, 'GH_ERR_ROUTE_NOT_FOUND')
    assert.equal(line.bytes_sent, Buffer.byteLength(body))
  })

  it('logs a request to an unreachable upstream as 502 with its error code', async () => {
    const res = await gh.proxy('/dead/x', { headers: { 'x-request-id': 'log-502' } })
    assert.equal(res.status, 502)
    await res.arrayBuffer()
    const line = await accessLine(gh, 'log-502')
    assert.equal(line.status, 502)
    assert.equal(line.route, 'dead')
    assert.equal(line.service, 'dead-svc')
    assert.equal(line.upstream_latency_ms, null)
    assert.equal(line.error_code, 'GH_ERR_UPSTREAM_UNAVAILABLE')
  })

  it('logs a client that disconnects mid-response as 499 and cancels the upstream request', async () => {
    await new Promise<void>((resolve, reject) => {
      const req = httpRequest(
        `${gh.proxyUrl}/api/stream`,
        { agent: false, headers: { 'x-request-id': 'log-499' } },
        (res) => {
          assert.equal(res.statusCode, 200)
          res.once('data', () => {
            req.destroy()
            resolve()
          })
        },
      )
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (!req.destroyed) reject(err)
      })
      req.end()
    })
    const line = await accessLine(gh, 'log-499')
    assert.equal(line.status, 499)
    assert.equal(line.route, 'api')
    assert.equal(typeof line.upstream_latency_ms, 'number')
    assert.equal(await streamClosed, true)
  })
})

describe('the log level from the environment', () => {
  it('treats an empty GATEHOUSE_LOG_LEVEL as unset', async () => {
    const gh = await startGatehouse({
      config: { _format_version: '3.0', logging: { level: 'info' } },
      env: { GATEHOUSE_LOG_LEVEL: '' },
    })
    assert.deepEqual(await gh.stop(), { code: 0, signal: null })
    assert.ok(gh.lines.some((l) => l.msg === 'stopped'))
  })

  it('refuses an unknown GATEHOUSE_LOG_LEVEL with a message naming the variable', async () => {
    const { dir, file } = writeTempConfig({ _format_version: '3.0' })
    try {
      const result = await runCli(
        ['start', '--config', file, '--proxy-listen', '127.0.0.1:0', '--admin-listen', '127.0.0.1:0'],
        { GATEHOUSE_LOG_LEVEL: 'verbose' },
      )
      assert.equal(result.code, 1)
      const [first, ...rest] = result.stderr.split('\n')
      assert.equal(
        first,
        'GATEHOUSE_LOG_LEVEL: unknown log level; expected one of fatal, error, warn, info, debug, trace, silent',
      )
      assert.ok(!rest.some((l) => /^\s+at /.test(l)), `no stack trace:\n${result.stderr}`)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('secrets in requests and configuration', () => {
  const secrets = {
    bearer: distinctive('bearer'),
    cookie: distinctive('cookie'),
    jwt: distinctive('jwt'),
    apikey: distinctive('apikey'),
    proxyAuth: distinctive('proxyauth'),
    adminToken: distinctive('admintoken'),
    wrongAdminToken: distinctive('wrongadmin'),
    routeKey: distinctive('routekey'),
    shortToken: `t${randomBytes(5).toString('hex')}`, // too short for admin.token
    upstreamPassword: distinctive('upstreampw'),
    badPattern: distinctive('badpattern'),
    badPath: distinctive('badpath'),
  }
  const env = {
    GH_TEST_ADMIN_TOKEN: secrets.adminToken,
    GH_TEST_ROUTE_KEY: secrets.routeKey,
    GH_TEST_SHORT_TOKEN: secrets.shortToken,
    GH_TEST_UPSTREAM_URL: `http://gatehouse:${secrets.upstreamPassword}@127.0.0.1:9/`,
    GH_TEST_BAD_PATTERN: `~*(${secrets.badPattern}`,
    GH_TEST_BAD_PATH: `~/(${secrets.badPath}`,
  }
  let upstream: Upstream
  let gh: GatehouseProcess
  let deadPort: number

  /** A route only requests carrying the vault-held key reach, and the admin token from the vault. */
  const withSecrets = (extra: object = {}, routeKey = '{vault://env/GH_TEST_ROUTE_KEY}') =>
    gatewayConfig(upstream.url, deadPort, {
      routes: [
        { name: 'internal', service: 'svc', paths: ['/internal'], headers: { 'x-internal-key': [routeKey] } },
      ],
      admin: { token: '{vault://env/GH_TEST_ADMIN_TOKEN}' },
      ...extra,
    })

  /**
   * Values from the vault that are invalid where they are used, and the key paths reported for them: an
   * admin token that is too short (found by the schema), an upstream URL with a password, and header and
   * path patterns that are not regular expressions (whose error messages would quote them).
   */
  const badSecretConfigs = (): { config: object; paths: string[] }[] => {
    const leaky = withSecrets() as { services: object[] }
    leaky.services.push({ name: 'leaky', url: '{vault://env/GH_TEST_UPSTREAM_URL}' })
    const patterns = withSecrets({}, '{vault://env/GH_TEST_BAD_PATTERN}') as { routes: { paths: string[] }[] }
    patterns.routes[0]!.paths = ['{vault://env/GH_TEST_BAD_PATH}']
    return [
      {
        config: withSecrets({ admin: { token: '{vault://env/GH_TEST_SHORT_TOKEN}' } }),
        paths: ['admin.token'],
      },
      { config: leaky, paths: ['services[2].url'] },
      { config: patterns, paths: ['routes[0].headers.x-internal-key[0]', 'routes[0].paths[0]'] },
    ]
  }

  /** `gatehouse start` and `gatehouse config check` refuse `config`, naming `paths`, with no secret. */
  const assertRefusedQuietly = async (config: object, paths: string[]) => {
    const { dir, file } = writeTempConfig(config)
    try {
      const started = await runCli(
        ['start', '--config', file, '--proxy-listen', '127.0.0.1:0', '--admin-listen', '127.0.0.1:0'],
        env,
      )
      assert.equal(started.code, 1)
      for (const path of paths) assert.ok(started.stderr.includes(`${file}: ${path}: `), started.stderr)
      assertNoSecretIn(started.stdout + started.stderr)
      const checked = await runCli(['config', 'check', file], env)
      assert.equal(checked.code, 1)
      assertNoSecretIn(checked.stdout + checked.stderr)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }

  before(async () => {
    ;({ upstream } = await loggingUpstream())
    deadPort = await closedPort()
    gh = await startGatehouse({ config: withSecrets(), env })
  })
  after(async () => {
    await gh.stop()
    await upstream.close()
  })

  const admin = (path: string, init: RequestInit = {}, token = secrets.adminToken) =>
    gh.admin(path, { ...init, headers: { ...init.headers, authorization: `Bearer ${token}` } })

  const assertNoSecretIn = (output: string) => {
    for (const [name, value] of Object.entries(secrets)) {
      assert.ok(!output.includes(value), `${name} appears in the output:\n${output}`)
    }
  }

  it('writes no token, cookie, API key or vault-resolved secret to stdout or stderr', async () => {
    const credentials = {
      authorization: `Bearer ${secrets.bearer}`,
      cookie: `session=${secrets.cookie}`,
      'proxy-authorization': `Bearer ${secrets.proxyAuth}`,
      'x-internal-key': secrets.routeKey,
    }
    const query = `?jwt=${secrets.jwt}&apikey=${secrets.apikey}`
    for (const [path, status] of [
      ['/internal/x', 200],
      ['/api/x', 200],
      ['/nowhere', 404],
      ['/dead/x', 502],
    ] as const) {
      const res = await gh.proxy(`${path}${query}`, { headers: credentials })
      assert.equal(res.status, status, path)
      await res.arrayBuffer()
    }
    const echoed = (await (await gh.proxy(`/internal/y${query}`, { headers: credentials })).json()) as {
      headers: Record<string, string>
    }
    assert.equal(echoed.headers.authorization, credentials.authorization, 'the upstream still gets them')

    // Admin API: a wrong token, then the vault-held one.
    assert.equal((await admin('/status', {}, secrets.wrongAdminToken)).status, 401)
    assert.equal((await admin('/status')).status, 200)
    const posted = await admin('/config', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(withSecrets({ _comment: 'reloaded' })),
    })
    assert.equal(posted.status, 201)

    // Rejected configurations whose bad values came from the vault, by POST /config and by SIGHUP.
    for (const { config, paths } of badSecretConfigs()) {
      const rejected = await admin('/config', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(config),
      })
      assert.equal(rejected.status, 400)
      const answer = await rejected.text()
      assertNoSecretIn(answer)
      const before = new Set(gh.lines)
      gh.writeConfig(config)
      gh.signal('SIGHUP')
      // Matched by source: the POST's own rejection line may be flushed after `before` was taken.
      const line = await gh.waitForLog(
        (l) => !before.has(l) && l.msg.startsWith('reload rejected') && l.source === gh.configFile,
      )
      const reported = (line.errors as { path: string }[]).map((e) => e.path)
      for (const path of paths) assert.ok(reported.includes(path), `${path} in ${reported.join(', ')}`)
    }

    await gh.stop() // flushes everything written
    assert.ok(gh.accessLines().length >= 5)
    assertNoSecretIn(gh.stdout + gh.stderr)
  })

  it('prints no vault-resolved secret when the configuration is refused at start or by config check', async () => {
    for (const { config, paths } of badSecretConfigs()) await assertRefusedQuietly(config, paths)
  })
})
