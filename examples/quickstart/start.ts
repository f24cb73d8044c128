/**
 * `npm start`: the demo upstream, then Gatehouse in front of it (a separate process, exactly as you
 * would run it: `gatehouse start --config examples/quickstart/gatehouse.yaml`), then the URLs to try.
 * Ctrl-C stops both.
 */
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { SignJWT } from 'jose'
import { startDemoUpstream } from './upstream.ts'

const config = fileURLToPath(new URL('./gatehouse.yaml', import.meta.url))
const bin = fileURLToPath(new URL('../../packages/gatehouse/bin/gatehouse.js', import.meta.url))

const upstream = await startDemoUpstream()
// The demo consumer's credentials, new on every run, so none is ever hard-coded.
const apiKey = randomBytes(16).toString('hex')
const jwtSecret = randomBytes(32).toString('base64url')
const token = await new SignJWT({ sub: 'demo-user' })
  .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
  .setIssuer('demo-issuer')
  .setIssuedAt()
  .setExpirationTime('1h')
  .sign(new TextEncoder().encode(jwtSecret))
const gatehouse = spawn(process.execPath, [bin, 'start', '--config', config], {
  env: { ...process.env, DEMO_UPSTREAM_URL: upstream.url, DEMO_API_KEY: apiKey, DEMO_JWT_SECRET: jwtSecret },
  stdio: ['ignore', 'pipe', 'inherit'],
})

let announced = false
let buffered = ''
gatehouse.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
  process.stdout.write(chunk)
  if (announced) return
  buffered += chunk
  for (const line of buffered.split('\n')) {
    if (!line.includes('"gatehouse started"')) continue
    const started = JSON.parse(line) as { proxy: string; admin: string }
    announced = true
    buffered = ''
    const proxy = started.proxy.replace('0.0.0.0', 'localhost')
    upstream.trust(`http://${proxy.replace('localhost', '127.0.0.1')}/.well-known/gatehouse/jwks.json`)
    announce(proxy, started.admin)
  }
})

function announce(proxy: string, admin: string): void {
  const p = `http://${proxy}`
  const a = `http://${admin}`
  process.stdout.write(`
  Gatehouse is running (demo upstream at ${upstream.url}).

  Proxy      ${p}
  Admin API  ${a}   (loopback only)

  Try:
    curl -i ${p}/echo/hello?x=1          # forwarded, prefix stripped; see X-Forwarded-*, X-Request-ID
    curl -i ${p}/orders/42               # a regex route
    curl -i ${p}/nothing                 # 404: no route matched
    curl -i ${p}/private                 # 401 {"message":"No API key found in request"}
    curl -i ${p}/private -H 'apikey: ${apiKey}'
    curl -i ${p}/jwt -H 'Authorization: Bearer ${token}'
                                          # the upstream sees X-Consumer-Username: demo-app
    curl -s ${p}/passport -H 'apikey: ${apiKey}'
                                          # the upstream gets an internal JWT, not the key, and
                                          # shows the identity it verified with gatehouse-sdk
    curl -s ${a}/services                # the admin API, Kong's shapes
    curl -s ${a}/metrics | grep gatehouse_http_requests_total

  Edit examples/quickstart/gatehouse.yaml and run: kill -HUP ${gatehouse.pid}   (or POST it, as YAML:
    curl -H 'Content-Type: application/yaml' --data-binary @examples/quickstart/gatehouse.yaml ${a}/config)
  Ctrl-C stops everything.

`)
}

const stop = (signal: NodeJS.Signals) => {
  if (gatehouse.exitCode === null) gatehouse.kill(signal)
}
process.on('SIGINT', () => stop('SIGTERM'))
process.on('SIGTERM', () => stop('SIGTERM'))
gatehouse.on('exit', (code) => {
  upstream.server.close()
  process.exit(code ?? 0)
})
