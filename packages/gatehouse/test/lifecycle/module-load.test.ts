/**
 * A process loads only what its configuration uses. A real `gatehouse start` (a primary, two workers and
 * the standby) with a plain configuration (one service, one route, the jwt plugin) serves requests
 * without any of its processes loading OpenTelemetry's SDK, ioredis, the identity provider
 * (oidc-provider), WebAuthn, nodemailer or qrcode. With the opentelemetry plugin, a `redis` section and
 * the identity provider they are loaded (the tracing SDK by every worker before it is given a slot) and
 * each works: a trace reaches a real OTLP receiver, a rate-limit counter is in a real redis-server, the
 * provider answers discovery. A load hook preloaded into every process records what it loads
 * (harness/module-log.ts).
 */
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { Redis } from 'ioredis'
import { SignJWT } from 'jose'
import { startGatehouse } from '../harness/gatehouse.ts'
import { loadedModules, moduleLogEnv } from '../harness/module-log.ts'
import { OtlpReceiver } from '../harness/otlp-receiver.ts'
import { type RedisServer, redisSkipReason, startRedis } from '../harness/redis.ts'
import { startUpstream, type Upstream } from '../harness/upstream.ts'
import { freePort, identitySection } from '../identity/support/gateway.ts'

const JWT_SECRET = 'module-load-secret-0123456789abcdef'
/** The primary and the workers build the configuration, and a new worker prepares its plugins. */
const WORKERS = '2'

/** What only some configurations use, by the package folder its modules load from. */
const OPTIONAL = {
  tracing: [
    '/node_modules/@opentelemetry/sdk-trace',
    '/node_modules/@opentelemetry/exporter-trace-otlp-http/',
  ],
  redis: ['/node_modules/ioredis/'],
  identity: ['/node_modules/oidc-provider/'],
  others: ['/node_modules/@simplewebauthn/', '/node_modules/nodemailer/', '/node_modules/qrcode/'],
}

/** Loaded modules under any of `folders` (the list, so a failure names them). */
const under = (modules: readonly string[], folders: readonly string[]) =>
  modules.filter((url) => folders.some((f) => url.includes(f)))

describe('the modules a gateway loads', () => {
  let dir: string
  let upstream: Upstream
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-modules-'))
    upstream = await startUpstream()
  })
  after(async () => {
    await upstream?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  /** A fresh directory for the module logs of one gateway's processes. */
  const logDir = (name: string) => {
    const path = join(dir, name)
    mkdirSync(path)
    return path
  }

  it('with a plain configuration: no tracing, Redis, identity-provider, WebAuthn, mail or QR module', async () => {
    const log = logDir('plain')
    const gh = await startGatehouse({
      config: {
        _format_version: '3.0',
        services: [
          {
            name: 'svc',
            url: upstream.url,
            routes: [{ name: 'api', paths: ['/api'], plugins: [{ name: 'jwt' }] }],
          },
        ],
        consumers: [{ username: 'app', jwt_secrets: [{ key: 'app', secret: JWT_SECRET }] }],
      },
      env: { ...moduleLogEnv(log), GATEHOUSE_WORKERS: WORKERS },
    })
    try {
      assert.equal((await gh.proxy('/api')).status, 401)
      const token = await new SignJWT({ iss: 'app' })
        .setProtectedHeader({ alg: 'HS256' })
        .sign(new TextEncoder().encode(JWT_SECRET))
      const res = await gh.proxy('/api/x', { headers: { authorization: `Bearer ${token}` } })
      assert.equal(res.status, 200)
    } finally {
      await gh.stop()
    }
    const processes = loadedModules(log)
    assert.ok(processes.size >= 3, `the primary and two workers wrote their modules (${processes.size})`)
    const modules = [...processes.values()].flat()
    assert.ok(
      modules.some((url) => url.endsWith('/src/gateway.ts')),
      'the hook saw the gateway load',
    )
    for (const [feature, folders] of Object.entries(OPTIONAL))
      assert.deepEqual(under(modules, folders), [], `${feature}: nothing loaded`)
    // prom-client (metrics, in every process) requires the OpenTelemetry API itself, for exemplars;
    // nothing else of OpenTelemetry may load, and none of our tracing modules.
    const otel = modules.filter(
      (url) =>
        url.includes('/node_modules/@opentelemetry/') && !url.includes('/node_modules/@opentelemetry/api/'),
    )
    assert.deepEqual(otel, [])
    assert.deepEqual(under(modules, ['/src/observability/tracing/', '/src/plugins/opentelemetry/sdk.ts']), [])
  })

  it('with the opentelemetry plugin, a redis section and the identity provider: each loads and works', {
    skip: redisSkipReason(),
  }, async () => {
    const log = logDir('full')
    const receiver = await new OtlpReceiver().listen()
    let redis: RedisServer | null = null
    try {
      redis = await startRedis()
      const port = await freePort()
      const issuer = `http://127.0.0.1:${port}/oidc`
      const gh = await startGatehouse({
        config: {
          _format_version: '3.0',
          identity: identitySection(issuer),
          redis: { url: redis.url },
          services: [
            {
              name: 'svc',
              url: upstream.url,
              routes: [
                {
                  name: 'traced',
                  paths: ['/traced'],
                  plugins: [
                    {
                      name: 'opentelemetry',
                      config: {
                        traces_endpoint: receiver.url,
                        queue: { max_coalescing_delay: 0.05 },
                        http_response_header_for_traceid: 'X-Trace-Id',
                      },
                    },
                    { name: 'rate-limiting', config: { policy: 'redis', minute: 100, limit_by: 'ip' } },
                  ],
                },
              ],
            },
          ],
        },
        args: ['--proxy-listen', `127.0.0.1:${port}`],
        env: { ...moduleLogEnv(log), GATEHOUSE_WORKERS: WORKERS },
      })
      try {
        const res = await gh.proxy('/traced')
        assert.equal(res.status, 200)
        assert.equal(res.headers.get('x-ratelimit-remaining-minute'), '99')
        const traceId = res.headers.get('x-trace-id')
        assert.ok(traceId, 'the response names its trace')
        await receiver.waitForSpan(traceId, 'GET /traced')
        const raw = new Redis(redis.port, '127.0.0.1', { lazyConnect: true })
        try {
          assert.equal((await raw.keys('gatehouse:rl:*')).length, 1, 'the counter is in Redis')
        } finally {
          raw.disconnect()
        }
        const discovery = await gh.proxy('/oidc/.well-known/openid-configuration')
        assert.equal(discovery.status, 200)
        assert.equal(((await discovery.json()) as { issuer: string }).issuer, issuer)
        // Every worker, the standby included, prepares the tracing plugin while it loads, before it is
        // given a slot: the two serving workers and the standby (pids other than the primary's) load it.
        const preparedWorkers = () =>
          [...loadedModules(log)].filter(
            ([pid, loaded]) =>
              pid !== gh.child.pid && loaded.some((url) => url.includes(OPTIONAL.tracing[0]!)),
          ).length
        for (let i = 0; preparedWorkers() < 3; i++) {
          assert.ok(
            i < 600,
            `the standby prepared the tracing plugin (workers that did: ${preparedWorkers()})`,
          )
          await sleep(50)
        }
      } finally {
        await gh.stop()
      }
      const processes = loadedModules(log)
      const modules = [...processes.values()].flat()
      for (const feature of ['tracing', 'redis', 'identity'] as const)
        for (const folder of OPTIONAL[feature])
          assert.ok(
            modules.some((url) => url.includes(folder)),
            `${feature}: a module under ${folder} loaded`,
          )
    } finally {
      await receiver.close()
      await redis?.stop()
    }
  })
})
