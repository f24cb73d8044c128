/**
 * The floor of a Node proxy on Gatehouse's foundations: node:http in front, one undici Pool behind,
 * streaming both ways, hop-by-hop headers dropped — and nothing else (no routing, plugins, forwarded
 * headers, request ids, metrics or logs). The benchmark runs it as `node-floor` so Gatehouse's own cost
 * can be read apart from the platform's: Gatehouse ÷ node-floor is what Gatehouse's features cost.
 *
 * Usage: node bench/floor-proxy.ts LISTEN_PORT UPSTREAM_PORT
 */
import { createServer } from 'node:http'
import { Pool } from 'undici'

const [listenPort, upstreamPort] = process.argv.slice(2).map(Number) as [number, number]
const pool = new Pool(`http://127.0.0.1:${upstreamPort}`, { pipelining: 1 })
const HOP = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
  'proxy-connection',
  'host',
])

createServer((req, res) => {
  const headers: Record<string, string | string[]> = { host: `127.0.0.1:${upstreamPort}` }
  for (const name in req.headers) if (!HOP.has(name)) headers[name] = req.headers[name]!
  const hasBody =
    req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined
  pool.dispatch(
    { path: req.url ?? '/', method: req.method ?? 'GET', headers, body: hasBody ? req : null },
    {
      onRequestStart() {},
      onResponseStart(_c, status, h) {
        const out: Record<string, string | string[]> = {}
        for (const name in h) if (!HOP.has(name) && h[name] !== undefined) out[name] = h[name]!
        res.writeHead(status, out)
      },
      onResponseData(c, chunk) {
        if (!res.write(chunk)) {
          c.pause()
          res.once('drain', () => c.resume())
        }
      },
      onResponseEnd() {
        res.end()
      },
      onResponseError() {
        if (res.headersSent) res.destroy()
        else res.writeHead(502).end()
      },
    },
  )
}).listen(listenPort, '127.0.0.1', () => console.log(`floor proxy on ${listenPort} → ${upstreamPort}`))
