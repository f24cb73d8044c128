/**
 * Field types shared by the entity schemas, with Kong's constraints, so a Kong declarative file is checked
 * the way Kong checks it (kong/db/schema/typedefs.lua).
 */
import { z } from 'zod'

/** Kong's `utf8_name`: letters, digits and `. _ ~ -`. */
export const name = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[\p{L}\p{N}._~-]+$/u, { error: 'must contain only letters, digits and . _ ~ -' })

export const uuid = z.uuid({ error: 'expected a UUID' })

export const tags = z
  .array(
    z
      .string()
      .min(1)
      .max(128)
      .regex(/^[^,\s]+$/, { error: 'must not contain commas or spaces' }),
  )
  .describe('Free-form labels (Kong `tags`); listed by the admin API, not used for routing.')
  .optional()

/** Milliseconds, Kong's `timeout` typedef: 1 .. 2^31-2. */
export const timeoutMs = z.int().min(1).max(2_147_483_646)

export const port = z.int().min(0).max(65_535)

/**
 * A host name (RFC 1123 labels) or an IP literal. Kong lowercases hosts; we do the same in the
 * normaliser so matching compares like with like.
 */
export const host = z
  .string()
  .min(1)
  .max(253)
  .regex(
    /^(\[[0-9a-fA-F:.]+\]|[a-zA-Z0-9]([a-zA-Z0-9_-]{0,62})?(\.[a-zA-Z0-9]([a-zA-Z0-9_-]{0,62})?)*\.?)$/,
    {
      error: 'expected a host name or IP address',
    },
  )

/** An absolute path: starts with `/`, no whitespace, no fragment. */
export const path = z
  .string()
  .regex(/^\/[^\s#?]*$/, { error: 'must start with "/" and contain no spaces, "?" or "#"' })

/**
 * A reference to another entity in a declarative file: its name (or id) as a string, or `{ id }` /
 * `{ name }` / `{ username }` as Kong's declarative format also allows.
 */
export const reference = z.union([
  z.string().min(1),
  z.strictObject({ id: z.string().min(1).describe('The id of the entity referred to.') }),
  z.strictObject({ name: z.string().min(1).describe('The name of the service or route referred to.') }),
  z.strictObject({ username: z.string().min(1).describe('The username of the consumer referred to.') }),
])
export type Reference = z.infer<typeof reference>

/** HTTP methods are upper-case tokens (RFC 9110 §9). */
export const method = z
  .string()
  .regex(/^[A-Z]+$/, { error: 'must be an upper-case HTTP method such as GET' })
  .max(32)

/** An `HOST:PORT` listen address; IPv6 in brackets. Port 0 picks a free port. */
export const listenAddress = z
  .string()
  .regex(/^(\[[0-9a-fA-F:.]+\]|[^\s:[\]]+):\d{1,5}$/, { error: 'expected HOST:PORT, e.g. 0.0.0.0:8000' })
  .refine((v) => !(Number(v.slice(v.lastIndexOf(':') + 1)) > 65_535), { error: 'port must be 0..65535' })
