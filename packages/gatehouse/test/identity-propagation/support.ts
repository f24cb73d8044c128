/**
 * The parts of the identity-propagation tests that stand in for a real deployment: services that trust
 * only the internal token (verified with gatehouse-sdk against the gateway's JWKS, as a team would
 * write them), a user-info service, and an independent OpenID provider (oidc-provider, configured here
 * and nowhere near Gatehouse's code) acting as the "external" IdP a team already has.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { createVerifier, forwardingFetch, type Identity, type Verifier } from 'gatehouse-sdk'
import { authenticate } from 'gatehouse-sdk/http'
import { exportJWK, generateKeyPair } from 'jose'
import Provider from 'oidc-provider'
import { trackServer } from '../harness/resources.ts'

export interface Listening {
  readonly url: string
  readonly port: number
  close(): Promise<void>
}

/** Listens on 127.0.0.1 (port 0 unless given) and closes with every open connection. */
export async function listen(server: Server, port = 0): Promise<Listening> {
  const sockets = new Set<Socket>()
  server.on('connection', (s: Socket) => {
    sockets.add(s)
    s.once('close', () => sockets.delete(s))
  })
  trackServer('service', server)
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  const actual = (server.address() as AddressInfo).port
  return {
    url: `http://127.0.0.1:${actual}`,
    port: actual,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      }),
  }
}

/** What a test service answers: who called (from the internal token only) and what it received. */
export interface ServiceAnswer {
  service: string
  subject: string
  kind: string
  clientId: string | null
  scopes: readonly string[]
  roles: readonly string[]
  audience: readonly string[]
  authMethod: string
  authIssuer: string | null
  requestId: string | null
  claims: Record<string, unknown>
  /** Every request header the service received, to check no public credential arrived. */
  headers: Record<string, string | string[] | undefined>
  /** The answer of a chained call, when the path asked for one. */
  chained?: { status: number; body: unknown }
}

export interface TestService extends Listening {
  readonly name: string
  /** Set once the gateway (and so its JWKS URL) is known. */
  trust(verifier: Verifier): void
  /** Requests the service refused, with the SDK's error code. */
  readonly refusals: string[]
}

/**
 * A service named `name` that accepts only internal tokens with itself in `aud`. `GET /call/<other>`
 * calls the service `peers()[other]` with the same token (forwardingFetch) and includes its answer.
 */
export async function startService(
  name: string,
  peers: () => Record<string, string> = () => ({}),
): Promise<TestService> {
  let guard: ReturnType<typeof authenticate> | null = null
  const refusals: string[] = []
  const handle = async (req: IncomingMessage & { identity: Identity | null }, res: ServerResponse) => {
    const id = req.identity!
    const answer: ServiceAnswer = {
      service: name,
      subject: id.subject,
      kind: id.kind,
      clientId: id.clientId,
      scopes: id.scopes,
      roles: id.roles,
      audience: id.audience,
      authMethod: id.authMethod,
      authIssuer: id.authIssuer,
      requestId: id.requestId,
      claims: { ...id.claims },
      headers: req.headers,
    }
    const call = /^\/call\/([a-z]+)$/.exec(req.url ?? '')
    if (call) {
      const peer = peers()[call[1]!]
      const res2 = await forwardingFetch(req)(`${peer}/`)
      answer.chained = { status: res2.status, body: await res2.json() }
    }
    const body = JSON.stringify(answer)
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
    res.end(body)
  }
  const server = createServer((req, res) => {
    if (guard === null) {
      res.writeHead(503).end()
      return
    }
    const g = guard
    void g(req, res).then(async (identity) => {
      if (identity === null) {
        refusals.push(String(res.getHeader('www-authenticate') ?? res.statusCode))
        return
      }
      await handle(req as IncomingMessage & { identity: Identity | null }, res)
    })
  })
  const listening = await listen(server)
  return {
    ...listening,
    name,
    refusals,
    trust(verifier) {
      guard = authenticate(verifier)
    },
  }
}

export function verifierFor(service: string, jwksUrl: string, issuer: string, more: object = {}): Verifier {
  return createVerifier({ issuer, audience: service, jwksUrl, ...more })
}

/** The user-info service: a profile per subject, 404 for subjects it does not know; counts lookups. */
export async function startUsers(
  profiles: Record<string, Record<string, unknown>>,
): Promise<Listening & { lookups: string[] }> {
  const lookups: string[] = []
  const server = createServer((req, res) => {
    const sub = decodeURIComponent((req.url ?? '').replace(/^\/users\//, ''))
    lookups.push(sub)
    const profile = profiles[sub]
    if (profile === undefined) {
      res.writeHead(404).end()
      return
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(profile))
  })
  return { ...(await listen(server)), lookups }
}

export const EXTERNAL_RESOURCE = 'https://orders.api.test'
export const EXTERNAL_CLIENT = { id: 'external-partner', secret: 'external-partner-secret-0123456789abcdef' }

/**
 * An independent OpenID provider (panva's oidc-provider with its own configuration, keys and memory
 * storage): client_credentials for one confidential client, JWT access tokens (RFC 9068) for one
 * resource, signed ES256, with a namespaced custom claim as Auth0 writes them.
 */
export async function startExternalIdp(port: number): Promise<Listening & { issuer: string }> {
  const issuer = `http://127.0.0.1:${port}`
  const { privateKey } = await generateKeyPair('ES256', { extractable: true })
  const jwk = { ...(await exportJWK(privateKey)), kid: 'external-1', alg: 'ES256', use: 'sig' }
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: EXTERNAL_CLIENT.id,
        client_secret: EXTERNAL_CLIENT.secret,
        grant_types: ['client_credentials'],
        redirect_uris: [],
        response_types: [],
        scope: 'orders:read',
        // Its only key is ES256 (oidc-provider's default for ID tokens is RS256).
        id_token_signed_response_alg: 'ES256',
      },
    ],
    jwks: { keys: [jwk] },
    scopes: ['openid', 'orders:read'],
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => EXTERNAL_RESOURCE,
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({
          scope: 'orders:read',
          audience: EXTERNAL_RESOURCE,
          accessTokenFormat: 'jwt',
          accessTokenTTL: 300,
          jwt: { sign: { alg: 'ES256' } },
        }),
      },
    },
    extraTokenClaims: () => ({ 'https://partner.example/country': 'NL' }),
  })
  const server = createServer(provider.callback())
  return { ...(await listen(server, port)), issuer }
}

/** A client_credentials access token from `tokenEndpoint` (HTTP Basic client authentication). */
export async function clientCredentialsToken(
  tokenEndpoint: string,
  client: { id: string; secret: string },
  resource: string,
  scope: string,
): Promise<string> {
  const res = await fetch(tokenEndpoint, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${client.id}:${client.secret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', resource, scope }),
  })
  const body = (await res.json()) as { access_token?: string }
  if (res.status !== 200 || typeof body.access_token !== 'string')
    throw new Error(`token endpoint answered ${res.status}: ${JSON.stringify(body)}`)
  return body.access_token
}
