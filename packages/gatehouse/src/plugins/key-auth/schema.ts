/**
 * Config of the key-auth plugin (Kong's key-auth schema, 3.x) and of its credential,
 * `keyauth_credentials`. Kong writes unset optional fields as `null` in exports, so those accept `null`.
 */
import { z } from 'zod'

/** Kong's `header_name` typedef: a key name is looked up as a header and as a query parameter. */
const keyName = z.string().regex(/^[A-Za-z0-9_-]+$/, {
  error: 'bad header name, allowed characters are A-Z, a-z, 0-9, "_", and "-"',
})

/** Sent inside `WWW-Authenticate`, so it must be something a header can carry. */
export const realm = z.string().regex(/^[\x20-\x7e]*$/, {
  error: 'must be printable ASCII (it is sent in the WWW-Authenticate header)',
})

export const keyAuthSchema = z
  .strictObject({
    key_names: z
      .array(keyName)
      .min(1, { error: 'must name at least one key' })
      .default(['apikey'])
      .describe(
        'Names the key is looked for under, in order: for each name the header (case-insensitive; a name with `_` also matches the header with `-`), then the query parameter. Default: `[apikey]`.',
      ),
    hide_credentials: z
      .boolean()
      .default(false)
      .describe(
        'Remove the key from what goes upstream: the header and the query parameter of every key name. Default: false.',
      ),
    anonymous: z
      .string()
      .nullish()
      .describe(
        'Consumer (id or username) to use when authentication fails, instead of answering 401; makes this plugin a logical OR with the other auth plugins of the route. Must exist. Default: unset.',
      ),
    key_in_header: z.boolean().default(true).describe('Look for the key in request headers. Default: true.'),
    key_in_query: z.boolean().default(true).describe('Look for the key in query parameters. Default: true.'),
    key_in_body: z
      .boolean()
      .default(false)
      .describe(
        'Also look for the key in a form (`application/x-www-form-urlencoded`) or JSON body, when no header or query parameter carries one. The body is then read before proxying (others stream unread), up to `proxy.max_buffered_body_size` (1 MiB by default); a larger one gets 413 (`GH_ERR_REQUEST_BODY_TOO_LARGE`) before the upstream is called. Default: false.',
      ),
    run_on_preflight: z
      .boolean()
      .default(true)
      .describe(
        'Authenticate OPTIONS requests too; `false` lets every OPTIONS request through. Default: true.',
      ),
    realm: realm
      .nullish()
      .describe(
        'Realm in the `WWW-Authenticate` challenge of a 401: `Key realm="<realm>"`, or plain `Key` when unset. Default: unset.',
      ),
  })
  .describe("Authenticates consumers by an API key (Kong's key-auth).")

export type KeyAuthConfig = z.output<typeof keyAuthSchema>

/** Kong's bound on an entity's ttl (kong/db/dao), in seconds. */
export const MAX_TTL = 100_000_000

/** The fields of one `keyauth_credentials` entry. */
export const keyCredentialFields = {
  key: z
    .string()
    .min(1, { error: 'must not be empty' })
    .optional()
    .describe(
      'The API key; unique. Default: a random 32-character key, which changes when the process restarts (so set it).',
    ),
  ttl: z
    .int({ error: `must be an integer between 0 and ${MAX_TTL}` })
    .min(0, { error: `must be an integer between 0 and ${MAX_TTL}` })
    .max(MAX_TTL, { error: `must be an integer between 0 and ${MAX_TTL}` })
    .nullish()
    .describe(
      'Seconds the key works for, counted from when the configuration that declares it was loaded; every reload (even of the same file) starts the count again. 0 or unset: no expiry.',
    ),
}
