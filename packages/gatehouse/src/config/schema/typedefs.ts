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
 * A reference to another entity in a declarative file, as Kong's format writes one: the entity's key (a
 * service's, route's or upstream's `name`; a consumer's `username`) or its id as a string, or `{ id }`, or
 * `{ <key> }`. Each kind has its own key, so `service: { username: orders }` is refused where it is
 * written, naming the forms a service takes, rather than reported later as a service that does not exist.
 */
function referenceTo<K extends 'name' | 'username'>(kind: string, key: K) {
  const text = z.string().min(1)
  const byKey = { [key]: text.describe(`The ${key} of the ${kind} referred to.`) } as Record<K, typeof text>
  return z.union(
    [
      text,
      z.strictObject({ id: text.describe(`The id of the ${kind} referred to.`) }),
      z.strictObject(byKey),
    ],
    { error: (issue) => referenceProblem(kind, key, issue.input) },
  )
}

function referenceProblem(kind: string, key: string, input: unknown): string {
  const forms = `its ${key} or id as a string, { id: … } or { ${key}: … }`
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return `expected ${forms}`
  const members = Object.keys(input)
  const foreign = members.filter((m) => m !== 'id' && m !== key)
  const article = /^[aeiou]/.test(kind) ? 'an' : 'a'
  if (foreign.length > 0)
    return `${article} ${kind} is referred to by id or ${key}, not ${foreign.join(' or ')}`
  if (members.length > 1) return `give the ${kind}'s id or its ${key}, not both`
  if (members.length === 0) return `expected { id: … } or { ${key}: … }, not an empty mapping`
  return `${members[0]} must be a string`
}

/** A reference to a service: its name or id. */
export const serviceReference = referenceTo('service', 'name')
/** A reference to a route: its name or id. */
export const routeReference = referenceTo('route', 'name')
/** A reference to an upstream: its name or id. */
export const upstreamReference = referenceTo('upstream', 'name')
/** A reference to a consumer: its username or id (Kong's endpoint key for consumers). */
export const consumerReference = referenceTo('consumer', 'username')

export type Reference = string | { id: string } | { name: string } | { username: string }

/**
 * The protocols the proxy serves, to clients and to upstreams. `ws` and `wss` are WebSocket (issue 13):
 * on a route, handshakes only (plain and TLS); on a service, http and https to the upstream. `grpc` and
 * `grpcs` are gRPC over HTTP/2 (cleartext with prior knowledge, and TLS), to clients and upstreams.
 */
export const PROXY_PROTOCOLS = ['http', 'https', 'ws', 'wss', 'grpc', 'grpcs'] as const

/** Plain HTTP: a route's default protocols (Kong's), and what plugins' `protocols` name. */
export const HTTP_PROTOCOLS = ['http', 'https'] as const

/** The WebSocket protocols of a route or service. */
export const WEBSOCKET_PROTOCOLS: readonly string[] = ['ws', 'wss']

/** The gRPC protocols of a route or service. */
export const GRPC_PROTOCOLS: readonly string[] = ['grpc', 'grpcs']

/** Kong's other protocols (streams): a Kong file may name them; this version serves none. */
const KONG_ONLY_PROTOCOLS: readonly unknown[] = ['tcp', 'tls', 'tls_passthrough', 'udp']

/**
 * One of PROXY_PROTOCOLS. A protocol Kong has but the proxy does not serve gets its own message, so a
 * Kong file that uses one is told what is missing rather than that its value is unknown.
 */
export function proxyProtocol(kind: 'routes' | 'services') {
  return z.enum(PROXY_PROTOCOLS, {
    error: (issue) =>
      KONG_ONLY_PROTOCOLS.includes(issue.input)
        ? `'${String(issue.input)}' ${kind} are not supported yet; use http or https`
        : `expected one of ${PROXY_PROTOCOLS.join(', ')}`,
  })
}

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
