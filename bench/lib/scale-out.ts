/**
 * The scale-out systems of the benchmark (issue 7), beside plain `gatehouse`:
 *
 *   gatehouse-ratelimit-local  plain gatehouse plus Kong's rate-limiting on the service, `policy: local`
 *                              (counters in the process's memory)
 *   gatehouse-ratelimit-redis  the same with `policy: redis`: every request runs the plugin's Lua script in
 *                              a real redis-server started for the run (loopback, free port, on the server
 *                              CPU, no persistence), counted as part of the system's CPU
 *   gatehouse-2nodes           two Gatehouse processes with plain gatehouse's configuration, each on its own
 *                              ports and pinned to the server CPU; run.ts loads both at once (one wrk per
 *                              node, each with half of the connections) and adds their results
 *
 * The limits are far above anything one core can serve (RATE_LIMIT_SECOND a second per client IP), so no
 * request is ever refused and what is measured is the cost of counting. `fault_tolerant: false`: a request
 * Redis fails to count gets a 500, which flags the row, instead of passing silently uncounted (the default
 * would measure the cheaper no-Redis path without saying so).
 *
 * The pre-run checks prove the plugin is at work: the answer carries `X-RateLimit-Limit-Second` with the
 * configured limit, and for `redis` the request's counter is then found in Redis (key and count); for
 * two nodes, each node answers on its own port.
 */
import { connect } from 'node:net'
import { httpGet, type Started, waitPort } from './procs.ts'
import type { StartContext } from './systems.ts'

/** Requests a second per client allowed by the rate-limiting systems: never reached on one core. */
export const RATE_LIMIT_SECOND = 10_000_000
/** Every wrk connection comes from 127.0.0.1: one counter per window, the hottest case for Redis. */
export const RATE_LIMIT_BY = 'ip'
/** Where the gateway writes its counters (the `redis.key_prefix` default, spelt out). */
const KEY_PREFIX = 'gatehouse:'

export type RateLimitPolicy = 'local' | 'redis'

/** The rate-limiting entry of the service. */
export function rateLimitingPlugin(policy: RateLimitPolicy): Record<string, unknown> {
  return {
    name: 'rate-limiting',
    config: { second: RATE_LIMIT_SECOND, limit_by: RATE_LIMIT_BY, policy, fault_tolerant: false },
  }
}

/** The configuration's top-level `redis` section for the run's server. */
export function redisSection(port: number): Record<string, unknown> {
  return { host: '127.0.0.1', port, key_prefix: KEY_PREFIX }
}

/** A process of the system with the port it listens on. */
export interface Listening {
  port: number
  process: Started
}

/**
 * Starts redis-server for `system` on the server CPU (ctx.start pins it), as the Redis tests do: loopback
 * only, no RDB snapshots, no AOF, its directory in the run's scratch folder; resolves once it accepts
 * connections, so the gateway's first request finds it.
 */
export async function startRedis(ctx: StartContext, system: string, dir: string): Promise<Listening> {
  if (ctx.redisServer === null) throw new Error('redis-server is not on PATH')
  const port = await ctx.port()
  const argv = [ctx.redisServer, '--port', String(port), '--bind', '127.0.0.1', '--save', '']
  argv.push('--appendonly', 'no', '--dir', dir)
  const process = ctx.start(`${system}.redis-server`, argv)
  await waitPort(port, process, 20_000)
  return { port, process }
}

/**
 * The rate-limiting check, after the system's usual one: `GET /` with a token of the pool answers 200
 * with the plugin's headers, and with Redis the request's counter is there (key = count).
 */
export async function checkRateLimit(
  port: number,
  token: string | undefined,
  redis: Listening | undefined,
): Promise<{ ok: boolean; detail: string }> {
  const res = await httpGet(port, '/', token)
  const limit = res.headers['x-ratelimit-limit-second']
  const remaining = res.headers['x-ratelimit-remaining-second']
  if (res.status !== 200 || limit !== String(RATE_LIMIT_SECOND) || remaining === undefined) {
    return {
      ok: false,
      detail: `rate-limiting not at work: GET / → ${res.status || 'no answer'}, X-RateLimit-Limit-Second ${limit ?? 'missing'} (expected ${RATE_LIMIT_SECOND})`,
    }
  }
  const headers = `X-RateLimit-Limit-Second ${limit}, X-RateLimit-Remaining-Second ${remaining}`
  if (!redis) return { ok: true, detail: `rate-limiting headers: ${headers}` }
  // The counter of this second lives until a second after the window ends: still there now.
  const counters = await redisCall(redis.port, [
    'EVAL',
    "local out = {} for _, k in ipairs(redis.call('KEYS', ARGV[1])) do out[#out + 1] = k .. ' = ' .. redis.call('GET', k) end return table.concat(out, ', ')",
    '0',
    `${KEY_PREFIX}rl:*`,
  ])
  if (counters === '')
    return { ok: false, detail: `${headers}, but no counter ${KEY_PREFIX}rl:* in Redis after the request` }
  return { ok: true, detail: `rate-limiting headers: ${headers}; counters in Redis: ${counters}` }
}

/** Every node of a several-node system answers `GET /` with 200 on its own port. */
export async function checkNodes(
  nodes: readonly Listening[],
  token: string | undefined,
): Promise<{ ok: boolean; detail: string }> {
  const seen: string[] = []
  let ok = true
  for (const [i, node] of nodes.entries()) {
    const status = (await httpGet(node.port, '/', token)).status
    ok &&= status === 200
    seen.push(`node ${i + 1} (port ${node.port}) → ${status || 'no answer'}`)
  }
  return { ok, detail: seen.join(', ') }
}

/**
 * One Redis command on a fresh connection (RESP): the reply as text, for simple, integer and bulk
 * replies (null bulk: ''); an error reply rejects. Enough for the pre-run check, with no client library.
 */
export function redisCall(port: number, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port })
    let reply = Buffer.alloc(0)
    const done = (err: Error | null, value = '') => {
      socket.destroy()
      if (err) reject(err)
      else resolve(value)
    }
    socket.setTimeout(5000, () => done(new Error(`Redis on port ${port} did not answer within 5 s`)))
    socket.once('error', (err) => done(err))
    socket.once('connect', () => {
      const parts = args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`)
      socket.write(`*${args.length}\r\n${parts.join('')}`)
    })
    socket.on('data', (chunk: Buffer) => {
      reply = Buffer.concat([reply, chunk])
      const eol = reply.indexOf('\r\n')
      if (eol < 0) return
      const head = reply.subarray(1, eol).toString('utf8')
      switch (String.fromCharCode(reply[0]!)) {
        case '+':
        case ':':
          return done(null, head)
        case '-':
          return done(new Error(`Redis: ${head}`))
        case '$': {
          const length = Number(head)
          if (length < 0) return done(null, '')
          if (reply.length < eol + 2 + length) return // more to come
          return done(null, reply.subarray(eol + 2, eol + 2 + length).toString('utf8'))
        }
        default:
          return done(new Error(`Redis: unexpected reply ${JSON.stringify(reply.toString('utf8'))}`))
      }
    })
  })
}
