/**
 * `GET /stats/stream`: the node's traffic, live, as server-sent events (observability/live-stats.ts):
 * on connect one `history` event with the last 15 minutes' seconds, then one `second` event per second,
 * and an `end` event when the gateway stops (SIGTERM), after which the response ends, so an open stream
 * never holds a shutdown up. Behind the admin token like every admin resource: the admin console reads
 * it with fetch() and a header (EventSource cannot send one). A client too slow to take one small event
 * a second (over STALLED_BYTES unsent) is disconnected rather than buffered for.
 */
import { GatehouseError } from '../errors/errors.ts'
import { type NodeSecond, WINDOW_SECONDS } from '../observability/live-stats.ts'
import type { AdminContext } from './context.ts'
import { type AdminRequest, sendError } from './http.ts'

export const STATS_STREAM_PATH = '/stats/stream'
const STALLED_BYTES = 1024 * 1024
/** How long an EventSource-style client waits before reconnecting (the `retry` field), ms. */
const RETRY_MS = 3000

/** The `history` event's data. */
export interface StatsHistory {
  readonly interval_seconds: 1
  readonly window_seconds: number
  readonly seconds: readonly NodeSecond[]
}

export function handleStatsStream(ctx: AdminContext, a: AdminRequest): void {
  const res = a.res
  if (a.method !== 'GET' && a.method !== 'HEAD') {
    sendError(
      res,
      new GatehouseError('GH_ERR_ADMIN_METHOD_NOT_ALLOWED', `${a.method} is not supported on ${a.path}`),
      {},
      { allow: 'GET, HEAD' },
    )
    return
  }
  const live = ctx.liveStats
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    // Proxies in front of the admin API (nginx) must pass each event on as it comes.
    'x-accel-buffering': 'no',
    connection: 'close',
  })
  if (a.method === 'HEAD' || live === null) {
    res.end()
    return
  }
  a.req.socket.setNoDelay(true)
  const write = (text: string) => {
    if (res.writableLength > STALLED_BYTES) res.destroy()
    else res.write(text)
  }
  const subscription = live.subscribe({
    second: (json, t) => write(`id: ${t}\nevent: second\ndata: ${json}\n\n`),
    end: (reason) => {
      write(`event: end\ndata: ${JSON.stringify({ reason })}\n\n`)
      res.end()
    },
  })
  res.once('close', () => subscription.unsubscribe())
  if (res.writableEnded) return
  write(
    `retry: ${RETRY_MS}\n\nevent: history\ndata: {"interval_seconds":1,"window_seconds":${WINDOW_SECONDS},"seconds":${subscription.history}}\n\n`,
  )
}
