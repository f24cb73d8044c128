/**
 * Whose requests count together (`limit_by`), as Kong's get_identifier: the chosen value, or the client
 * IP whenever it is missing (an unauthenticated request under `consumer`, a request without the header,
 * a path other than `path`). `consumer` falls back to the credential as Kong's does, and before the IP
 * to the principal, for callers identified by a token without a consumer (openid-connect).
 */
import { createHash } from 'node:crypto'
import type { RequestState } from '../../pipeline/request-state.ts'
import type { RateLimitingConfig } from './schema.ts'

/** Longer identifiers (header values are the client's choice) are hashed to keep keys bounded. */
const MAX_IDENTIFIER = 128

export type Identify = (state: RequestState) => string

export function identifierFor(config: RateLimitingConfig): Identify {
  const bounded = (id: string) =>
    id.length <= MAX_IDENTIFIER ? id : `sha256:${createHash('sha256').update(id).digest('base64url')}`
  switch (config.limit_by) {
    case 'consumer':
      return (s) =>
        s.consumer?.id ??
        s.credential?.id ??
        (s.principal !== null
          ? bounded(`principal:${s.principal.issuer ?? ''}:${s.principal.subject}`)
          : null) ??
        s.clientIp
    case 'credential':
      return (s) => s.credential?.id ?? s.clientIp
    case 'ip':
      return (s) => s.clientIp
    case 'service':
      return (s) => s.route?.service?.id ?? s.clientIp
    case 'header': {
      const name = config.header_name!.toLowerCase()
      return (s) => {
        const value = s.req.headers[name]
        const first = Array.isArray(value) ? value[0] : value
        return first ? bounded(first) : s.clientIp
      }
    }
    case 'path': {
      const path = config.path!
      return (s) => (s.path === path ? path : s.clientIp)
    }
  }
}
