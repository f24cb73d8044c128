/**
 * Shared by the openid-connect tests (not part of the plugin): a real issuer on 127.0.0.1 — discovery
 * document and JWKS over node:http on an ephemeral port, with keys generated when the test runs — that
 * counts what it serves and can rotate keys, fail, stop and come back on the same port; helpers that sign
 * access tokens with jose or write hostile ones byte by byte; DPoP keys and proofs (RFC 9449); and the
 * exact refusal a test expects (assertRefusal).
 */
import assert from 'node:assert/strict'
import { createHash, createHmac, randomUUID } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import {
  type CryptoKey,
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  type JWK,
  type JWTHeaderParameters,
  type JWTPayload,
  SignJWT,
} from 'jose'
import { assertErrorBody } from '../../../test/harness/error-body.ts'
import type { RawResponse } from '../../../test/harness/http.ts'
import { trackServer } from '../../../test/harness/resources.ts'
import { type Failure, failures } from './failures.ts'

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
    trackServer('issuer', this.server)
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

/** The DPoP challenge every route sends unless configured otherwise (RFC 9449 §7.1). */
export const DPOP_ALGS = 'ES256 EdDSA RS256 PS256'

export interface ExpectedRefusal {
  readonly description: string
  /** The stable reason: expected in the body (verbose_errors); omit for a terse answer. */
  readonly reason?: string
  readonly status?: 401 | 403
  readonly error?: string
  readonly realm?: string
  /** The scheme the client used; its challenge carries the error. Default: bearer. */
  readonly scheme?: 'bearer' | 'dpop'
  /** The route requires DPoP: only the DPoP challenge is offered. */
  readonly dpopOnly?: boolean
  readonly scope?: string
  readonly algs?: string
  /**
   * The GH_ERR_* code. By default the code of the failure (failures.ts) with this reason, else with this
   * description, else the one `error` implies (terse answers share a description).
   */
  readonly code?: string
}

const KNOWN = Object.values(failures).filter((f): f is Failure => typeof f === 'object')

function codeOf(e: ExpectedRefusal, error: string): string {
  if (e.code !== undefined) return e.code
  const byReason = KNOWN.find((f) => f.reason === e.reason)
  if (byReason !== undefined) return byReason.code
  if (e.reason?.startsWith('oidc_missing_claim') || e.reason?.startsWith('oidc_invalid_claim'))
    return 'GH_ERR_AUTH_CREDENTIALS_INVALID'
  const byDescription = KNOWN.filter((f) => f.description === e.description)
  if (byDescription.length === 1) return byDescription[0]!.code
  return CODE_OF_ERROR[error]!
}

const CODE_OF_ERROR: Readonly<Record<string, string>> = {
  unauthorized: 'GH_ERR_AUTH_CREDENTIALS_MISSING',
  invalid_token: 'GH_ERR_AUTH_CREDENTIALS_INVALID',
  insufficient_scope: 'GH_ERR_AUTH_SCOPE_INSUFFICIENT',
  invalid_dpop_proof: 'GH_ERR_AUTH_DPOP_INVALID',
}

/**
 * A refusal exactly as answers.ts words it: status, both challenges, and a body that starts with RFC
 * 6750's members (with the reason when verbose) and goes on with the gateway's (test/harness/error-body.ts).
 */
export function assertRefusal(res: RawResponse, e: ExpectedRefusal): void {
  const error = e.error ?? 'invalid_token'
  assert.equal(res.status, e.status ?? 401, res.body)
  const params = `, error="${error}", error_description="${e.description}"${e.scope !== undefined ? `, scope="${e.scope}"` : ''}`
  const bearer = `Bearer realm="${e.realm ?? 'gatehouse'}"`
  const dpop = `DPoP algs="${e.algs ?? DPOP_ALGS}"`
  const expected = e.dpopOnly
    ? dpop + params
    : e.scheme === 'dpop'
      ? `${dpop}${params}, ${bearer}`
      : `${bearer}${params}, ${dpop}`
  assert.equal(res.headers['www-authenticate'], expected)
  assert.equal(res.headers['content-type'], 'application/json; charset=utf-8')
  const body = {
    error,
    error_description: e.description,
    ...(e.reason !== undefined && { reason: e.reason }),
  }
  const code = codeOf(e, error)
  assertErrorBody(res, { kong: body, code, message: e.description })
}

/** A client's DPoP key pair, with its RFC 7638 thumbprint (`cnf.jkt` of tokens bound to it). */
export interface DpopKey {
  readonly alg: string
  readonly privateKey: CryptoKey
  readonly publicJwk: JWK
  readonly jkt: string
}

export async function dpopKey(alg = 'ES256'): Promise<DpopKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true })
  const publicJwk = await exportJWK(publicKey)
  return { alg, privateKey, publicJwk, jkt: await calculateJwkThumbprint(publicJwk) }
}

export interface ProofOptions {
  readonly htu: string
  readonly htm?: string
  /** The access token the proof goes with (its SHA-256 is `ath`). */
  readonly accessToken?: string
  /** Claims to add, or to remove with `undefined`. */
  readonly claims?: Record<string, unknown>
  /** Header members to add, or to remove with `undefined`. */
  readonly header?: Record<string, unknown>
}

/** base64url(SHA-256(token)): a proof's `ath` (RFC 9449 §4.2). */
export function ath(token: string): string {
  return createHash('sha256').update(token).digest('base64url')
}

/** A DPoP proof (RFC 9449 §4.2) signed with `key`: fresh iat, random jti, htm GET unless given. */
export function dpopProof(key: DpopKey, o: ProofOptions): Promise<string> {
  const claims = {
    htm: o.htm ?? 'GET',
    htu: o.htu,
    iat: nowSeconds(),
    jti: randomUUID(),
    ...(o.accessToken !== undefined && { ath: ath(o.accessToken) }),
    ...o.claims,
  }
  return new SignJWT(claims)
    .setProtectedHeader({
      alg: key.alg,
      typ: 'dpop+jwt',
      jwk: key.publicJwk,
      ...o.header,
    } as JWTHeaderParameters)
    .sign(key.privateKey)
}
