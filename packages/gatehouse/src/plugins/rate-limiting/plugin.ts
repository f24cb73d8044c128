/**
 * rate-limiting: Kong's plugin of that name (priority 910, after authentication and authorisation, so
 * it can count per consumer). Each request is counted in every configured calendar window for its
 * identifier (identifier.ts); once one window is full the request gets `error_code` (429) with Kong's
 * body and headers, and counts nowhere. Counters live in this process (`local`) or in Redis, shared by
 * every node (`redis`). When they cannot be reached, `fault_tolerant` decides: let the request through
 * unlimited, or answer 500; either way it is logged, at most every few seconds per plugin.
 */
import type { RedisSettings } from '../../config/schema/redis.ts'
import { GatehouseError } from '../../errors/errors.ts'
import type { HeaderMap, RequestState } from '../../pipeline/request-state.ts'
import { exitWithError } from '../../pipeline/respond.ts'
import { acquireRedis, HEALTH_LOG_INTERVAL } from '../../redis/connections.ts'
import { LogThrottle } from '../../redis/throttle.ts'
import type { GatewayPlugin } from '../types.ts'
import { rateLimitHeaders, type WindowSpec, windowSpec } from './headers.ts'
import { identifierFor } from './identifier.ts'
import { localCounterPolicy } from './policies/local.ts'
import type { CounterPolicy, Tally } from './policies/policy.ts'
import { RedisCounters } from './policies/redis.ts'
import { type PluginRedis, type RateLimitingConfig, rateLimitingSchema } from './schema.ts'
import { PERIODS, windowOf } from './windows.ts'

/**
 * The `rate-limiting` plugin (Kong's contract).
 *
 * @example
 * ```yaml
 * redis:
 *   url: "{vault://env/redis-url}"
 * plugins:
 *   - name: rate-limiting
 *     config: { minute: 100, hour: 2000, policy: redis, limit_by: consumer }
 * ```
 */
export const plugin: GatewayPlugin<RateLimitingConfig> = {
  name: 'rate-limiting',
  version: '1.0.0',
  priority: 910,
  band: 'traffic',
  description:
    'Limits requests per second to year, per consumer, credential, IP, service, header or path; counters in memory or shared through Redis.',
  schema: rateLimitingSchema,
  requestHeaders: (config) =>
    config.limit_by === 'header' && config.header_name
      ? [{ key: 'header_name', name: config.header_name }]
      : [],
  create(config, ctx) {
    const windows: WindowSpec[] = PERIODS.flatMap((p) => {
      const limit = config[p]
      return limit != null ? [windowSpec(p, limit)] : []
    })
    const limits = windows.map((w) => w.limit)
    const refusal = Object.freeze({ message: config.error_message })
    const identify = identifierFor(config)
    const own = ownRedis(config.redis)
    const outage = new LogThrottle(HEALTH_LOG_INTERVAL)
    const pending = new WeakMap<RequestState, HeaderMap>()
    let counters: CounterPolicy | null = config.policy === 'local' ? localCounterPolicy() : null
    let closed = false

    // The Redis connection is opened by the first request: the top-level section is only known to the
    // runtime the request runs on, and a configuration that never serves cannot leak a connection.
    const countersFor = (state: RequestState): CounterPolicy => {
      if (counters !== null) return counters
      if (closed) throw new Error('the configuration of this plugin was replaced')
      const settings = own ?? state.runtime.config.settings.redis
      if (settings === null) throw new Error('policy redis without a redis section')
      counters = new RedisCounters(acquireRedis(settings, ctx.logger))
      return counters
    }

    const decide = (state: RequestState, tally: Tally, ends: number[], now: number): void => {
      if (state.dryRun !== null) state.dryRun.note('rate_limit', dryRunNote(tally))
      const headers = config.hide_client_headers ? undefined : rateLimitHeaders(windows, tally, ends, now)
      if (tally.admitted) {
        if (headers) pending.set(state, headers)
        return
      }
      const err = new GatehouseError('GH_ERR_RATE_LIMITED', config.error_message, {
        detail: 'rate_limit_exceeded',
      })
      exitWithError(state, err, config.error_code, refusal, headers)
    }

    /** What a dry run reports: each window's count before this request, and what this one would leave. */
    const dryRunNote = (tally: Tally) => ({
      policy: config.policy,
      limit_by: config.limit_by,
      windows: windows.map((w, i) => {
        const before = tally.admitted ? tally.counts[i]! - 1 : tally.counts[i]!
        return { period: w.period, limit: w.limit, counted: before, remaining: Math.max(0, w.limit - before) }
      }),
      counted_this_request: false,
    })

    const unavailable = (err: unknown): void => {
      const suppressed = outage.take()
      if (suppressed !== null) {
        const fields = { err: (err as Error)?.message ?? String(err), suppressed, policy: config.policy }
        if (config.fault_tolerant)
          ctx.logger.warn(
            fields,
            'rate-limiting counters unavailable; letting requests through (fault_tolerant)',
          )
        else
          ctx.logger.error(
            fields,
            'rate-limiting counters unavailable; refusing requests (fault_tolerant: false)',
          )
      }
      if (!config.fault_tolerant)
        // Kong's answer (500 "An unexpected error occurred"), with a code saying which failure it was.
        throw new GatehouseError('GH_ERR_RATE_LIMIT_UNAVAILABLE', 'An unexpected error occurred', {
          detail: 'rate_limit_counters_unavailable',
        })
    }

    return {
      access(state) {
        const now = Date.now()
        const base = `rl:{${ctx.id}:${identify(state)}}:`
        const keys: string[] = []
        const ends: number[] = []
        for (const w of windows) {
          const { start, end } = windowOf(w.period, now)
          keys.push(`${base}${w.period}:${start}`)
          ends.push(end)
        }
        let result: Tally | Promise<Tally>
        try {
          const counters = countersFor(state)
          // A dry run (POST /explain) reads the counters and counts nothing.
          result =
            state.dryRun === null
              ? counters.hit(keys, limits, ends, now)
              : counters.peek(keys, limits, ends, now)
        } catch (err) {
          unavailable(err)
          return
        }
        if (!(result instanceof Promise)) {
          decide(state, result, ends, now)
          return
        }
        return result.then(
          (tally) => decide(state, tally, ends, now),
          (err: unknown) => unavailable(err),
        )
      },
      response(state) {
        const headers = pending.get(state)
        if (headers === undefined) return
        pending.delete(state)
        const target = state.response!.headers
        for (const name in headers) target[name] = headers[name]!
      },
      close() {
        closed = true
        return counters?.close()
      },
    }
  },
}

/** Kong's per-plugin Redis as connection settings, or null to use the top-level section. */
function ownRedis(r: PluginRedis): RedisSettings | null {
  if (r.host === null) return null
  return {
    host: r.host,
    port: r.port,
    username: r.username,
    password: r.password,
    database: r.database,
    tls: r.ssl,
    tls_verify: r.ssl_verify,
    server_name: r.server_name,
    connect_timeout: r.connect_timeout,
    command_timeout: r.read_timeout,
    key_prefix: 'gatehouse:',
  }
}
