/**
 * Gatehouse's own top-level sections (not in Kong's format): how the process listens, logs and is
 * administered. Command-line flags and GATEHOUSE_* environment variables override these.
 */
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
    tls: proxyTlsSettings.optional(),
  })
  // Every key has its own default; `{}` through the schema fills them in, so they are written once.
  .prefault({})
  .describe('The proxy listener.')

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
  })
  // Every key has its own default; `{}` through the schema fills them in, so they are written once.
  .prefault({})
  .describe('Logs: JSON lines on standard output (pino).')

/**
 * Settings fixed when the listeners and the logger are made; a reload that changes them is logged and
 * they apply at the next restart. Every other setting applies on reload: trusted_ips, access_log and the
 * admin token and body limit with the next request, shutdown_timeout at the next SIGTERM, the TLS
 * certificates and min_version with the next handshake. A dotted key names a key of a nested section.
 */
export const RESTART_ONLY = {
  proxy: ['listen', 'keepalive_timeout', 'headers_timeout', 'max_header_size', 'tls.listen', 'tls.http2'],
  admin: ['listen'],
  logging: ['level'],
} as const satisfies Record<'proxy' | 'admin' | 'logging', readonly string[]>
