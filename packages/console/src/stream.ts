/**
 * Reads GET /stats/stream (server-sent events) with fetch() and a ReadableStream: EventSource cannot send
 * the Authorization header the admin API needs. Reconnects after a dropped connection (the server's
 * `retry`, 3 s), and more slowly after the gateway said it was stopping (`end`), since it may be
 * restarting; stops for good on 401 (the token was changed or removed: sign in again) or when closed.
 */
import { authHeaders, errorOf } from './api.ts'

export interface RouteSecond {
  readonly route: string
  readonly service: string
  readonly requests: number
  readonly status: Readonly<Record<'1xx' | '2xx' | '3xx' | '4xx' | '5xx', number>>
  readonly p50_ms: number | null
  readonly p99_ms: number | null
}

export interface NodeSecond extends Omit<RouteSecond, 'route' | 'service'> {
  /** The second (Unix time) the numbers are for. */
  readonly t: number
  readonly routes: readonly RouteSecond[]
}

export type StreamState = 'connecting' | 'live' | 'retrying' | 'stopped'

export interface StreamHandlers {
  history(seconds: readonly NodeSecond[]): void
  second(second: NodeSecond): void
  state(state: StreamState, detail?: string): void
  /** The admin API refused the token (401): the stream is closed. */
  unauthorized(message: string): void
}

const ENDED_RETRY_MS = 10_000

/** Opens the stream; returns a function that closes it for good. */
export function openStatsStream(token: string | null, on: StreamHandlers): () => void {
  const abort = new AbortController()
  let retryMs = 3000
  let timer: number | undefined
  const run = async () => {
    on.state('connecting')
    let ended: string | null = null
    try {
      const res = await fetch('/stats/stream', {
        headers: { accept: 'text/event-stream', ...authHeaders(token) },
        cache: 'no-store',
        credentials: 'omit',
        signal: abort.signal,
      })
      if (res.status === 401) {
        on.unauthorized((await errorOf(res)).message)
        return
      }
      if (!res.ok || res.body === null) throw await errorOf(res)
      const events = res.body.pipeThrough(new TextDecoderStream()).getReader()
      let buffer = ''
      for (;;) {
        const { value, done } = await events.read()
        if (done) break
        buffer += value.replace(/\r\n?/g, '\n')
        let end = buffer.indexOf('\n\n')
        while (end !== -1) {
          const block = buffer.slice(0, end)
          buffer = buffer.slice(end + 2)
          end = buffer.indexOf('\n\n')
          const event = parseEvent(block)
          if (event.retry !== null) retryMs = event.retry
          if (event.data === '') continue
          if (event.name === 'history') {
            on.history((JSON.parse(event.data) as { seconds: NodeSecond[] }).seconds)
            on.state('live')
          } else if (event.name === 'second') on.second(JSON.parse(event.data) as NodeSecond)
          else if (event.name === 'end') ended = (JSON.parse(event.data) as { reason: string }).reason
        }
      }
    } catch (err) {
      if (abort.signal.aborted) return
      on.state('retrying', err instanceof Error ? err.message : String(err))
      timer = window.setTimeout(run, retryMs)
      return
    }
    if (abort.signal.aborted) return
    on.state('retrying', ended ?? 'the connection ended')
    timer = window.setTimeout(run, ended === null ? retryMs : ENDED_RETRY_MS)
  }
  void run()
  return () => {
    abort.abort()
    window.clearTimeout(timer)
    on.state('stopped')
  }
}

/** One event's fields (text/event-stream: `event`, `data` lines joined by newlines, `retry`; comments skipped). */
export function parseEvent(block: string): { name: string; data: string; retry: number | null } {
  let name = 'message'
  const data: string[] = []
  let retry: number | null = null
  for (const line of block.split('\n')) {
    if (line === '' || line.startsWith(':')) continue
    const colon = line.indexOf(':')
    const field = colon === -1 ? line : line.slice(0, colon)
    const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '')
    if (field === 'event') name = value
    else if (field === 'data') data.push(value)
    else if (field === 'retry' && /^\d+$/.test(value)) retry = Number(value)
  }
  return { name, data: data.join('\n'), retry }
}
