/**
 * The demo upstream: answers every request with what it received (method, path, headers), so the tour
 * shows exactly what Gatehouse forwards. Not for production.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

export function startDemoUpstream(port = 0, host = '127.0.0.1'): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    let bytes = 0
    req.on('data', (c: Buffer) => {
      bytes += c.length
    })
    req.on('end', () => {
      const body = `${JSON.stringify(
        {
          service: 'demo-upstream',
          method: req.method,
          path: req.url,
          headers: req.headers,
          body_bytes: bytes,
        },
        null,
        2,
      )}\n`
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
      res.end(body)
    })
  })
  return new Promise((resolve) => {
    server.listen(port, host, () => {
      const { port: bound } = server.address() as AddressInfo
      resolve({ server, url: `http://${host}:${bound}` })
    })
  })
}
