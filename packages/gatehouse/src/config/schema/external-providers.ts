/**
 * `identity.external_providers`: upstream OpenID Connect providers people may sign in with ("Sign in
 * with Google") on the built-in provider's login page (src/identity/broker/). Named "external providers"
 * rather than "brokers" or "upstreams": Gatehouse is the broker, and an upstream is what the gateway
 * proxies to; these are the other identity providers it trusts to say who someone is.
 */
import { z } from 'zod'

const scopeToken = z
  .string()
  .regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/, { error: 'expected a scope token (RFC 6749 §3.3)' })

/** Hosts where plain http is allowed (a provider on this machine; RFC 8252 §7.3's reasoning). */
export function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127(\.\d{1,3}){3}$/.test(hostname)
}

export const externalProvider = z.strictObject({
  name: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{0,31}$/, {
      error: 'must be 1-32 lower-case letters, digits and -, starting with a letter or digit',
    })
    .describe(
      'Short name, e.g. `google`: in the sign-in URLs, the logs, and every link to a local account. Links are kept by this name: renaming a provider leaves its links behind (`gatehouse users unlink`).',
    ),
  display_name: z
    .string()
    .min(1)
    .max(64)
    .describe('What the login page shows: a button "Sign in with <display_name>", e.g. `Google`.'),
  issuer: z
    .url({ protocol: /^https?$/, error: 'expected an http(s) URL' })
    .refine((u) => !u.includes('?') && !u.includes('#'), { error: 'must have no query or fragment' })
    .refine((u) => new URL(u).protocol === 'https:' || isLoopbackHost(new URL(u).hostname), {
      error: 'must be https unless the host is localhost or a loopback address',
    })
    .describe(
      "The provider's issuer, exactly as its discovery document (`<issuer>/.well-known/openid-configuration`) names it, e.g. `https://accounts.google.com`. Discovered on first use; retried after 5 s when it fails.",
    ),
  client_id: z
    .string()
    .min(1)
    .max(255)
    .describe('The client_id Gatehouse is registered with at the provider.'),
  client_secret: z
    .string()
    .min(1)
    .describe(
      'The client secret the provider issued (use `{vault://env/NAME}`). Never logged or shown by the admin API.',
    ),
  client_auth: z
    .enum(['client_secret_basic', 'client_secret_post'])
    .default('client_secret_basic')
    .describe('How Gatehouse authenticates at the token endpoint. Default: `client_secret_basic`.'),
  scopes: z
    .array(scopeToken)
    .min(1)
    .default(['openid', 'profile', 'email'])
    .refine((s) => s.includes('openid'), { error: 'must include openid (an ID token is required)' })
    .describe('Scopes asked for. Must include `openid`. Default: `[openid, profile, email]`.'),
  create_accounts: z
    .boolean()
    .default(false)
    .describe(
      "A first sign-in with an identity no local account is linked to creates one (username from `preferred_username` or the e-mail's local part, made unique; no password). Off: the person proves an existing local account with its password, and it is linked. Default: false.",
    ),
  trust_amr: z
    .boolean()
    .default(false)
    .describe(
      "Copy the provider's `amr` (RFC 8176 values only) into the session: with `mfa` among them the sign-in counts as two factors (`urn:gatehouse:acr:2fa`). Off: a brokered sign-in is one factor with `amr: []`. Only for a provider you trust to report how it authenticated. Default: false.",
    ),
  timeout: z
    .int()
    .min(1)
    .max(60)
    .default(10)
    .describe('Seconds for each request to the provider (discovery, token, userinfo, keys). Default: 10.'),
})

export const externalProviders = z
  .array(externalProvider)
  .max(20)
  .default([])
  .describe(
    'Other OpenID Connect providers people may sign in with (brokering): one button each on the login page. The callback is `<issuer>/broker/callback` for all of them; register it at each provider. Default: none.',
  )

export type ExternalProviderConfig = z.output<typeof externalProvider>

/** The rules across entries: names are unique. */
export function checkExternalProviders(
  providers: readonly ExternalProviderConfig[],
  issue: (path: string, message: string) => void,
): void {
  const names = new Set<string>()
  for (const [i, p] of providers.entries()) {
    if (names.has(p.name)) issue(`identity.external_providers[${i}].name`, `duplicate name '${p.name}'`)
    names.add(p.name)
  }
}
