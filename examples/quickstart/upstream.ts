/**
 * The demo upstream: answers every request with what it received (method, path, headers), so the tour
 * shows exactly what Gatehouse forwards. When the request carries an internal token (route /passport),
 * it verifies it as any service would, with gatehouse-sdk against the gateway's JWKS, and shows the
 * caller's identity, or why the token was refused. Not for production.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createVerifier, VerificationError, type Verifier } from 'gatehouse-sdk'

export interface DemoUpstream {
  readonly server: Server
  readonly url: string
  /** Verifies internal tokens from now on, with the gateway's JWKS at `jwksUrl`. */
  trust(jwksUrl: string): void
}

export function startDemoUpstream(port = 0, host = '127.0.0.1'): Promise<DemoUpstream> {
  let verifier: Verifier | null = null
  const server = createServer((req, res) => {
    let bytes = 0
    req.on('data', (c: Buffer) => {
      bytes += c.length
    })
    req.on('end', async () => {
      const body = `${JSON.stringify(
        {
          service: 'demo-upstream',
          method: req.method,
          path: req.url,
          headers: req.headers,
          body_bytes: bytes,
          ...(await identityOf(req, verifier)),
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
      resolve({
        server,
        url: `http://${host}:${bound}`,
        trust(jwksUrl) {
          verifier = createVerifier({
            issuer: 'https://gatehouse.internal',
            audience: 'demo-upstream',
            jwksUrl,
          })
        },
      })
    })
  })
}

/** `{identity}` from a valid internal token, `{identity_error}` from another bearer token, else nothing. */
async function identityOf(req: IncomingMessage, verifier: Verifier | null): Promise<object> {
  const authorization = req.headers.authorization
  if (verifier === null || !authorization?.startsWith('Bearer ')) return {}
  try {
    const id = await verifier.verify(authorization.slice('Bearer '.length))
    return {
      identity: {
        subject: id.subject,
        kind: id.kind,
        auth_method: id.authMethod,
        audience: id.audience,
        expires_at: id.expiresAt.toISOString(),
      },
    }
  } catch (err) {
    return { identity_error: err instanceof VerificationError ? err.code : String(err) }
  }
}
