/**
 * Shared by the SDK's tests (not part of the package): a real JWKS server on 127.0.0.1 (node:http, port 0)
 * serving keys generated when the test runs, which counts its fetches and can rotate keys, fail, stop and
 * come back on the same port; internal-token claims following the gateway's contract; and helpers that
 * sign tokens with jose or write hostile ones byte by byte.
 */
import { createHmac, KeyObject, sign as nodeSign } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import {
  type CryptoKey,
  exportJWK,
  generateKeyPair,
  type JWK,
  type JWTHeaderParameters,
  type JWTPayload,
  SignJWT,
} from 'jose'
import { INTERNAL_TOKEN_TYPE } from './claims.ts'

export const ISSUER = 'https://gatehouse.test'
export const SERVICE = 'orders'

export interface SigningKey {
  readonly kid: string
  readonly alg: string
  readonly privateKey: CryptoKey
  readonly publicJwk: JWK
}

export async function signingKey(kid: string, alg = 'ES256'): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true })
  return { kid, alg, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } }
}

export const nowSeconds = (): number => Math.floor(Date.now() / 1000)

/** The claims of a good internal token for `orders` (and `pricing`, which it may call). */
export function internalClaims(more: Record<string, unknown> = {}): JWTPayload {
  const now = nowSeconds()
  return {
    iss: ISSUER,
    sub: 'user-123',
    aud: [SERVICE, 'pricing'],
    iat: now - 1,
    nbf: now - 1,
    exp: now + 60,
    jti: `jti-${Math.random().toString(36).slice(2)}`,
    sub_type: 'user',
    client_id: 'shop-web',
    scope: 'orders:read orders:write',
    roles: ['customer', 'beta'],
    consumer: { id: 'c-42', username: 'alice', custom_id: 'crm-7' },
    auth: { method: 'openid-connect', iss: 'https://idp.test' },
    txn: 'req-abc-123',
    email: 'alice@example.test',
    country: 'NL',
    ...more,
  }
}

/** Signs as the gateway does (`typ` gatehouse-internal+jwt, the key's kid); `header` overrides, `undefined` removes. */
export function signInternal(
  key: SigningKey,
  claims: JWTPayload,
  header: Record<string, unknown> = {},
): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({
      alg: key.alg,
      typ: INTERNAL_TOKEN_TYPE,
      kid: key.kid,
      ...header,
    } as JWTHeaderParameters)
    .sign(key.privateKey)
}

export function b64url(value: string | Uint8Array | object): string {
  if (typeof value === 'string') return Buffer.from(value, 'utf8').toString('base64url')
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64url')
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url')
}

/** HMAC-SHA256 over exactly these header and payload texts, keyed with `secret`. */
export function hs256Raw(header: object | string, payload: object | string, secret: string | Buffer): string {
  const input = `${b64url(header)}.${b64url(payload)}`
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`
}

/** ES256 over exactly these header and payload texts, bypassing jose's refusals to sign odd input. */
export function es256Raw(header: string, payload: string | Uint8Array, key: SigningKey): string {
  const input = `${b64url(header)}.${b64url(payload)}`
  const signature = nodeSign('sha256', Buffer.from(input), {
    key: KeyObject.from(key.privateKey),
    dsaEncoding: 'ieee-p1363',
  })
  return `${input}.${signature.toString('base64url')}`
}

/** The gateway's JWKS endpoint, as tests need it. */
export class JwksServer {
  readonly server: Server
  readonly keys = new Map<string, SigningKey>()
  /** Kids in the JWKS, in order. */
  published: string[] = []
  /** JWKS fetches answered so far. */
  fetches = 0
  /** Status of JWKS answers; 200 serves the keys. */
  status = 200
  /** A body served instead of the keys (a huge or broken document). */
  body: string | null = null
  /** Never answer (a hung JWKS endpoint). */
  hang = false
  /** The Cache-Control header of JWKS answers, if any. */
  cacheControl: string | null = null
  port = 0
  readonly #sockets = new Set<Socket>()

  private constructor() {
    this.server = createServer((req, res) => {
      if (req.url !== '/jwks') {
        res.writeHead(404).end()
        return
      }
      this.fetches++
      if (this.hang) return
      const text =
        this.status !== 200
          ? '{"error":"unavailable"}'
          : (this.body ??
            JSON.stringify({ keys: this.published.map((kid) => this.keys.get(kid)!.publicJwk) }))
      res.writeHead(this.status, {
        'content-type': 'application/json',
        ...(this.cacheControl !== null ? { 'cache-control': this.cacheControl } : {}),
      })
      res.end(text)
    })
    this.server.on('connection', (s: Socket) => {
      this.#sockets.add(s)
      s.once('close', () => this.#sockets.delete(s))
    })
  }

  /** Serves `keys` on `port` (0: any free port). */
  static async start(keys: SigningKey[], port = 0): Promise<JwksServer> {
    const server = new JwksServer()
    for (const k of keys) server.add(k)
    await server.listen(port)
    return server
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/jwks`
  }

  /** Publishes a key (rotation publishes new keys ahead of use). */
  add(key: SigningKey): void {
    this.keys.set(key.kid, key)
    if (!this.published.includes(key.kid)) this.published.push(key.kid)
  }

  /** Stops publishing a key (a withdrawn key); the server can still sign with it, as a thief could. */
  unpublish(kid: string): void {
    this.published = this.published.filter((k) => k !== kid)
  }

  /** Signs with a key this server holds, published or not. */
  sign(
    kid: string,
    claims: JWTPayload = internalClaims(),
    header: Record<string, unknown> = {},
  ): Promise<string> {
    const key = this.keys.get(kid)
    if (key === undefined) throw new Error(`no key ${kid}`)
    return signInternal(key, claims, header)
  }

  /** Stops listening; `listen(this.port)` comes back on the same port. */
  stop(): Promise<void> {
    return new Promise((resolve) => {
      for (const s of this.#sockets) s.destroy()
      this.server.close(() => resolve())
    })
  }

  async listen(port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject)
      this.server.listen(port, '127.0.0.1', () => {
        this.server.off('error', reject)
        resolve()
      })
    })
    this.port = (this.server.address() as AddressInfo).port
  }
}

/** A free port on 127.0.0.1 that nothing listens on (taken, then released). */
export async function unusedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

/** Starts `server` on 127.0.0.1, port 0; resolves its base URL. */
export async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

export function close(server: Server): Promise<void> {
  server.closeAllConnections()
  return new Promise((resolve) => server.close(() => resolve()))
}
