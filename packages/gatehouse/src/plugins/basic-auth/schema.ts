/**
 * Config of the basic-auth plugin (Kong's basic-auth schema, 3.x) and of its credential,
 * `basicauth_credentials`. Kong writes unset optional fields as `null` in exports, so those accept `null`.
 */
import { z } from 'zod'

export const basicAuthSchema = z
  .strictObject({
    anonymous: z
      .string()
      .nullish()
      .describe(
        'Consumer (id or username) to use when authentication fails, instead of answering 401; makes this plugin a logical OR with the other auth plugins of the route. Must exist. Default: unset.',
      ),
    hide_credentials: z
      .boolean()
      .default(false)
      .describe('Remove the `Authorization` header from what goes upstream. Default: false.'),
    realm: z
      .string()
      .regex(/^[\x20-\x7e]*$/, {
        error: 'must be printable ASCII (it is sent in the WWW-Authenticate header)',
      })
      .default('service')
      .describe(
        'Realm in the `WWW-Authenticate: Basic realm="<realm>"` challenge of a 401. Default: `service`.',
      ),
  })
  .describe(
    "Authenticates consumers by username and password in the Authorization header (Kong's basic-auth); passwords are kept as argon2id hashes. Password checks are bounded per process (2 running, 32 waiting); beyond that a request gets 503 with `Retry-After: 1`, and a right password checked in the last 60 s costs no new check.",
  )

export type BasicAuthConfig = z.output<typeof basicAuthSchema>

/** The fields of one `basicauth_credentials` entry. */
export const basicCredentialFields = {
  username: z
    .string()
    .min(1, { error: 'must not be empty' })
    .regex(/^[^:]*$/, { error: 'must not contain ":" (Basic credentials are split at the first colon)' })
    .describe('The username sent in the Authorization header; unique.'),
  password: z
    .string()
    .min(1, { error: 'must not be empty' })
    .describe(
      'The password, or its argon2id hash as a PHC string (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`, e.g. from `node packages/gatehouse/src/crypto/hash-password.ts`), so the file need not hold it in clear. A plain password is hashed when the file is loaded; only the hash is kept, and the admin API shows neither.',
    ),
}
