/**
 * What the signing-key tests share (issue 10): a route that trusts the gateway's own provider and mints
 * an internal token for its upstream, client_credentials tokens fetched from any node, the kid of a
 * token, and the public JWKS of both kinds of keys as a node serves them.
 */
import assert from 'node:assert/strict'
import type { GatehouseProcess } from '../../harness/gatehouse.ts'
import type { EchoBody } from '../../harness/upstream.ts'
import { ORDERS_API, PARTNER_SECRET } from './gateway.ts'

/** The internal tokens' issuer in these tests (internal_tokens.issuer). */
export const INTERNAL_ISSUER = 'https://gatehouse.keys.test'
export const INTERNAL_JWKS = '/.well-known/gatehouse/jwks.json'

/** The `orders` service: openid-connect trusting `issuer` (this gateway's provider), then an internal token. */
export function ordersService(issuer: string, upstream: string): Record<string, unknown> {
  return {
    name: 'orders',
    url: upstream,
    routes: [{ name: 'orders', paths: ['/orders'] }],
    plugins: [
      {
        name: 'openid-connect',
        config: { issuer, audience: ORDERS_API, verbose_errors: true },
      },
      { name: 'internal-token', config: { audience: 'orders' } },
    ],
  }
}

/** A client_credentials access token for ORDERS_API from the provider served by `node` (any node). */
export async function accessToken(node: GatehouseProcess): Promise<string> {
  const res = await node.proxy('/oidc/token', {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`partner:${PARTNER_SECRET}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      resource: ORDERS_API,
      scope: 'orders:read',
    }),
  })
  const body = (await res.json()) as { access_token?: string }
  assert.equal(res.status, 200, JSON.stringify(body))
  return body.access_token!
}

export function kidOf(jwt: string): string {
  return (JSON.parse(Buffer.from(jwt.split('.')[0]!, 'base64url').toString()) as { kid: string }).kid
}

/** GET /orders with the access token: the status, the refusal's reason, and the minted internal token. */
export async function callOrders(
  node: GatehouseProcess,
  token: string,
): Promise<{ status: number; reason: string | null; internal: string | null }> {
  const res = await node.proxy('/orders', { headers: { authorization: `Bearer ${token}` } })
  const body = (await res.json()) as EchoBody & { reason?: string }
  const auth = res.status === 200 ? (body.headers.authorization as string) : null
  return {
    status: res.status,
    reason: body.reason ?? null,
    internal: auth === null ? null : auth.slice('Bearer '.length),
  }
}

/** The kids of the provider's JWKS as `node` serves it. */
export async function providerKids(node: GatehouseProcess): Promise<string[]> {
  const res = await node.proxy('/oidc/jwks')
  return ((await res.json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid)
}

/** The kids of the internal-token JWKS as `node` serves it to services. */
export async function internalKids(node: GatehouseProcess): Promise<string[]> {
  const res = await node.proxy(INTERNAL_JWKS)
  return ((await res.json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid)
}
