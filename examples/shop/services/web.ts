/**
 * web: the store's page, behind the gateway's catch-all route. Static files read once at start (HTML, CSS,
 * plain JavaScript: no build step), each with an ETag and a gzip copy. Every page path (/, /products/{id},
 * /basket) gets index.html, whose script renders the view from the gateway's API. No token is needed to
 * fetch the page: what is private comes from the API, which the session guards (and the gateway sends a
 * signed-out page load of /basket to sign in first: the basket-page route in gatehouse.yaml).
 */
import { createHash } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { extname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import { serve } from '../lib/service.ts'

const ROOT = fileURLToPath(new URL('../web/', import.meta.url))
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
}
// Scripts, styles and images from this origin only: the page has nothing inline and nothing elsewhere.
const CSP = [
  "default-src 'self'",
  "img-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ')

interface Asset {
  readonly type: string
  readonly body: Buffer
  readonly gzip: Buffer
  readonly etag: string
}

const assets = new Map<string, Asset>()
for (const name of readdirSync(ROOT)) {
  const type = TYPES[extname(name)]
  if (type === undefined) continue
  const body = readFileSync(join(ROOT, name))
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`
  assets.set(`/${name}`, { type, body, gzip: gzipSync(body), etag })
}
const PAGE = /^\/(?:|products\/[A-Za-z0-9_-]+|basket)$/

serve('web', (req, res, { method, path }) => {
  if (method !== 'GET' && method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD' }).end()
    return
  }
  const asset = assets.get(PAGE.test(path) ? '/index.html' : path)
  if (asset === undefined) {
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('Not found\n')
    return
  }
  const headers: Record<string, string> = {
    'content-type': asset.type,
    etag: asset.etag,
    // Revalidated on every load (a 304 costs one small round trip), so a changed file shows at once.
    'cache-control': 'no-cache',
    vary: 'accept-encoding',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'same-origin',
  }
  if (asset.type.startsWith('text/html')) {
    headers['content-security-policy'] = CSP
    headers['x-frame-options'] = 'DENY'
  }
  if (req.headers['if-none-match'] === asset.etag) {
    res.writeHead(304, headers).end()
    return
  }
  const gzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''))
  const body = gzip ? asset.gzip : asset.body
  if (gzip) headers['content-encoding'] = 'gzip'
  headers['content-length'] = String(body.length)
  res.writeHead(200, headers).end(method === 'HEAD' ? undefined : body)
})
