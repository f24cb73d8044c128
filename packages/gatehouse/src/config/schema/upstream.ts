/**
 * The `upstreams` entity and its `targets` (Kong's upstreams.lua and targets.lua): a virtual host name a
 * service's `host` can name, balanced over targets, with active and passive health checks. Field names,
 * ranges and defaults are Kong's, so a Kong 3.x file loads; what this version does not do (hashing,
 * gRPC probes, SRV records) is refused by the normaliser with a message saying so.
 */
import { z } from 'zod'
import { host, path, tags, uuid } from './typedefs.ts'

/** Kong's `seconds` in health checks: a number, fractions allowed. */
const seconds = z.number().min(0).max(65_535)

/** A threshold counter; 0 turns that rule off (Kong). */
const counter = z.int().min(0).max(255)

const statuses = z.array(z.int().min(100).max(999))

const headerName = z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, { error: 'expected a header name' })

export const UPSTREAM_ALGORITHMS = [
  'round-robin',
  'least-connections',
  'consistent-hashing',
  'latency',
  'sticky-sessions',
] as const
export const SUPPORTED_ALGORITHMS = new Set(['round-robin', 'least-connections'])

const HASH_ON = ['none', 'consumer', 'ip', 'header', 'cookie', 'path', 'query_arg', 'uri_capture'] as const

const activeHealthy = z
  .strictObject({
    interval: seconds
      .default(0)
      .describe('Seconds between probes of a healthy target; 0 does not probe healthy targets. Default: 0.'),
    http_statuses: statuses
      .default([200, 302])
      .describe('Probe statuses that count as a success. Default: `[200, 302]`.'),
    successes: counter
      .default(0)
      .describe(
        'Successful probes in a row that make an unhealthy target healthy; 0 never does. Default: 0.',
      ),
  })
  .prefault({})
  .describe('When a probed target counts as healthy.')

const activeUnhealthy = z
  .strictObject({
    interval: seconds
      .default(0)
      .describe(
        'Seconds between probes of an unhealthy target; 0 does not probe unhealthy targets (it stays out until passive checks or a half-open trial bring it back). Default: 0.',
      ),
    http_statuses: statuses
      .default([429, 404, 500, 501, 502, 503, 504, 505])
      .describe(
        'Probe statuses that count as an HTTP failure. Default: `[429, 404, 500, 501, 502, 503, 504, 505]`.',
      ),
    tcp_failures: counter
      .default(0)
      .describe('Connection failures in a row that make a target unhealthy; 0 never does. Default: 0.'),
    timeouts: counter
      .default(0)
      .describe('Probe timeouts in a row that make a target unhealthy; 0 never does. Default: 0.'),
    http_failures: counter
      .default(0)
      .describe(
        'HTTP failures (`http_statuses`) in a row that make a target unhealthy; 0 never does. Default: 0.',
      ),
  })
  .prefault({})
  .describe('When a probed target counts as unhealthy.')

const activeChecks = z
  .strictObject({
    type: z
      .enum(['http', 'https', 'tcp', 'grpc', 'grpcs'])
      .default('http')
      .describe(
        'Probe kind: `http` and `https` send `GET http_path`, `tcp` only connects. `grpc`/`grpcs` are refused. Default: `http`.',
      ),
    timeout: seconds
      .default(1)
      .describe('Seconds a probe may take before it counts as a timeout. Default: 1.'),
    concurrency: z
      .int()
      .min(1)
      .max(2 ** 31)
      .default(10)
      .describe('Targets probed at the same time. Default: 10.'),
    http_path: path.default('/').describe('Path the probe requests. Default: `/`.'),
    https_sni: host
      .optional()
      .describe('Server name sent in the TLS handshake of `https` probes. Default: the target host.'),
    https_verify_certificate: z
      .boolean()
      .default(true)
      .describe('Verify the certificate of `https` probes. Default: true.'),
    headers: z
      .record(headerName, z.array(z.string()))
      .optional()
      .describe('Extra request headers for the probe: name → values. Default: none.'),
    healthy: activeHealthy,
    unhealthy: activeUnhealthy,
  })
  .prefault({})
  .describe('Active checks: the gateway probes each target on a timer. Off until an `interval` is set.')

const passiveHealthy = z
  .strictObject({
    http_statuses: statuses
      .default([
        200, 201, 202, 203, 204, 205, 206, 207, 208, 226, 300, 301, 302, 303, 304, 305, 306, 307, 308,
      ])
      .describe('Proxied response statuses that count as a success. Default: 2xx and 3xx.'),
    successes: counter
      .default(0)
      .describe('Successes in a row that make an unhealthy target healthy; 0 never does. Default: 0.'),
  })
  .prefault({})
  .describe('When proxied traffic shows a target is healthy.')

const passiveUnhealthy = z
  .strictObject({
    http_statuses: statuses
      .default([429, 500, 503])
      .describe('Proxied response statuses that count as an HTTP failure. Default: `[429, 500, 503]`.'),
    tcp_failures: counter
      .default(0)
      .describe('Connection failures in a row that eject a target; 0 never does. Default: 0.'),
    timeouts: counter.default(0).describe('Timeouts in a row that eject a target; 0 never does. Default: 0.'),
    http_failures: counter
      .default(0)
      .describe('HTTP failures (`http_statuses`) in a row that eject a target; 0 never does. Default: 0.'),
  })
  .prefault({})
  .describe('When proxied traffic shows a target is unhealthy (circuit breaking).')

const passiveChecks = z
  .strictObject({
    type: z
      .enum(['http', 'https', 'tcp', 'grpc', 'grpcs'])
      .default('http')
      .describe(
        'Accepted for Kong compatibility; passive checks watch the proxied traffic. Default: `http`.',
      ),
    healthy: passiveHealthy,
    unhealthy: passiveUnhealthy,
    half_open_after: seconds
      .default(10)
      .describe(
        'Gatehouse extension. Seconds after passive checks eject a target before one request is let through as a trial (half-open): an answer that is not a failure brings the target back, a failure restarts the wait. Only when unhealthy targets are not probed (`active.unhealthy.interval` 0); 0 keeps it out until `POST /upstreams/{u}/targets/{t}/healthy`, a change of the upstream or a restart, as in Kong. Default: 10.',
      ),
  })
  .prefault({})
  .describe('Passive checks: failures seen on proxied requests eject a target. Off until a threshold is set.')

export const healthchecksSchema = z
  .strictObject({
    active: activeChecks,
    passive: passiveChecks,
    threshold: z
      .number()
      .min(0)
      .max(100)
      .default(0)
      .describe(
        'Percentage of the total weight that must be healthy for the upstream to take requests; below it every request gets 503. Default: 0.',
      ),
  })
  .prefault({})
  .describe('Health checks of the targets. Default: all off, every target is healthy.')

export type Healthchecks = z.output<typeof healthchecksSchema>

/** `host[:port]`, IPv6 in brackets; Kong's default port is 8000. */
export const targetAddress = z.string().refine((v) => parseTarget(v) !== null, {
  error: 'expected HOST:PORT (a host name, an IPv4 address or an [IPv6] address, port 1..65535)',
})

/** The host and port of a target, or null when it is not `host[:port]`. Host names are lower-cased. */
export function parseTarget(text: string): { host: string; port: number } | null {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^\s:[\]/]+)(?::(\d{1,5}))?$/.exec(text)
  if (m === null) return null
  const port = m[2] === undefined ? 8000 : Number(m[2])
  if (port < 1 || port > 65_535) return null
  const hostPart = m[1]!
  if (!host.safeParse(hostPart).success) return null
  return { host: hostPart.toLowerCase(), port }
}

export const targetFields = {
  id: uuid.optional().describe('Entity id. Default: a stable UUID derived from the upstream and the target.'),
  target: targetAddress.describe(
    '`host:port` of one backend: an IP, or a DNS name whose addresses are each balanced (re-resolved on their TTL). Port default: 8000.',
  ),
  weight: z
    .int()
    .min(0)
    .max(65_535)
    .default(100)
    .describe('Share of the traffic relative to the other targets; 0 disables the target. Default: 100.'),
  tags,
}

/** Fields of an upstream; its nested `targets` are added by root.ts. */
export const upstreamFields = {
  id: uuid.optional().describe('Entity id. Default: a stable UUID derived from the name.'),
  name: host
    .refine((v) => !/^[\d.]+$/.test(v) && !v.startsWith('['), {
      error: 'must be a host name, not an IP address',
    })
    .describe(
      'The virtual host name; a service whose `host` is this name is balanced over the targets. Required.',
    ),
  algorithm: z
    .enum(UPSTREAM_ALGORITHMS)
    .default('round-robin')
    .describe(
      '`round-robin` (weighted) or `least-connections` (fewest requests in flight per weight). `consistent-hashing`, `latency` and `sticky-sessions` are refused. Default: `round-robin`.',
    ),
  hash_on: z
    .enum(HASH_ON)
    .default('none')
    .describe(
      'Input of consistent hashing; only `none` is accepted (hashing is not supported). Default: `none`.',
    ),
  hash_fallback: z
    .enum(HASH_ON)
    .default('none')
    .describe('Fallback hash input; only `none` is accepted. Default: `none`.'),
  hash_on_header: headerName.optional().describe('Accepted for Kong compatibility; unused.'),
  hash_fallback_header: headerName.optional().describe('Accepted for Kong compatibility; unused.'),
  hash_on_cookie: z.string().min(1).optional().describe('Accepted for Kong compatibility; unused.'),
  hash_on_cookie_path: path.default('/').describe('Accepted for Kong compatibility; unused. Default: `/`.'),
  hash_on_query_arg: z.string().min(1).optional().describe('Accepted for Kong compatibility; unused.'),
  hash_fallback_query_arg: z.string().min(1).optional().describe('Accepted for Kong compatibility; unused.'),
  hash_on_uri_capture: z.string().min(1).optional().describe('Accepted for Kong compatibility; unused.'),
  hash_fallback_uri_capture: z
    .string()
    .min(1)
    .optional()
    .describe('Accepted for Kong compatibility; unused.'),
  slots: z
    .int()
    .min(10)
    .max(65_536)
    .default(10_000)
    .describe('Accepted for Kong compatibility (the size of its hashing ring); unused. Default: 10000.'),
  healthchecks: healthchecksSchema,
  host_header: host
    .optional()
    .describe(
      'Host header sent to the targets (unless the route has preserve_host). Default: the chosen target `host[:port]`, as Kong does.',
    ),
  use_srv_name: z
    .boolean()
    .default(false)
    .describe(
      'Accepted for Kong compatibility; only `false` (SRV records are not resolved). Default: false.',
    ),
  tags,
}
