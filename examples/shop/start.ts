/**
 * `npm start`: the demo shop. Seven services and Gatehouse (gateway + identity provider), each a separate
 * process on loopback (lib/shop.ts), then the store's URL, the demo accounts with this run's passwords
 * and a few requests to try. Gatehouse's access log follows, one short line per request
 * (SHOP_LOG=json shows every process's raw output instead).
 *
 * Ctrl-C (SIGINT) or SIGTERM stops every process and exits 0. A service stopped on purpose (`kill PID`,
 * exit code 0) is reported and the shop goes on without it; if a process crashes or Gatehouse stops, the
 * others are stopped too, its last output is shown, and the exit code is 1.
 */
import type { ChildFailed } from './lib/child.ts'
import { type Shop, startShop } from './lib/shop.ts'

const raw = process.env.SHOP_LOG === 'json'
let ready = false
/** Requests before this instant (the readiness checks) are not shown. */
let readyAt = Number.POSITIVE_INFINITY
let stopping = false

function show(source: string, line: string, stream: 'stdout' | 'stderr'): void {
  if (raw) {
    process.stdout.write(`[${source}] ${line}\n`)
    return
  }
  if (source !== 'gatehouse') {
    if (stream === 'stderr') process.stderr.write(`  [${source}] ${line}\n`)
    return
  }
  if (!line.startsWith('{')) {
    process.stderr.write(`  [gatehouse] ${line}\n`)
    return
  }
  let entry: Record<string, unknown>
  try {
    entry = JSON.parse(line) as Record<string, unknown>
  } catch {
    return
  }
  if (entry.type === 'access') {
    if (stopping || Date.parse(String(entry.time)) < readyAt) return
    const failed = Array.isArray(entry.failed_parts) ? `  missing: ${entry.failed_parts.join(', ')}` : ''
    const code = typeof entry.error_code === 'string' ? `  ${entry.error_code}` : ''
    process.stdout.write(
      `  ${entry.status} ${String(entry.method).padEnd(6)} ${String(entry.path).padEnd(28)} ${String(entry.latency_ms).padStart(7)} ms  ${entry.route ?? '-'}${code}${failed}\n`,
    )
  } else if (entry.level === 'warn' || entry.level === 'error' || entry.level === 'fatal') {
    process.stderr.write(
      `  [gatehouse] ${entry.level}: ${entry.msg}${entry.error ? ` (${entry.error})` : ''}\n`,
    )
  }
}

function announce(shop: Shop): void {
  const { url, base, accounts, partner } = shop
  const width = Math.max(accounts.alice.password.length, accounts.bob.password.length)
  const services = Object.entries(shop.services)
    .map(([name, s]) => `${name.padEnd(16)} ${s.url.padEnd(24)} pid ${s.pid}`)
    .join('\n               ')
  process.stdout.write(`
  The Gatehouse demo shop is running.

  Store        ${url}
  Log in as    alice  ${accounts.alice.password.padEnd(width)}   (${accounts.alice.summary})
               bob    ${accounts.bob.password.padEnd(width)}   (${accounts.bob.summary})
  Orders       "Place order" asks for a second factor: the first time, set up any authenticator app
               (scan the QR code or type the key), then enter its 6-digit code
  Identity     ${shop.issuer}/.well-known/openid-configuration
  Admin API    ${shop.adminUrl}   (loopback only)
  Console      ${shop.adminUrl}/console/   (the node and its traffic, live: docs/console.md)
  Gatehouse    pid ${shop.gatehouse.pid}
  Services     ${services}

  Try:
    curl -s ${url}/api/products/p-01          # anonymous: the product and its reviews only
    curl -si ${url}/api/basket                # 401: no session, no token
    curl -s ${url}/session                    # {"authenticated":false}
    # a program with its own access token (client credentials) gets the composed page too:
    TOKEN=$(curl -s -u ${partner.clientId}:${partner.secret} -d grant_type=client_credentials \\
      -d scope=shop:read -d resource=https://api.shop.local ${base}/auth/token \\
      | node -pe 'JSON.parse(require("fs").readFileSync(0, "utf8")).access_token')
    curl -s ${url}/api/products/p-01 -H "Authorization: Bearer $TOKEN"

  Ctrl-C stops everything. Requests through the gateway:

`)
}

async function shutdown(code: number): Promise<never> {
  stopping = true
  await shop?.stop()
  process.exit(code)
}

let shop: Shop | undefined
const starting = new AbortController()
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.on(signal, () => {
    if (stopping) return
    if (!ready) {
      // startShop stops what it started, then rejects (below).
      stopping = true
      starting.abort()
      return
    }
    process.stdout.write('\n  Stopping…\n')
    void shutdown(0)
  })

try {
  shop = await startShop({
    onLine: show,
    signal: starting.signal,
    onServiceStopped: (name) =>
      process.stdout.write(`  -- ${name} stopped (exit code 0); the shop goes on without it\n`),
  })
} catch (err) {
  if (stopping) process.exit(0) // Ctrl-C while starting
  const message = (err as Error).message
  process.stderr.write(`\n  The shop could not start: ${message}\n\n`)
  if (message.includes('EADDRINUSE'))
    process.stderr.write(
      '  A port is taken: set GATEHOUSE_PROXY_LISTEN (e.g. 0.0.0.0:8080) or GATEHOUSE_ADMIN_LISTEN (e.g. 127.0.0.1:8081).\n\n',
    )
  process.exit(1)
}
if (stopping) await shutdown(0)
ready = true
readyAt = Date.now()
announce(shop)
shop.failed.then((failure: ChildFailed) => {
  if (stopping) return
  process.stderr.write(`\n  ${failure.message}\n\n  Stopping the other processes.\n`)
  void shutdown(1)
})
