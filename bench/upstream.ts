/**
 * Benchmark upstream: the service behind every system under test. It answers any request with the same
 * ~100-byte JSON body (with content-length) over keep-alive and does as little work as possible, so
 * that what the benchmark sees is the cost of the proxy in front of it.
 *
 * Three more paths, for the identity propagation systems (issue 5; lib/user-info.ts): `GET /users/<sub>`,
 * the user-info service the internal-token plugin asks once per subject (a small JSON profile, 404 for an
 * unknown subject), `/echo-authorization`, asked only by the pre-run check, and `/bench-stats`, the count of
 * profile requests and distinct subjects, asked by the soak. `GET /` takes the usual answer after one
 * string comparison, so the measured path costs what it did.
 *
 * Usage: node bench/upstream.ts PORT   (listens on 127.0.0.1 only; prints one line once listening)
 */
import http from 'node:http'
import { ECHO_PATH, profileOf, STATS_PATH, USERS_PATH, type UserInfoStats } from './lib/user-info.ts'

const port = Number(process.argv[2] ?? 0)
const body = Buffer.from(
  JSON.stringify({
    ok: true,
    service: 'bench-upstream',
    message: 'hello from the service behind a gateway',
    ts: 1700000000,
  }),
)
const headers = { 'content-type': 'application/json', 'content-length': body.length }
/** Profile requests answered, and the subjects served (at most the soak's pool: 10,000 short strings). */
let profileRequests = 0
const subjects = new Set<string>()

function json(res: http.ServerResponse, status: number, value: unknown): void {
  const text = Buffer.from(JSON.stringify(value))
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': text.length })
  res.end(text)
}

/** `/users/<sub>` and `/echo-authorization`; false for any other path (the usual answer). */
function special(req: http.IncomingMessage, res: http.ServerResponse): boolean {
  const url = req.url ?? '/'
  if (url.startsWith(USERS_PATH)) {
    let sub: string
    try {
      sub = decodeURIComponent(url.slice(USERS_PATH.length))
    } catch {
      sub = ''
    }
    const profile = profileOf(sub)
    profileRequests++
    if (profile) subjects.add(sub)
    json(res, profile ? 200 : 404, profile ?? { error: 'not_found' })
    return true
  }
  if (url === ECHO_PATH) {
    json(res, 200, { authorization: req.headers.authorization ?? null })
    return true
  }
  if (url === STATS_PATH) {
    const stats: UserInfoStats = { profile_requests: profileRequests, distinct_subjects: subjects.size }
    json(res, 200, stats)
    return true
  }
  return false
}

const server = http.createServer((req, res) => {
  // Drain any request body before answering so the connection stays reusable.
  req.resume()
  req.on('end', () => {
    if (req.url !== '/' && special(req, res)) return
    res.writeHead(200, headers)
    res.end(body)
  })
})
// Outlive the proxies' idle pooled connections (nginx keeps them 60 s) so a pooled connection is never
// closed by this side just as a request is sent on it.
server.keepAliveTimeout = 75_000
server.headersTimeout = 80_000
server.listen(port, '127.0.0.1', () => {
  const address = server.address()
  const actual = typeof address === 'object' && address ? address.port : port
  console.log(`upstream listening on 127.0.0.1:${actual}, body ${body.length} bytes`)
})
// Nothing to flush: exit at once so the driver's stop is immediate.
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => process.exit(0))
