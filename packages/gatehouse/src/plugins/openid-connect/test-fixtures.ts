/**
 * Shared by the openid-connect tests (not part of the plugin): a real issuer on 127.0.0.1 — discovery
 * document and JWKS over node:http on an ephemeral port, with keys generated when the test runs — that
 * counts what it serves and can rotate keys, fail, stop and come back on the same port; plus helpers that
 * sign access tokens with jose or write hostile ones byte by byte.
 */
import { createHmac } from 'node:crypto'
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

/** Signs with `key` as an access token (`typ: at+jwt`, its kid); `header` overrides, `undefined` removes. */
export function signWith(
  key: SigningKey,
  claims: JWTPayload,
  header: Record<string, unknown> = {},
): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: key.alg, typ: 'at+jwt', kid: key.kid, ...header } as JWTHeaderParameters)
    .sign(key.privateKey)
}

export const nowSeconds = (): number => Math.floor(Date.now() / 1000)

export function b64url(value: string | Uint8Array | object): string {
  if (typeof value === 'string') return Buffer.from(value, 'utf8').toString('base64url')
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64url')
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url')
}

/** A token signed with HMAC-SHA256 over exactly these header and payload JSON texts. */
export function hs256Raw(header: object | string, payload: object | string, secret: string | Buffer): string {
  const input = `${b64url(header)}.${b64url(payload)}`
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`
}

/** What the issuer served so far. */
export interface Served {
  discovery: number
  jwks: number
}

export class TestIssuer {
  readonly server: Server
  readonly keys = new Map<string, SigningKey>()
  /** Kids in the JWKS, in order. */
  published: string[] = []
  readonly served: Served = { discovery: 0, jwks: 0 }
  /** Status of JWKS answers; 200 serves the keys. */
  jwksStatus = 200
  /** Status of discovery answers; 200 serves the document. */
  discoveryStatus = 200
  /** The `issuer` the discovery document names; defaults to the real one. */
  discoveryIssuer: string | null = null
  port = 0
  readonly #sockets = new Set<Socket>()

  private constructor() {
    this.server = createServer((req, res) => {
      const send = (status: number, body: unknown) => {
        const text = JSON.stringify(body)
        res.writeHead(status, {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(text),
        })
        res.end(text)
      }
      if (req.url === '/.well-known/openid-configuration') {
        this.served.discovery++
        if (this.discoveryStatus !== 200) return send(this.discoveryStatus, { error: 'unavailable' })
        return send(200, {
          issuer: this.discoveryIssuer ?? this.url,
          jwks_uri: this.jwksUri,
          authorization_endpoint: `${this.url}/auth`,
          token_endpoint: `${this.url}/token`,
          response_types_supported: ['code'],
          subject_types_supported: ['public'],
          id_token_signing_alg_values_supported: ['ES256'],
        })
      }
      if (req.url === '/jwks') {
        this.served.jwks++
        if (this.jwksStatus !== 200) return send(this.jwksStatus, { error: 'unavailable' })
        return send(200, { keys: this.published.map((kid) => this.keys.get(kid)!.publicJwk) })
      }
      send(404, { error: 'not found' })
    })
    this.server.on('connection', (s: Socket) => {
      this.#sockets.add(s)
      s.once('close', () => this.#sockets.delete(s))
    })
  }

  /** An issuer serving the given keys (all published). */
  static async start(keys: SigningKey[]): Promise<TestIssuer> {
    const issuer = new TestIssuer()
    for (const k of keys) issuer.add(k)
    await issuer.listen(0)
    return issuer
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`
  }

  get jwksUri(): string {
    return `${this.url}/jwks`
  }

  /** Publishes a key (key rotation: new keys are added, old ones removed later). */
  add(key: SigningKey): void {
    this.keys.set(key.kid, key)
    if (!this.published.includes(key.kid)) this.published.push(key.kid)
  }

  unpublish(kid: string): void {
    this.published = this.published.filter((k) => k !== kid)
  }

  /** Signs an access token with a key this issuer holds (published or not). */
  sign(kid: string, claims: JWTPayload, header: Record<string, unknown> = {}): Promise<string> {
    const key = this.keys.get(kid)
    if (key === undefined) throw new Error(`no key ${kid}`)
    return signWith(key, claims, header)
  }

  /** Stops listening; the port stays free for `listen(this.port)` to come back on. */
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

/** The claims of a good access token from `issuer` for `audience` (RFC 9068 §2.2). */
export function accessClaims(
  issuer: string,
  audience: string,
  more: Record<string, unknown> = {},
): JWTPayload {
  const now = nowSeconds()
  return {
    iss: issuer,
    aud: audience,
    sub: 'user-123',
    client_id: 'shop-web',
    scope: 'openid orders:read',
    jti: `jti-${Math.random().toString(36).slice(2)}`,
    iat: now - 10,
    exp: now + 300,
    ...more,
  }
}
