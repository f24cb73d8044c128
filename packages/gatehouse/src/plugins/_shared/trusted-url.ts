/**
 * Where keys and metadata may come from: https, or plain http on a loopback host only, since keys fetched
 * over plain http could be swapped in transit (openid-connect's issuers and JWKS, session's provider).
 */
import { z } from 'zod'

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]'])

/** An http(s) URL; plain http only on loopback, since keys fetched over it could be swapped in transit. */
export const trustedUrl = () =>
  z
    .url({
      protocol: /^https?$/,
      // A missing key keeps zod's message, which the loader words as "is required".
      error: (issue) => (issue.input === undefined ? undefined : 'expected an http(s) URL'),
    })
    .refine((u) => !u.includes('#'), { error: 'must not contain a fragment' })
    .refine((u) => !URL.canParse(u) || new URL(u).protocol !== 'http:' || isTrustedOrigin(new URL(u)), {
      error: 'must use https (plain http is allowed only for localhost, 127.0.0.1 and [::1])',
    })

/** https, or http on a loopback host: where keys and metadata may come from. */
export function isTrustedOrigin(url: URL): boolean {
  return url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname))
}
