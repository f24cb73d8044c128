/**
 * Starts the whole shop as separate processes on loopback, the way start.ts and the tests run it:
 *
 *   1. the proxy port (GATEHOUSE_PROXY_LISTEN, default 0.0.0.0:8000; port 0 picks a free one now,
 *      because the issuer URL and the services' JWKS URL must name it before anything starts);
 *   2. the seven services, each on a port of its own choosing, announced on its stdout;
 *   3. Gatehouse with examples/shop/gatehouse.yaml, every address and secret in its environment;
 *   4. ready when Gatehouse logged "gatehouse started" and both the discovery document and the store
 *      page answer 200 through it.
 *
 * Passwords and secrets are random on every run. If any process fails to start, the others are stopped
 * and the error carries its output. Once running, a service stopped on purpose (exit code 0, e.g. `kill
 * PID` to see the product page without it) is only reported (`onServiceStopped`); a process that crashes
 * (another code, or killed by a signal), or Gatehouse stopping at all, settles `failed`.
 */
import { randomBytes } from 'node:crypto'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'
import { Child, ChildFailed, type Spawn } from './child.ts'
import { INTERNAL_ISSUER } from './service.ts'

export const SERVICES = [
  'users',
  'catalog',
  'reviews',
  'recommendations',
  'promotions',
  'basket',
  'web',
] as const
export type ServiceName = (typeof SERVICES)[number]

const CONFIG = fileURLToPath(new URL('../gatehouse.yaml', import.meta.url))
const GATEHOUSE = fileURLToPath(new URL('../../../packages/gatehouse/bin/gatehouse.js', import.meta.url))
const serviceFile = (name: ServiceName) => fileURLToPath(new URL(`../services/${name}.ts`, import.meta.url))

export interface ShopOptions {
  /** Where the proxy listens, HOST:PORT. Default: GATEHOUSE_PROXY_LISTEN, else 0.0.0.0:8000. */
  readonly proxyListen?: string
  /** The environment Gatehouse and the services start from. Default: process.env. */
  readonly env?: NodeJS.ProcessEnv
  /** Every line a process writes, for start.ts to show. */
  readonly onLine?: (source: string, line: string, stream: 'stdout' | 'stderr') => void
  /** Milliseconds to wait for everything to be ready. Default 30000. */
  readonly timeout?: number
  /** Aborting it while starting stops what has started, and startShop rejects. */
  readonly signal?: AbortSignal
  /** A service exited with code 0 on its own: the shop goes on without it. */
  readonly onServiceStopped?: (name: ServiceName) => void
  /** How each process is started (the tests bind them to the test process). Default: node's spawn. */
  readonly spawn?: Spawn
}

export interface Account {
  readonly username: string
  readonly password: string
  readonly id: string
  readonly summary: string
}

export interface Shop {
  /** The store for a browser: http://localhost:PORT when the proxy listens on every interface. */
  readonly url: string
  /** The same on 127.0.0.1 (the issuer's host). */
  readonly base: string
  readonly issuer: string
  readonly adminUrl: string
  readonly accounts: { readonly alice: Account; readonly bob: Account }
  readonly partner: { readonly clientId: string; readonly secret: string }
  readonly gatehouse: Child
  readonly services: Readonly<Record<ServiceName, Child & { url: string }>>
  /** Settles when a process crashes or Gatehouse stops on its own (never while stopping). */
  readonly failed: Promise<ChildFailed>
  /** Stops every process (services and Gatehouse in parallel) and waits until all are gone. */
  stop(): Promise<void>
}

const secret = (bytes = 32) => randomBytes(bytes).toString('base64url')

/** A password the identity provider accepts (12+ characters, not a common one): 26 random characters. */
const password = () => `${secret(6)}-${secret(6)}-${secret(6)}`

export async function startShop(options: ShopOptions = {}): Promise<Shop> {
  const baseEnv = options.env ?? process.env
  const timeout = options.timeout ?? 30_000
  const listen = await proxyAddress(options.proxyListen ?? baseEnv.GATEHOUSE_PROXY_LISTEN ?? '0.0.0.0:8000')
  const base = `http://127.0.0.1:${listen.port}`
  const url = listen.everywhere ? `http://localhost:${listen.port}` : base
  const issuer = `${base}/auth`
  const children: Child[] = []
  let stopping = false
  const stop = async () => {
    stopping = true
    await Promise.all(children.map((c) => c.stop()))
  }
  const checkAborted = () => {
    if (options.signal?.aborted) throw new Error('stopped while starting')
  }
  options.signal?.addEventListener('abort', () => void stop(), { once: true })

  try {
    checkAborted()
    const jwks = `${base}/.well-known/gatehouse/jwks.json`
    const started = await Promise.all(
      SERVICES.map(async (name) => {
        const child = new Child({
          name,
          args: [serviceFile(name)],
          env: {
            ...baseEnv,
            PORT: '0',
            GATEHOUSE_JWKS_URL: jwks,
            GATEHOUSE_INTERNAL_ISSUER: INTERNAL_ISSUER,
          },
          ipc: true,
          onLine: (line, stream) => options.onLine?.(name, line, stream),
          ...(options.spawn ? { spawn: options.spawn } : {}),
        })
        children.push(child)
        const ready = await child.waitForJson<{ url: string }>((l) => l.msg === 'service ready', timeout)
        return [name, Object.assign(child, { url: ready.url })] as const
      }),
    )
    const services = Object.fromEntries(started) as Record<ServiceName, Child & { url: string }>
    checkAborted()

    const accounts = {
      alice: { username: 'alice', password: password(), id: 'u-alice', summary: 'premium customer in GB' },
      bob: { username: 'bob', password: password(), id: 'u-bob', summary: 'standard customer in US' },
    }
    const partner = { clientId: 'shop-partner', secret: secret() }
    const local = `http://localhost:${listen.port}`
    const gatehouse = new Child({
      name: 'gatehouse',
      args: [GATEHOUSE, 'start', '--config', CONFIG, '--proxy-listen', `${listen.host}:${listen.port}`],
      env: {
        ...baseEnv,
        SHOP_ISSUER: issuer,
        SHOP_IDENTITY_SECRET: secret(),
        SHOP_WEB_SECRET: secret(),
        SHOP_SESSION_SECRET: secret(),
        SHOP_PARTNER_SECRET: partner.secret,
        SHOP_ALICE_PASSWORD: accounts.alice.password,
        SHOP_BOB_PASSWORD: accounts.bob.password,
        SHOP_CALLBACK_URL: `${base}/callback`,
        SHOP_CALLBACK_URL_LOCALHOST: `${local}/callback`,
        SHOP_HOME_URL: `${base}/`,
        SHOP_HOME_URL_LOCALHOST: `${local}/`,
        SHOP_WEB_URL: services.web.url,
        SHOP_CATALOG_URL: `${services.catalog.url}/products`,
        SHOP_BASKET_URL: `${services.basket.url}/basket`,
        SHOP_ORDERS_URL: `${services.basket.url}/orders`,
        SHOP_REVIEWS_URL: services.reviews.url,
        SHOP_RECOMMENDATIONS_URL: services.recommendations.url,
        SHOP_PROMOTIONS_URL: services.promotions.url,
        SHOP_USERS_ENRICH_URL: `${services.users.url}/users/{sub}`,
      },
      onLine: (line, stream) => options.onLine?.('gatehouse', line, stream),
      ...(options.spawn ? { spawn: options.spawn } : {}),
    })
    children.push(gatehouse)
    const startedLine = await gatehouse.waitForJson<{ admin: string }>(
      (l) => l.msg === 'gatehouse started',
      timeout,
    )
    await Promise.all([
      untilOk(`${issuer}/.well-known/openid-configuration`, children, timeout),
      untilOk(`${base}/`, children, timeout),
    ])
    checkAborted()

    const failed = new Promise<ChildFailed>((resolve) => {
      for (const child of children)
        child.exited.then(({ code, signal }) => {
          // Ctrl-C in a terminal signals every process of the group at once: a child that stopped cleanly
          // may be seen a moment before our own SIGINT. Give that moment before deciding anything.
          const decide = () => {
            if (stopping) return
            if (code === 0 && child !== gatehouse) options.onServiceStopped?.(child.name as ServiceName)
            else resolve(new ChildFailed(child, `stopped on its own (${signal ?? `exit code ${code}`})`))
          }
          if (code === 0 || signal === 'SIGINT' || signal === 'SIGTERM') setTimeout(decide, 300)
          else decide()
        })
    })
    return {
      url,
      base,
      issuer,
      adminUrl: `http://${startedLine.admin}`,
      accounts,
      partner,
      gatehouse,
      services,
      failed,
      stop,
    }
  } catch (err) {
    await stop()
    throw err
  }
}

interface ProxyAddress {
  readonly host: string
  readonly port: number
  /** Listening on every interface (0.0.0.0 or ::), so a browser may use localhost. */
  readonly everywhere: boolean
}

/**
 * The proxy's host and port. The issuer must be reachable by the gateway itself over plain http, so the
 * host must be a loopback address or every interface. Port 0 becomes a free port now.
 */
async function proxyAddress(listen: string): Promise<ProxyAddress> {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(listen)
  if (m === null) throw new TypeError(`GATEHOUSE_PROXY_LISTEN: expected HOST:PORT, got ${listen}`)
  const host = m[1] ?? m[2] ?? ''
  const everywhere = host === '' || host === '0.0.0.0' || host === '::'
  if (!everywhere && host !== '127.0.0.1' && host !== 'localhost')
    throw new TypeError(
      `GATEHOUSE_PROXY_LISTEN: the demo listens on 127.0.0.1 or 0.0.0.0 (its identity provider is http://127.0.0.1:PORT/auth), not ${host}`,
    )
  const bindHost = everywhere ? '0.0.0.0' : '127.0.0.1'
  let port = Number(m[3])
  if (port === 0) port = await freePort(bindHost)
  return { host: bindHost, port, everywhere }
}

function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, host, () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

/** Polls `url` until it answers 200 (or a process exits, or time runs out). */
async function untilOk(url: string, children: readonly Child[], timeout: number): Promise<void> {
  const deadline = Date.now() + timeout
  let last = 'no answer'
  while (Date.now() < deadline) {
    const gone = children.find((c) => !c.running)
    if (gone !== undefined) throw new ChildFailed(gone, 'exited before the shop was ready')
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) })
      await res.arrayBuffer()
      if (res.status === 200) return
      last = `status ${res.status}`
    } catch (err) {
      last = (err as Error).message
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`${url} did not answer 200 within ${timeout / 1000} s (${last})`)
}
