/**
 * Config of the hmac-auth plugin (Kong's hmac-auth schema, 3.x) and of its credential,
 * `hmacauth_credentials`. Kong writes unset optional fields as `null` in exports, so those accept `null`.
 */
import { z } from 'zod'
import { realm } from '../key-auth/schema.ts'

/** Kong's ALGORITHMS, in Kong's order (also the default list). */
export const ALGORITHMS = ['hmac-sha1', 'hmac-sha256', 'hmac-sha384', 'hmac-sha512'] as const
export type HmacAlgorithm = (typeof ALGORITHMS)[number]

/** What may be signed: a header name (an RFC 9110 token), or one of the two pseudo-headers. */
const signedName = z.string().regex(/^(@request-target|[!#$%&'*+.^_`|~0-9A-Za-z-]+)$/, {
  error: 'must be a header name, `@request-target` or `request-line`',
})

export const hmacAuthSchema = z
  .strictObject({
    hide_credentials: z
      .boolean()
      .default(false)
      .describe(
        'Remove the `Authorization` header the credentials were read from before forwarding (`Proxy-Authorization` never goes upstream). Default: false.',
      ),
    clock_skew: z
      .number({ error: 'expected a number' })
      .gt(0, { error: 'value must be greater than 0' })
      .default(300)
      .describe(
        'Seconds the `X-Date` or `Date` header may differ from the gateway clock, either way; a request with neither within it is refused. It bounds replays only when clients sign the date (put `date` or `x-date` in `enforce_headers`). Default: 300.',
      ),
    anonymous: z
      .string()
      .nullish()
      .describe(
        'Consumer (id or username) to use when authentication fails, instead of answering 401; makes this plugin a logical OR with the other auth plugins of the route. Must exist. Default: unset.',
      ),
    validate_request_body: z
      .boolean()
      .default(false)
      .describe(
        'Check the body against the `Digest: SHA-256=<base64>` header (a request without `Digest` passes only with an empty body). The body is then read before proxying, up to `proxy.max_buffered_body_size` (1 MiB by default; larger: 413 `GH_ERR_REQUEST_BODY_TOO_LARGE`). The digest protects the body only when it is signed: put `digest` in `enforce_headers`. Default: false.',
      ),
    enforce_headers: z
      .array(signedName)
      .default([])
      .describe(
        'Names the client must have signed (in the `headers` list of its credentials), e.g. `[date, "@request-target", digest]`; compared case-insensitively. Default: `[]`.',
      ),
    algorithms: z
      .array(
        z.enum(ALGORITHMS, {
          error: 'expected one of: hmac-sha1, hmac-sha256, hmac-sha384, hmac-sha512',
        }),
      )
      .default([...ALGORITHMS])
      .describe(
        'The HMAC algorithms accepted: `hmac-sha1`, `hmac-sha256`, `hmac-sha384`, `hmac-sha512`. Default: all four (Kong 3.x).',
      ),
    realm: realm
      .nullish()
      .describe(
        'Realm in the `WWW-Authenticate` challenge of a 401: `hmac realm="<realm>"`, or plain `hmac` when unset. Default: unset.',
      ),
  })
  .describe(
    "Authenticates consumers by an HMAC signature of the request (Kong's hmac-auth): `Authorization: hmac username=…, algorithm=…, headers=…, signature=…`.",
  )

export type HmacAuthConfig = z.output<typeof hmacAuthSchema>

/** The fields of one `hmacauth_credentials` entry. */
export const hmacCredentialFields = {
  username: z
    .string()
    .min(1, { error: 'must not be empty' })
    .regex(/^[^"\\\p{Cc}]*$/u, {
      error: 'must not contain `"`, `\\` or control characters (it is sent as a quoted parameter)',
    })
    .describe('The username the client sends in `username="…"`; unique.'),
  secret: z
    .string()
    .min(1, { error: 'must not be empty' })
    .optional()
    .describe(
      'The shared secret the client signs with. Default: a random 32-character secret, which changes when the process restarts in a file-configured gateway (so set it; DB mode stores it).',
    ),
}
