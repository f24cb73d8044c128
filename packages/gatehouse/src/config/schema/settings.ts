/**
 * Gatehouse's own top-level sections (not in Kong's format): how the process listens, logs and is
 * administered. Command-line flags and GATEHOUSE_* environment variables override these.
 */
import { isIP } from 'node:net'
import { z } from 'zod'
import { proxyTlsSettings } from './tls.ts'
import { listenAddress, timeoutMs } from './typedefs.ts'

/** An IPv4/IPv6 address or CIDR block. */
const ipOrCidr = z.string().refine((v) => /^[0-9a-fA-F:.]+(\/\d{1,3})?$/.test(v), {
  error: 'expected an IP address or CIDR block such as 10.0.0.0/8',
})

/**
 * The most `proxy.max_header_count` may be. Node's parser is told one more, so a request over any
 * configured count is seen (and refused) rather than silently cut to the first lines.
 */
export const MAX_HEADER_COUNT_LIMIT = 10_000

/** A listen address, or `off` for no plain-HTTP listener (the proxy then serves HTTPS only). */
export const proxyListen = z.union([z.literal('off'), listenAddress])

export const pathNormalizationSettings = z
  .strictObject({
    merge_slashes: z
      .boolean()
      .default(true)
      .describe(
        'Merge repeated slashes (`/app//admin` → `/app/admin`) before routing; nginx merges them too (`merge_slashes on`), and without this a protected prefix is missed. Envoy `merge_slashes`. Default: true.',
      ),
    escaped_slashes: z
      .enum(['reject', 'keep', 'unescape'])
      .default('reject')
      .describe(
        "`%2F` in the path. `reject`: 400 GH_ERR_REQUEST_PATH_REJECTED; `unescape`: read as `/` before dot segments are removed, so `/public/..%2Fprivate/x` routes to, and is forwarded as, `/private/x`; `keep`: routed and forwarded encoded, as part of one segment — only for upstreams that never decode it, since Go's net/http and WSGI do. Envoy `path_with_escaped_slashes_action` (`REJECT_REQUEST`, `UNESCAPE_AND_FORWARD`, `KEEP_UNCHANGED`). Default: `reject`.",
      ),
    backslashes: z
      .enum(['reject', 'keep', 'unescape'])
      .default('reject')
      .describe(
        'A raw `\\` or `%5C` in the path, which IIS and some Windows stacks read as `/`. `reject`: 400 GH_ERR_REQUEST_PATH_REJECTED; `unescape`: read as `/` before routing (`/app\\admin` → `/app/admin`); `keep`: routed and forwarded as sent. Envoy treats `%5C` with `path_with_escaped_slashes_action`. Default: `reject`.',
      ),
    path_parameters: z
      .enum(['reject', 'keep', 'strip'])
      .default('reject')
      .describe(
        '`;` parameters in a path segment (`/app;jsessionid=1/admin`), which Tomcat and Jetty drop before routing. `reject`: 400 GH_ERR_REQUEST_PATH_REJECTED; `strip`: cut from every segment as Tomcat does, before dot segments are removed (`/app/..;/admin` → `/admin`), and forwarded without them; `keep`: routed and forwarded as sent. Default: `reject`.',
      ),
    trailing_dots: z
      .enum(['reject', 'keep'])
      .default('reject')
      .describe(
        "A path segment ending in `.` or in an encoded space (`/admin./x`, `/admin%20/x`), which Windows servers (IIS) read without them, as `/admin/x`. `reject`: 400 GH_ERR_REQUEST_PATH_REJECTED; `keep`: routed and forwarded as sent. A route's prefix path may still end in either (`/v1.` matches `/v1.2`). Default: `reject`.",
      ),
  })
  .prefault({})
  .describe(
    'How the request path is made canonical before routing: the router matches the canonical path and the upstream is sent the path derived from it (strip_path, the service path), so no upstream reads a request as a path its route was not chosen for. Always: unreserved escapes decoded (`%41` → `A`), others upper-cased, dot segments removed (`/a/../b` → `/b`), encoded control characters (`%00`–`%1F`, `%7F`) refused. In order: escapes (with the slash and backslash actions), `;` parameters, repeated slashes, dot segments, trailing dots. Route prefix paths are made canonical the same way at load. The query string is never changed. See docs/edge.md.',
  )

export const proxySettings = z
  .strictObject({
    listen: proxyListen
      .default('0.0.0.0:8000')
      .describe(
        'Where the proxy listens for plain HTTP, HOST:PORT, or `off` (HTTPS only, `tls`). Flag `--proxy-listen`, env `GATEHOUSE_PROXY_LISTEN`. Default: `0.0.0.0:8000`.',
      ),
    trusted_ips: z
      .array(ipOrCidr)
      .default([])
      .describe(
        'Clients (load balancers) whose X-Forwarded-For/Proto/Host/Port/Prefix headers are trusted and extended; from anyone else they are replaced. Default: none.',
      ),
    keepalive_timeout: timeoutMs
      .default(60_000)
      .describe('Milliseconds an idle client connection is kept open. Default: 60000.'),
    headers_timeout: timeoutMs
      .default(60_000)
      .describe('Milliseconds a client has to send the complete request headers. Default: 60000.'),
    max_header_size: z
      .int()
      .min(1024)
      .max(1_048_576)
      .default(32_768)
      .describe('Largest request header block accepted, in bytes; larger gets 431. Default: 32768.'),
    max_header_count: z
      .int()
      .min(16)
      .max(MAX_HEADER_COUNT_LIMIT)
      .default(100)
      .describe(
        'Most header lines an HTTP/1.x request may have; more gets 431 (Node would drop the extra lines silently). HTTP/2 has its own bound of 128 fields. Default: 100.',
      ),
    h2c: z
      .boolean()
      .default(true)
      .describe(
        "Also take HTTP/2 with prior knowledge (h2c, RFC 9113 §3.3) on the plain listener, as gRPC clients send to `grpc` routes: a connection that opens with HTTP/2's preface is served as HTTP/2, any other as HTTP/1.1 (the first bytes of each connection are looked at once, nothing per request). Off, such a connection gets HTTP/1.1's 400 and closes. Default: true.",
      ),
    max_buffered_body_size: z
      .int()
      .min(1024)
      .max(1024 * 1024 * 1024)
      .default(1_048_576)
      .describe(
        'Largest request body the gateway reads into memory when a plugin must look inside it (key-auth with key_in_body); a larger one, announced by Content-Length or as it arrives, gets 413 before the upstream is called. Bodies no plugin reads stream through unlimited. Default: 1048576 (1 MiB).',
      ),
    shutdown_timeout: timeoutMs
      .default(10_000)
      .describe(
        'On SIGTERM, milliseconds to let in-flight requests finish before closing them. Default: 10000.',
      ),
    workers: z
      .union([z.literal('auto'), z.number().int().min(1).max(1024)])
      .optional()
      .describe(
        "Worker processes serving the proxy listeners: a number, or `auto` for `os.availableParallelism()` (which respects a container's CPU limit). With more than one, a primary process runs the admin and status listeners, holds the node's rate-limit counters, in-memory sessions, revocations and internal-token keys, and writes the one access log; the workers share the proxy ports. Flag `--workers`, env `GATEHOUSE_WORKERS`. Default: `auto` for `gatehouse start`, 1 for the demos and the programmatic `start()`. See docs/performance.md.",
      ),
    tls: proxyTlsSettings.optional(),
    path_normalization: pathNormalizationSettings,
    headers_with_underscores: z
      .enum(['drop', 'reject', 'allow'])
      .default('drop')
      .describe(
        "Request header names with `_`: CGI, WSGI, PHP and Rack read `X_Consumer_Username` and `X-Consumer-Username` as the same variable, so a client could pass one off as the other. `drop`: removed before routing, so no route matcher, plugin or upstream sees them (nginx's `underscores_in_headers off`, Envoy's `headers_with_underscores_action: DROP_HEADER`); `reject`: 400 GH_ERR_REQUEST_HEADER_REJECTED (Envoy's `REJECT_REQUEST`); `allow`: passed on, except a name that reads as an identity header, or as one the gateway frames the request by or sets (Host, Content-Length, Transfer-Encoding, Connection, Forwarded, X-Forwarded-*, X-Real-IP, Via), with `-` for `_`, which is always removed. Default: `drop`.",
      ),
  })
  // Every key has its own default; `{}` through the schema fills them in, so they are written once.
  .prefault({})
  .describe('The proxy listener.')

/** A name the admin listener answers to: a host name (optionally `*.` and a domain) or an IP address. */
const allowedHost = z
  .string()
  .refine(
    (v) =>
      isIP(v.replace(/^\[(.*)\]$/, '$1')) !== 0 ||
      /^(\*\.)?[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*\.?$/i.test(v),
    { error: 'expected a host name (admin.example.com, *.example.com) or an IP address, without a port' },
  )

/** A web origin exactly as a browser sends it in `Origin`. */
const allowedOrigin = z.string().refine(
  (v) => {
    try {
      const url = new URL(v)
      return (url.protocol === 'http:' || url.protocol === 'https:') && url.origin === v
    } catch {
      return false
    }
  },
  {
    error:
      'expected an origin as browsers send it: scheme://host[:port] in lower case, no path or trailing slash, no default port (https://console.example.com)',
  },
)

export const adminSettings = z
  .strictObject({
    listen: listenAddress
      .default('127.0.0.1:8001')
      .describe(
        'Where the admin API listens, HOST:PORT. Flag `--admin-listen`, env `GATEHOUSE_ADMIN_LISTEN`. Default: `127.0.0.1:8001`.',
      ),
    token: z
      .string()
      .min(16, { error: 'must be at least 16 characters' })
      .optional()
      .describe(
        'Bearer token every admin request must carry (`Authorization: Bearer <token>`). Without it, only loopback clients are served. Env `GATEHOUSE_ADMIN_TOKEN`. Use `{vault://env/NAME}`.',
      ),
    max_body_size: z
      .int()
      .min(1024)
      .default(16 * 1024 * 1024)
      .describe('Largest `POST /config` body, in bytes. Default: 16777216 (16 MiB).'),
    allowed_hosts: z
      .array(allowedHost)
      .default([])
      .describe(
        'Host names the admin and status listeners answer to besides their own IP addresses and `localhost` (DNS rebinding: any other `Host` gets 421). Exact names, case-insensitive, no port; `*.example.com` matches any name under example.com. Default: none.',
      ),
    allowed_origins: z
      .array(allowedOrigin)
      .default([])
      .describe(
        "Web origins (`https://console.example.com`: scheme://host[:port], no path) whose pages may call the admin API, with CORS; a browser request from any other origin but the listener's own gets 403. Default: none.",
      ),
    console: z
      .boolean()
      .default(true)
      .describe(
        'Serve the admin console (a web page to watch and run the gateway, docs/console.md) at `/console/` on this listener. Its files load without the token; everything it shows comes from the admin API with the token. Default: true.',
      ),
    status_listen: z
      .union([z.literal('off'), listenAddress])
      .default('off')
      .describe(
        'Where the status listener serves `/status`, `/status/ready` and `/metrics` read-only and without the admin token (Kubernetes probes, Prometheus), HOST:PORT, or `off`. Flag `--status-listen`, env `GATEHOUSE_STATUS_LISTEN`. Default: `off`.',
      ),
  })
  // Every key has its own default; `{}` through the schema fills them in, so they are written once.
  .prefault({})
  .describe('The admin API listener.')

export const loggingSettings = z
  .strictObject({
    level: z
      .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
      .default('info')
      .describe('Minimum level written. Env `GATEHOUSE_LOG_LEVEL`. Default: `info`.'),
    access_log: z.boolean().default(true).describe('Write one JSON line per proxied request. Default: true.'),
    format: z
      .enum(['json', 'pretty'])
      .default('json')
      .describe(
        '`json`: one JSON object per line, for log shippers. `pretty`: one human line per record for a terminal (time, level, message, key fields; requests as `GET /path → 200 12.3ms route=… consumer=…`), coloured when standard output is a terminal and `NO_COLOR` is unset; the same fields as JSON, so no secrets either. Flag `--log-format`, env `GATEHOUSE_LOG_FORMAT`. Default: `json`.',
      ),
  })
  // Every key has its own default; `{}` through the schema fills them in, so they are written once.
  .prefault({})
  .describe('Logs: JSON lines on standard output (pino).')

/**
 * Settings fixed when the listeners and the logger are made; a reload that changes them is logged and
 * they apply at the next restart. Every other setting applies on reload: trusted_ips, access_log and the
 * admin token, body limit, allowed hosts and origins with the next request, shutdown_timeout at the next SIGTERM, the TLS
 * certificates and min_version with the next handshake. A dotted key names a key of a nested section.
 */
export const RESTART_ONLY = {
  proxy: [
    'listen',
    'keepalive_timeout',
    'headers_timeout',
    'max_header_size',
    'tls.listen',
    'tls.http2',
    'h2c',
    'workers',
  ],
  admin: ['listen', 'status_listen'],
  logging: ['level', 'format'],
} as const satisfies Record<'proxy' | 'admin' | 'logging', readonly string[]>
