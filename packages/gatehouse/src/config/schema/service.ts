/** The `services` entity: where an upstream lives and how to talk to it (Kong's services.lua). */
import { z } from 'zod'
import { pemSource } from './tls.ts'
import { host, name, path, port, proxyProtocol, tags, timeoutMs, uuid } from './typedefs.ts'

/** Fields shared by a top-level service and one nested elsewhere. Nested routes and plugins are added by root.ts. */
export const serviceFields = {
  id: uuid.optional().describe('Entity id. Default: a stable UUID derived from the name.'),
  name: name.optional().describe('Unique name, used by routes and plugins to refer to the service.'),
  url: z
    .url({
      protocol: /^(https?|wss?|grpcs?)$/,
      error: 'expected an http://, https://, ws://, wss://, grpc:// or grpcs:// URL',
    })
    .optional()
    .describe(
      'Shorthand for protocol, host, port and path at once, e.g. `http://orders:8080/v1` (`ws://`, `wss://`, `grpc://` and `grpcs://` as for `protocol`; a gRPC URL has no path).',
    ),
  protocol: proxyProtocol('services')
    .optional()
    .describe(
      "Protocol to the upstream. `ws` and `wss` (Kong's WebSocket services) mean http and https to the upstream, and set `websocket_upgrade`. `grpc` and `grpcs` are gRPC over HTTP/2, cleartext (h2c) or TLS (with this service's TLS settings), for grpc/grpcs routes; they take no `path` (as in Kong). Kong's stream protocols are not supported yet. Default: `http`.",
    ),
  websocket_upgrade: z
    .boolean()
    .optional()
    .describe(
      "Proxy an `Upgrade: websocket` handshake that arrives on this service's http/https routes as a WebSocket (Kong needs `ws`/`wss` routes for that, which are always proxied as WebSocket). Off, such a handshake is refused (400, GH_ERR_WEBSOCKET_NOT_ALLOWED), never passed on as plain HTTP. Default: false (true when `protocol` is `ws` or `wss`).",
    ),
  host: host.optional().describe('Upstream host name or IP. Required unless `url` is given.'),
  port: port.optional().describe('Upstream port. Default: 80 (443 when the url is https).'),
  path: path.optional().describe('Path prefix prepended to every upstream request. Default: none.'),
  retries: z
    .int()
    .min(0)
    .max(32_767)
    .default(5)
    .describe(
      'Times to retry a failed connection. A request of which nothing was sent (connection refused, connect timeout, unreachable, a pooled connection closed before its first byte) is retried whatever its method and body; one that may have reached the upstream only when its method is idempotent and it has no body. Retries go to another target of a balanced service when there is one. Default: 5.',
    ),
  connect_timeout: timeoutMs
    .default(60_000)
    .describe('Milliseconds to establish a connection. Default: 60000.'),
  write_timeout: timeoutMs
    .default(60_000)
    .describe('Milliseconds between two writes of the request body to the upstream. Default: 60000.'),
  read_timeout: timeoutMs
    .default(60_000)
    .describe(
      'Milliseconds to wait for response headers, then between two reads of the body. Default: 60000.',
    ),
  enabled: z.boolean().default(true).describe('A disabled service answers 503 on its routes. Default: true.'),
  tls_verify: z
    .boolean()
    .optional()
    .describe(
      "Verify the upstream's certificate (chain and host name) for https. Default: true (Kong: false; safe by default here).",
    ),
  tls_verify_depth: z
    .int()
    .min(0)
    .max(64)
    .optional()
    .describe(
      "Most intermediate CA certificates accepted between the upstream's certificate and a trusted CA. Default: no limit.",
    ),
  ca_certificates: z
    .array(pemSource)
    .min(1, { error: 'must list at least one CA certificate' })
    .optional()
    .describe(
      "The CA certificates the upstream's certificate must chain to, instead of the system's: PEM file paths (relative to the configuration file) or PEM text. Default: the system's trusted CAs.",
    ),
  client_certificate: z
    .union([
      z.strictObject({
        cert: pemSource.describe('The client certificate (PEM): a file path or the PEM text.'),
        key: pemSource.describe(
          'Its private key (PEM, unencrypted): a file path or the PEM text, e.g. `{vault://env/ORDERS_CLIENT_KEY}`.',
        ),
      }),
      z.strictObject({ id: uuid.describe('A Kong certificate entity id.') }),
    ])
    .optional()
    .describe(
      "The certificate Gatehouse presents to the upstream (mutual TLS), as `{ cert, key }` (Kong's `{ id }` of a certificate entity is not supported yet). Default: none.",
    ),
  tags,
}
