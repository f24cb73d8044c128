/**
 * The relying party's own web server for the browser tests: a real HTTP listener on 127.0.0.1 port 0
 * whose URLs are the client's redirect_uri and post_logout_redirect_uri, so the browser really lands
 * there at the end of a flow and the test reads the whole URL the provider redirected to (code, state,
 * iss, error) from what the server received. It answers every GET with a small page of its own.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { trackServer } from '../../harness/resources.ts'

export interface RelyingParty {
  /** `http://127.0.0.1:<port>` */
  readonly origin: string
  readonly callback: string
  readonly loggedOut: string
  /** Every URL requested so far, in order. */
  readonly received: readonly URL[]
  /** The next request for `path` (set it up before the browser is sent on its way). */
  next(path: string): Promise<URL>
  close(): Promise<void>
}

const PAGE = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Relying party</title></head>
<body><h1>Relying party</h1></body></html>`

export async function startRelyingParty(): Promise<RelyingParty> {
  const received: URL[] = []
  let waiters: { path: string; resolve: (url: URL) => void }[] = []
  let origin = ''
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', origin)
    received.push(url)
    waiters = waiters.filter((w) => {
      if (w.path !== url.pathname) return true
      w.resolve(url)
      return false
    })
    res.writeHead(200, {
      'content-type': 'text/html; charset=utf-8',
      'content-length': Buffer.byteLength(PAGE),
      'cache-control': 'no-store',
    })
    res.end(req.method === 'HEAD' ? undefined : PAGE)
  })
  trackServer('relying party', server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    origin,
    callback: `${origin}/cb`,
    loggedOut: `${origin}/logged-out`,
    received,
    next: (path) => new Promise((resolve) => waiters.push({ path, resolve })),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
