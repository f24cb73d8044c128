/**
 * Gatehouse's built-in identity provider in the benchmark (issue 4): its `identity` configuration, the
 * client_credentials requests the driver sends it, and the token pool the protected route is measured with.
 *
 *   identity-token   Gatehouse with the provider on (issuer http://127.0.0.1:<port>/auth, a fresh SQLite
 *                    file, a random 43-byte root secret, one resource, one confidential client allowed
 *                    client_credentials for it). wrk sends POST <issuer>/token with
 *                    `grant_type=client_credentials&resource=<resource>` and HTTP Basic client authentication
 *                    (wrk-token-request.lua, the request built once from TOKEN_REQUEST). Each issuance: the
 *                    client read from SQLite (and its id looked up among the users), the secret's keyed
 *                    hash compared, an ES256 JWT access token signed; nothing is written (JWT access tokens
 *                    are not stored).
 *   gatehouse-oidc   One Gatehouse process serving both the provider (the default deployment) and the route
 *                    `/` protected by the openid-connect plugin (issuer = that provider, audience = the
 *                    resource, default algorithms) in front of the bench upstream. Before measuring, the
 *                    driver gets a pool of access tokens from the provider with client_credentials
 *                    (`OIDC_POOL`, 200), which wrk-tokens.lua sends in rotation; only the route is measured.
 *                    The client may also get tokens for a second resource: the check token for another
 *                    audience.
 *
 * The two are separate processes with separate stores, so token issuance never shares a process with the
 * route being measured. Secrets are made here for each run and left out of the report.
 *
 * Access tokens for a resource take the resource's `access_token_ttl` (else `identity.ttl.access_token`);
 * `identity.ttl.client_credentials` is not applied to them (provider-config.ts: the resource server's TTL
 * wins and is always set). So the bench sets both to PROVIDER_TOKEN_TTL_S, and the pool is issued again once
 * half of the lifetime the tokens really carry (exp − iat) is over.
 */
import { randomBytes } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { decodeJwt, decodeProtectedHeader } from 'jose'

/** The issuer's path on the proxy listener. */
export const ISSUER_PATH = '/auth'
/** The API the client gets tokens for (the protected route's audience). */
export const RESOURCE = 'https://api.bench.local'
/** Another API, for the wrong-audience check token (gatehouse-oidc only). */
export const OTHER_RESOURCE = 'https://other.bench.local'
export const CLIENT_ID = 'bench-client'
/** Lifetime of the provider's access tokens in the bench configuration. */
export const PROVIDER_TOKEN_TTL_S = 3600

export type IdentityRole = 'issue' | 'verify'

/** One provider instance of a run: where it is and the client's credentials. */
export interface Provider {
  issuer: string
  tokenEndpoint: string
  /** The provider's root secret (identity.secret) and the client's secret: both left out of the report. */
  rootSecret: string
  clientSecret: string
  /** Resources the client may ask for. */
  resources: string[]
}

const secret = () => randomBytes(32).toString('base64url') // 43 characters, all unreserved

export function makeProvider(port: number, role: IdentityRole): Provider {
  const issuer = `http://127.0.0.1:${port}${ISSUER_PATH}`
  return {
    issuer,
    tokenEndpoint: `${issuer}/token`,
    rootSecret: secret(),
    clientSecret: secret(),
    resources: role === 'verify' ? [RESOURCE, OTHER_RESOURCE] : [RESOURCE],
  }
}

/** The `identity` and `storage` sections of the Gatehouse configuration. */
export function identitySections(p: Provider, dbPath: string): Record<string, unknown> {
  return {
    identity: {
      enabled: true,
      issuer: p.issuer,
      secret: p.rootSecret,
      ttl: { access_token: PROVIDER_TOKEN_TTL_S, client_credentials: PROVIDER_TOKEN_TTL_S },
      resources: p.resources.map((indicator) => ({ indicator, access_token_ttl: PROVIDER_TOKEN_TTL_S })),
      clients: [
        {
          client_id: CLIENT_ID,
          client_secret: p.clientSecret,
          grant_types: ['client_credentials'],
          scopes: [],
          resources: p.resources,
        },
      ],
    },
    storage: { sqlite: { path: dbPath } },
  }
}

/** The openid-connect plugin of gatehouse-oidc's route. */
export function openIdConnectPlugin(p: Provider): Record<string, unknown> {
  return { name: 'openid-connect', config: { issuer: p.issuer, audience: RESOURCE } }
}

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`
const tokenBody = (resource: string) =>
  new URLSearchParams({ grant_type: 'client_credentials', resource }).toString()

/**
 * TOKEN_REQUEST for wrk-token-request.lua: the Authorization header value on the first line, the form body
 * on the second (a file, mode 0600, so the client secret is on no command line).
 */
export function writeTokenRequest(p: Provider, file: string): void {
  writeFileSync(file, `${basic(CLIENT_ID, p.clientSecret)}\n${tokenBody(RESOURCE)}\n`, { mode: 0o600 })
}

/** One client_credentials request: its status and JSON body (null when it is not JSON). */
export async function requestToken(
  p: Provider,
  resource: string,
  clientSecret = p.clientSecret,
): Promise<{ status: number; body: Record<string, unknown> | null }> {
  const res = await fetch(p.tokenEndpoint, {
    method: 'POST',
    headers: {
      authorization: basic(CLIENT_ID, clientSecret),
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: tokenBody(resource),
    signal: AbortSignal.timeout(10_000),
  })
  const text = await res.text()
  let body: Record<string, unknown> | null = null
  try {
    body = JSON.parse(text) as Record<string, unknown>
  } catch {
    // not JSON: reported as such
  }
  return { status: res.status, body }
}

/** What an issued access token says, or why it is not the one asked for (`problem`). */
export interface IssuedToken {
  token: string
  alg: string
  typ: string
  aud: unknown
  iss: unknown
  /** exp − iat, in seconds. */
  lifetime: number
  problem: string | null
}

/** Issues one token for `resource` and checks it is a JWT access token of this issuer for that resource. */
export async function issueToken(p: Provider, resource: string): Promise<IssuedToken> {
  const { status, body } = await requestToken(p, resource)
  const token = body?.['access_token']
  if (status !== 200 || typeof token !== 'string')
    throw new Error(`token request for ${resource} answered ${status}: ${JSON.stringify(body)}`)
  const out: IssuedToken = {
    token,
    alg: '?',
    typ: '?',
    aud: undefined,
    iss: undefined,
    lifetime: 0,
    problem: null,
  }
  try {
    const header = decodeProtectedHeader(token)
    const claims = decodeJwt(token)
    out.alg = String(header.alg)
    out.typ = String(header.typ)
    out.aud = claims.aud
    out.iss = claims.iss
    out.lifetime = (claims.exp ?? 0) - (claims.iat ?? 0)
  } catch (err) {
    out.problem = `access_token is not a JWT (${(err as Error).message})`
    return out
  }
  if (out.aud !== resource && !(Array.isArray(out.aud) && out.aud.includes(resource)))
    out.problem = `aud is ${JSON.stringify(out.aud)}, not ${resource}`
  else if (out.iss !== p.issuer) out.problem = `iss is ${JSON.stringify(out.iss)}, not ${p.issuer}`
  else if (out.lifetime <= 0) out.problem = 'no exp after iat'
  return out
}

/** identity-token's pre-run check: a good request → 200 and a JWT for the resource; a wrong secret → 401. */
export async function checkTokenEndpoint(p: Provider): Promise<{ ok: boolean; detail: string }> {
  const seen: string[] = []
  let ok = true
  const good = await requestToken(p, RESOURCE)
  const token = good.body?.['access_token']
  if (good.status !== 200 || typeof token !== 'string') {
    ok = false
    seen.push(`good → ${good.status}${good.status === 200 ? ' without an access_token' : ' (expected 200)'}`)
  } else {
    let what: string
    try {
      const header = decodeProtectedHeader(token)
      const aud = decodeJwt(token).aud
      const right = aud === RESOURCE || (Array.isArray(aud) && aud.includes(RESOURCE))
      ok &&= right
      what = `${header.alg} ${header.typ}, aud ${JSON.stringify(aud)}${right ? '' : ` (expected ${RESOURCE})`}`
    } catch {
      ok = false
      what = 'access_token is not a JWT'
    }
    seen.push(`good → 200 (${what}, expires_in ${good.body?.['expires_in']})`)
  }
  const wrong = await requestToken(p, RESOURCE, secret())
  ok &&= wrong.status === 401
  seen.push(
    `wrong secret → ${wrong.status}${wrong.body?.['error'] ? ` ${wrong.body['error']}` : ''}` +
      (wrong.status === 401 ? '' : ' (expected 401)'),
  )
  return { ok, detail: `POST ${ISSUER_PATH}/token: ${seen.join(', ')}` }
}

/** gatehouse-oidc's pool of provider-issued tokens, one per line in `file`. */
export interface ProviderPool {
  file: string
  size: number
  /** When the pool was last issued (ms since the epoch), and the tokens' real lifetime (exp − iat, s). */
  issuedAt: number
  lifetime: number
  /** Signature algorithm of the pool's tokens (their header's alg). */
  alg: string
  /** Check tokens: a valid one (the pool's first) and one for OTHER_RESOURCE. */
  good: string
  otherAudience: string
  /** Issues a new pool (and check tokens) from the provider. */
  refresh(): Promise<void>
}

export function providerPool(p: Provider, file: string, size: number): ProviderPool {
  const pool: ProviderPool = {
    file,
    size,
    issuedAt: 0,
    lifetime: 0,
    alg: '?',
    good: '',
    otherAudience: '',
    async refresh() {
      const started = Date.now()
      const tokens: string[] = []
      let first: IssuedToken | null = null
      for (let i = 0; i < size; i++) {
        const t = await issueToken(p, RESOURCE)
        if (t.problem) throw new Error(`the provider issued a wrong token: ${t.problem}`)
        first ??= t
        tokens.push(t.token)
      }
      if (new Set(tokens).size !== size) throw new Error('provider token pool has duplicates')
      const other = await issueToken(p, OTHER_RESOURCE)
      if (other.problem) throw new Error(`the provider issued a wrong token: ${other.problem}`)
      writeFileSync(file, `${tokens.join('\n')}\n`, { mode: 0o600 })
      pool.issuedAt = started
      pool.lifetime = first!.lifetime
      pool.alg = first!.alg
      pool.good = tokens[0]!
      pool.otherAudience = other.token
    },
  }
  return pool
}
