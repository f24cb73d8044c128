/**
 * An independent OpenID provider for the step-up tests (panva's oidc-provider, its own keys and memory
 * storage), whose sign-in the test decides: each login interaction finishes at once as `next` says —
 * which acr and amr the person proved, and when (`ts`, for an old auth_time) — or with an OAuth error.
 * It advertises the built-in provider's acr values, and, like it, asks for a new sign-in when
 * `acr_values` names none the session has (`honourAcrValues: false` plays a provider that ignores them).
 * ID tokens (always) and JWT access tokens (RFC 9068, for API) carry acr, amr and auth_time; `omitAuthTime` leaves
 * auth_time out of access tokens. Every authorization request's step-up parameters are recorded.
 */
import { createServer } from 'node:http'
import { exportJWK, generateKeyPair } from 'jose'
import Provider, { interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider'
import { listen } from '../identity-propagation/support.ts'

export const ACR_1FA = 'urn:gatehouse:acr:1fa'
export const ACR_2FA = 'urn:gatehouse:acr:2fa'
export const API = 'https://orders.step-up.test'
export const SUBJECT = 'user-step-up'
/** The redirect URI of a client the test plays itself (for bearer tokens); never followed. */
export const CLIENT_CALLBACK = 'http://127.0.0.1:9/cb'

export interface NextLogin {
  readonly acr?: string
  readonly amr?: string[]
  /** Epoch seconds the person authenticated (auth_time); default now. */
  readonly ts?: number
  /** Finish the interaction with this OAuth error instead (e.g. unmet_authentication_requirements). */
  readonly error?: string
}

export interface Asked {
  readonly acr_values: string | undefined
  readonly max_age: string | undefined
  readonly prompt: string | undefined
}

export interface StepUpProvider {
  readonly issuer: string
  readonly clientSecret: string
  next: NextLogin
  honourAcrValues: boolean
  omitAuthTime: boolean
  /** The step-up parameters of every authorization request, in order. */
  readonly asked: Asked[]
  /** Login interactions finished so far. */
  logins: number
  close(): Promise<void>
}

const PWD: NextLogin = { acr: ACR_1FA, amr: ['pwd'] }

export async function startStepUpProvider(redirectUris: string[]): Promise<StepUpProvider> {
  const server = createServer()
  const listening = await listen(server)
  const issuer = `http://127.0.0.1:${listening.port}`
  const { privateKey } = await generateKeyPair('ES256', { extractable: true })
  const jwk = { ...(await exportJWK(privateKey)), kid: 'step-up-1', alg: 'ES256', use: 'sig' }
  const clientSecret = 'step-up-client-secret-0123456789abcdefghij'
  const state: StepUpProvider = {
    issuer,
    clientSecret,
    next: PWD,
    honourAcrValues: true,
    omitAuthTime: false,
    asked: [],
    logins: 0,
    close: () => listening.close(),
  }

  const policy = interactionPolicy.base()
  policy.get('login')!.checks.add(
    new interactionPolicy.Check('acr_values', 'the session has none of the acr values asked for', (ctx) => {
      const wanted = ctx.oidc.params?.acr_values
      if (!state.honourAcrValues || typeof wanted !== 'string' || ctx.oidc.result?.login) return false
      return !wanted.split(' ').includes(ctx.oidc.session?.acr as string)
    }),
  )

  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: 'shop-web',
        client_secret: clientSecret,
        redirect_uris: [...redirectUris, CLIENT_CALLBACK],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        id_token_signed_response_alg: 'ES256',
      },
    ],
    jwks: { keys: [jwk] },
    acrValues: [ACR_1FA, ACR_2FA],
    scopes: ['openid', 'profile'],
    // In every ID token, as the built-in provider writes them (oidc-provider's default puts acr and
    // auth_time in only when acr_values or max_age asked for them, and amr never).
    claims: { openid: ['sub', 'acr', 'amr', 'auth_time'], profile: ['name'] },
    findAccount: (_ctx, id) => ({ accountId: id, claims: () => ({ sub: id, name: 'Step Tester' }) }),
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}`, policy },
    features: {
      devInteractions: { enabled: false },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => API,
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({
          scope: 'api',
          audience: API,
          accessTokenFormat: 'jwt',
          accessTokenTTL: 300,
          jwt: { sign: { alg: 'ES256' } },
        }),
      },
    },
    // A first-party client: no consent page (the grant covers what is asked).
    loadExistingGrant: async (ctx: KoaContextWithOIDC) => {
      const { oidc } = ctx
      const grant = new oidc.provider.Grant({
        clientId: oidc.client!.clientId,
        accountId: oidc.session!.accountId!,
      })
      grant.addOIDCScope('openid profile')
      grant.addResourceScope(API, 'api')
      await grant.save()
      return grant
    },
    // RFC 9068 §2.2.1: the access token says how the person authenticated.
    extraTokenClaims: (ctx: KoaContextWithOIDC) => {
      const code = ctx.oidc.entities.AuthorizationCode
      if (code === undefined) return {}
      return {
        acr: code.acr,
        amr: code.amr,
        ...(state.omitAuthTime ? {} : { auth_time: code.authTime }),
      }
    },
  })
  provider.on('server_error', (_ctx, err) => console.error('step-up provider error', err))

  const callback = provider.callback()
  server.on('request', (req, res) => {
    if (!req.url?.startsWith('/interaction/')) return void callback(req, res)
    void (async () => {
      const details = await provider.interactionDetails(req, res)
      const params = details.params as Record<string, string | undefined>
      state.asked.push({ acr_values: params.acr_values, max_age: params.max_age, prompt: params.prompt })
      const next = state.next
      if (next.error !== undefined) {
        await provider.interactionFinished(
          req,
          res,
          { error: next.error },
          { mergeWithLastSubmission: false },
        )
        return
      }
      state.logins++
      await provider.interactionFinished(
        req,
        res,
        {
          login: {
            accountId: SUBJECT,
            ...(next.acr !== undefined ? { acr: next.acr } : {}),
            ...(next.amr !== undefined ? { amr: next.amr } : {}),
            ts: next.ts ?? Math.floor(Date.now() / 1000),
          },
        },
        { mergeWithLastSubmission: false },
      )
    })().catch((err: unknown) => {
      console.error('step-up provider interaction failed', err)
      res.statusCode = 500
      res.end()
    })
  })
  return state
}
