/**
 * A real gateway with the identity provider on, for the identity end-to-end tests: the declarative
 * file in a temp dir, SQLite beside it, the issuer on a port chosen before the start (the issuer URL
 * must be known when the file is written).
 */
import { createServer } from 'node:net'
import { join } from 'node:path'
import { openStore } from '../../../src/storage/open.ts'
import type { Store } from '../../../src/storage/store.ts'
import { type GatehouseProcess, startGatehouse } from '../../harness/gatehouse.ts'

export const SECRET = 'identity-test-secret-0123456789abcdefghijklmnop'
export const ORDERS_API = 'https://orders.api.test'
export const PROFILE_API = 'https://profile.api.test'
export const ALICE = { username: 'alice', email: 'alice@example.test', password: 'alice-password-1234' }
export const BOB = { username: 'bob', email: 'bob@example.test', password: 'bob-password-12345' }
export const CAROL = { username: 'carol', email: 'carol@example.test', password: 'carol-password-1234' }
export const PARTNER_SECRET = 'partner-secret-0123456789abcdefghijklmnopqrstuv'
export const WEB_SECRET = 'web-app-secret-0123456789abcdefghijklmnopqrstuv'
export const CALLBACK = 'http://127.0.0.1:9/cb'
export const LOGGED_OUT = 'http://127.0.0.1:9/logged-out'

/** A free TCP port on 127.0.0.1 (released again: the gateway binds it next). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

export interface IdentityOptions {
  /** The issuer's scheme: https means TLS ends in front of the gateway (which listens on http). */
  scheme?: 'http' | 'https'
  /** The issuer's host (default 127.0.0.1); passkeys need a name (`localhost`): WebAuthn refuses IP addresses. */
  host?: string
  /** The port (default: a free one), when something must know the issuer before the start. */
  port?: number
  /** Replaces keys of the `identity` section. */
  identity?: Record<string, unknown>
  /** Extra top-level keys (services, routes, plugins), or a function of the issuer making them. */
  rest?: Record<string, unknown> | ((issuer: string) => Record<string, unknown>)
}

/** The identity section every suite starts from: three users, four clients, two APIs. */
export function identitySection(
  issuer: string,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    enabled: true,
    issuer,
    secret: SECRET,
    resources: [
      {
        indicator: ORDERS_API,
        scopes: ['orders:read', 'orders:write'],
        claims: ['roles', 'country', 'customer_type'],
      },
      { indicator: PROFILE_API, scopes: ['profile:read'] },
    ],
    users: [
      {
        ...ALICE,
        roles: ['customer', 'beta'],
        claims: { name: 'Alice Example', country: 'GB', customer_type: 'premium' },
      },
      { ...BOB, roles: ['customer'], claims: { name: 'Bob Example', country: 'FR' } },
      { ...CAROL, disabled: true },
    ],
    clients: [
      {
        client_id: 'web-app',
        client_secret: WEB_SECRET,
        client_name: 'Web App',
        redirect_uris: [CALLBACK],
        post_logout_redirect_uris: [LOGGED_OUT],
        scopes: ['openid', 'profile', 'email', 'offline_access', 'orders:read'],
        resources: [ORDERS_API],
      },
      {
        client_id: 'spa',
        client_name: 'Single Page App',
        redirect_uris: [CALLBACK],
        post_logout_redirect_uris: [LOGGED_OUT],
        scopes: ['openid', 'profile', 'email', 'offline_access'],
        first_party: true,
      },
      {
        client_id: 'portal',
        client_name: 'Customer Portal',
        redirect_uris: [CALLBACK],
        scopes: ['openid', 'profile', 'orders:read'],
        resources: [ORDERS_API],
        first_party: true,
      },
      {
        client_id: 'partner',
        client_secret: PARTNER_SECRET,
        grant_types: ['client_credentials'],
        scopes: ['orders:read', 'orders:write'],
        resources: [ORDERS_API],
      },
    ],
    ...overrides,
  }
}

export interface IdentityGateway {
  readonly gh: GatehouseProcess
  readonly issuer: string
  readonly port: number
}

export async function startIdentityGateway(options: IdentityOptions = {}): Promise<IdentityGateway> {
  const port = options.port ?? (await freePort())
  const issuer = `${options.scheme ?? 'http'}://${options.host ?? '127.0.0.1'}:${port}/oidc`
  const config = {
    _format_version: '3.0',
    identity: identitySection(issuer, options.identity),
    ...(typeof options.rest === 'function' ? options.rest(issuer) : options.rest),
  }
  const gh = await startGatehouse({ config, args: ['--proxy-listen', `127.0.0.1:${port}`] })
  return { gh, issuer, port }
}

/** The running gateway's own SQLite store, opened from the test (as `gatehouse users ...` would). */
export async function storeOf(gh: GatehouseProcess): Promise<Store> {
  return openStore({ sqlite: { path: join(gh.dir, 'gatehouse.db') } })
}
