/**
 * An independent OpenID Connect provider for the brokering tests: panva's oidc-provider in the test
 * process, on its own address (127.0.0.2, port 0: another host for the browser, so its cookies never
 * mix with the gateway's on 127.0.0.1), with one confidential client (the gateway). Its interaction is
 * the test's: whoever `next` names is signed in at once (with that amr), or the sign-in is refused with
 * `next.error`; consent is implied (loadExistingGrant). Claims come from userinfo, as by default.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { exportJWK, generateKeyPair } from 'jose'
import Provider, { type KoaContextWithOIDC } from 'oidc-provider'
import { trackServer } from '../../harness/resources.ts'

export const EXT_CLIENT_ID = 'gatehouse-broker'
export const EXT_CLIENT_SECRET = 'external-provider-secret-0123456789abcdef'

export interface ExternalAccount {
  readonly sub: string
  readonly email?: string
  readonly email_verified?: boolean
  readonly preferred_username?: string
  readonly name?: string
}

export type NextSignIn = { account: ExternalAccount; amr?: string[] } | { error: string }

export interface ExternalProvider {
  readonly issuer: string
  /** Who the next sign-in at this provider is (set before the browser gets there). */
  next: NextSignIn
  /** The interactions it served, in order (the sub signed in, or the error). */
  readonly served: string[]
  /** Publish another key under the signing key's kid: its ID tokens then fail their signature check. */
  wrongKeys: boolean
  close(): Promise<void>
}

export async function startExternalProvider(redirectUri: string): Promise<ExternalProvider> {
  const server: Server = createServer()
  trackServer('external provider', server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.2', resolve))
  const issuer = `http://127.0.0.2:${(server.address() as AddressInfo).port}`
  const accounts = new Map<string, ExternalAccount>()
  const { privateKey } = await generateKeyPair('RS256', { extractable: true })
  const jwk = { ...(await exportJWK(privateKey)), kid: 'ext-1', alg: 'RS256', use: 'sig' }
  const impostor = (await generateKeyPair('RS256', { extractable: true })).publicKey
  const wrongJwks = JSON.stringify({
    keys: [{ ...(await exportJWK(impostor)), kid: 'ext-1', alg: 'RS256', use: 'sig' }],
  })

  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: EXT_CLIENT_ID,
        client_secret: EXT_CLIENT_SECRET,
        redirect_uris: [redirectUri],
        grant_types: ['authorization_code'],
        response_types: ['code'],
      },
    ],
    jwks: { keys: [jwk as never] },
    cookies: { keys: ['external-provider-cookie-key-0123456789'] },
    claims: {
      openid: ['sub', 'amr'],
      email: ['email', 'email_verified'],
      profile: ['preferred_username', 'name'],
    },
    pkce: { required: () => true },
    features: { devInteractions: { enabled: false } },
    interactions: {
      url: (_ctx: KoaContextWithOIDC, interaction: { uid: string }) => `/interaction/${interaction.uid}`,
    },
    findAccount: async (_ctx, sub) => {
      const account = accounts.get(sub)
      return account && { accountId: sub, claims: () => ({ ...account }) }
    },
    loadExistingGrant: async (ctx) => {
      const { oidc } = ctx
      if (oidc.session?.accountId === undefined) return undefined
      const grant = new oidc.provider.Grant({
        clientId: oidc.client!.clientId,
        accountId: oidc.session.accountId,
      })
      grant.addOIDCScope(String(oidc.params?.scope ?? 'openid'))
      await grant.save()
      return grant
    },
    renderError: async (ctx, out) => {
      ctx.type = 'text/plain'
      ctx.body = `external provider error: ${out.error}`
    },
  })
  const callback = provider.callback()
  const ext: ExternalProvider = {
    issuer,
    next: { error: 'access_denied' },
    served: [],
    wrongKeys: false,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
  server.on('request', (req, res) => {
    if (req.url === '/jwks' && ext.wrongKeys)
      return void res.writeHead(200, { 'content-type': 'application/json' }).end(wrongJwks)
    if (!req.url?.startsWith('/interaction/')) return void callback(req, res)
    void (async () => {
      await provider.interactionDetails(req, res)
      const next = ext.next
      if ('error' in next) {
        ext.served.push(`error:${next.error}`)
        return provider.interactionFinished(
          req,
          res,
          { error: next.error },
          { mergeWithLastSubmission: false },
        )
      }
      accounts.set(next.account.sub, next.account)
      ext.served.push(next.account.sub)
      return provider.interactionFinished(
        req,
        res,
        { login: { accountId: next.account.sub, ...(next.amr !== undefined && { amr: next.amr }) } },
        { mergeWithLastSubmission: false },
      )
    })().catch((err: unknown) => {
      res.writeHead(500).end(String(err))
    })
  })
  return ext
}
