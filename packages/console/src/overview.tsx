/**
 * The Overview page: the node (status, version, configuration and its last reload, store and Redis,
 * workers), from /, /status and /status/ready every 5 seconds; and its traffic over the last 15 minutes,
 * live from /stats/stream: requests per second, p50/p99 latency and responses by class, for the node or
 * one route, and a table of the routes' last minute.
 */
import { useEffect, useMemo, useRef, useState } from 'preact/hooks'
import { AdminError, adminGet, type NodeInfo, type NodeReadiness, type NodeStatus, readiness } from './api.ts'
import { Chart, formatNumber } from './chart.tsx'
import { bytes, count, duration, ms, when } from './format.ts'
import { routeLabel, TrafficWindow } from './series.ts'
import { openStatsStream, type StreamState } from './stream.ts'

interface Props {
  readonly token: string | null
  /** The admin API refused the token: back to sign-in, with its message. */
  readonly onUnauthorized: (message: string) => void
}

const STATUS_EVERY_MS = 5000

interface NodeView {
  readonly info: NodeInfo
  readonly status: NodeStatus
  readonly ready: NodeReadiness
}

function useNode(token: string | null, onUnauthorized: (m: string) => void) {
  const [node, setNode] = useState<NodeView | null>(null)
  const [error, setError] = useState<string | null>(null)
  useEffect(() => {
    const abort = new AbortController()
    let timer: number | undefined
    const load = async () => {
      try {
        const [info, status, ready] = await Promise.all([
          adminGet<NodeInfo>('/', token, abort.signal),
          adminGet<NodeStatus>('/status', token, abort.signal),
          readiness(token, abort.signal),
        ])
        setNode({ info, status, ready })
        setError(null)
      } catch (err) {
        if (abort.signal.aborted) return
        if (err instanceof AdminError && err.status === 401) return onUnauthorized(err.message)
        setError(err instanceof Error ? err.message : String(err))
      }
      timer = window.setTimeout(load, STATUS_EVERY_MS)
    }
    void load()
    return () => {
      abort.abort()
      window.clearTimeout(timer)
    }
  }, [token])
  return { node, error }
}

function useTraffic(token: string | null, onUnauthorized: (m: string) => void) {
  const window15 = useRef(new TrafficWindow())
  const [tick, setTick] = useState(0)
  const [state, setState] = useState<{ state: StreamState; detail?: string | undefined }>({
    state: 'connecting',
  })
  useEffect(
    () =>
      openStatsStream(token, {
        history: (seconds) => {
          window15.current.reset(seconds)
          setTick((n) => n + 1)
        },
        second: (second) => {
          window15.current.add(second)
          setTick((n) => n + 1)
        },
        state: (s, detail) => setState({ state: s, detail }),
        unauthorized: onUnauthorized,
      }),
    [token],
  )
  return { traffic: window15.current, tick, stream: state }
}

export function Overview({ token, onUnauthorized }: Props) {
  const { node, error } = useNode(token, onUnauthorized)
  return (
    <>
      <h1 id="page-title" tabIndex={-1}>
        Overview
      </h1>
      {error !== null && (
        <p class="notice notice-error" role="alert">
          The node's status could not be read: {error}
        </p>
      )}
      {node === null ? <p>Reading the node's status…</p> : <NodeSection node={node} />}
      <TrafficSection token={token} onUnauthorized={onUnauthorized} />
    </>
  )
}

function NodeSection({ node }: { node: NodeView }) {
  const { info, status, ready } = node
  const workers = status.workers ?? []
  const dependency = (name: 'store' | 'redis', none: string) => {
    const state = ready.checks[name]
    if (state === undefined) return <span class="muted">{none}</span>
    return state === 'ok' ? <Badge kind="ok">Reachable</Badge> : <Badge kind="bad">Not reachable</Badge>
  }
  return (
    <section aria-labelledby="node-heading">
      <h2 id="node-heading">Node</h2>
      <dl class="cards">
        <Card term="Status" id="node-status">
          {ready.ready ? (
            <Badge kind="ok">Ready</Badge>
          ) : ready.draining ? (
            <Badge kind="warn">Shutting down</Badge>
          ) : (
            <Badge kind="bad">Not ready</Badge>
          )}
          {!ready.ready && <span class="detail">{ready.message}</span>}
        </Card>
        <Card term="Version" id="node-version">
          <code>{info.version}</code>
        </Card>
        <Card term="Host" id="node-host">
          {info.hostname}
          <span class="detail">
            node <code>{info.node_id}</code>
          </span>
        </Card>
        <Card term="Uptime" id="node-uptime">
          {duration(status.server.uptime_seconds)}
        </Card>
        <Card term="Configuration hash" id="node-config-hash" wide>
          <code class="hash">{status.configuration_hash}</code>
        </Card>
        <Card term="Configuration loaded" id="node-config-loaded">
          {status.configuration_loaded_at === undefined ? '–' : when(status.configuration_loaded_at)}
        </Card>
        <Card term="Store" id="node-store">
          {dependency('store', 'None (DB-less, no identity provider)')}
        </Card>
        <Card term="Redis" id="node-redis">
          {dependency('redis', 'Not configured')}
        </Card>
        <Card term="Open connections" id="node-connections">
          {count(status.server.connections_active)}
        </Card>
        <Card term="Requests served" id="node-requests">
          {count(status.server.total_requests)}
        </Card>
        <Card term="Memory (RSS)" id="node-memory">
          {bytes(status.memory.rss_bytes)}
        </Card>
        <Card term="Workers" id="node-workers">
          {workers.length === 0 ? '1 process' : `${workers.length} workers`}
        </Card>
      </dl>
      {workers.length > 0 && (
        // biome-ignore lint/a11y/noNoninteractiveTabindex: a table that scrolls sideways (on a phone) must be reachable by keyboard
        <section class="table-scroll" tabIndex={0} aria-labelledby="workers-caption">
          <table class="data">
            <caption id="workers-caption">Workers</caption>
            <thead>
              <tr>
                <th scope="col">Slot</th>
                <th scope="col">PID</th>
                <th scope="col" class="num">
                  Connections
                </th>
                <th scope="col" class="num">
                  Requests
                </th>
                <th scope="col" class="num">
                  Memory (RSS)
                </th>
              </tr>
            </thead>
            <tbody>
              {workers.map((w) => (
                <tr key={w.slot}>
                  <td>{w.slot}</td>
                  <td>{w.pid}</td>
                  <td class="num">{count(w.connections_active)}</td>
                  <td class="num">{count(w.total_requests)}</td>
                  <td class="num">{bytes(w.rss_bytes)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      )}
    </section>
  )
}

const STREAM_WORDS: Record<StreamState, string> = {
  connecting: 'Connecting…',
  live: 'Live, every second',
  retrying: 'Reconnecting…',
  stopped: 'Stopped',
}

function TrafficSection({ token, onUnauthorized }: Props) {
  const { traffic, tick, stream } = useTraffic(token, onUnauthorized)
  const [route, setRoute] = useState<string>('')
  const routes = useMemo(() => traffic.routes(), [tick])
  const picked = route === '' ? null : route
  const c = useMemo(() => traffic.columns(picked), [tick, picked])
  const summary = useMemo(() => traffic.summary(60), [tick])
  const latest = c.requests.at(-1) ?? null
  // The quantiles of the latest second that had requests (an idle second has none).
  const lastBusy = c.p50.findLastIndex((v) => v !== null)
  const latestP50 = lastBusy === -1 ? null : c.p50[lastBusy]!
  const latestP99 = lastBusy === -1 ? null : c.p99[lastBusy]!
  const fiveXX = c.s5xx.reduce<number>((s, v) => s + (v ?? 0), 0)
  const fourXX = c.s4xx.reduce<number>((s, v) => s + (v ?? 0), 0)
  const twoXX = c.s2xx.reduce<number>((s, v) => s + (v ?? 0), 0)
  const requestsTotal = c.requests.reduce<number>((s, v) => s + (v ?? 0), 0)
  const requestLines = useMemo(() => [{ label: 'Requests', color: '#1d4ed8', values: c.requests }], [c])
  const latencyLines = useMemo(
    () => [
      { label: 'p50', color: '#047857', points: true, values: c.p50 },
      { label: 'p99', color: '#b45309', dash: [6, 4], points: true, values: c.p99 },
    ],
    [c],
  )
  const statusLines = useMemo(
    () => [
      { label: '2xx', color: '#15803d', values: c.s2xx },
      { label: '4xx', color: '#c2410c', dash: [6, 4], values: c.s4xx },
      { label: '5xx', color: '#b91c1c', dash: [2, 3], values: c.s5xx },
    ],
    [c],
  )
  return (
    <section aria-labelledby="traffic-heading">
      <div class="section-head">
        <h2 id="traffic-heading">Traffic, last 15 minutes</h2>
        <p class={`stream stream-${stream.state}`} role="status" title={stream.detail ?? ''}>
          <span class="dot" aria-hidden="true" />
          {STREAM_WORDS[stream.state]}
          {stream.state === 'retrying' && stream.detail !== undefined && (
            <span class="detail"> ({stream.detail})</span>
          )}
        </p>
      </div>
      <div class="picker">
        <label for="route-picker">Route</label>
        <select
          id="route-picker"
          value={route}
          onChange={(e) => setRoute((e.target as HTMLSelectElement).value)}
        >
          <option value="">All routes (the node)</option>
          {routes.map((r) => (
            <option key={r.key} value={r.key}>
              {routeLabel(r)}
              {r.service !== '' && r.service !== r.route ? ` (service ${r.service})` : ''}
            </option>
          ))}
          {picked !== null && !routes.some((r) => r.key === picked) && (
            <option value={picked}>(no longer seen)</option>
          )}
        </select>
      </div>
      <div class="charts">
        <Chart
          id="requests"
          title="Requests per second"
          unit="req/s"
          x={c.t}
          lines={requestLines}
          summary={`now ${latest === null ? '–' : formatNumber(latest)} req/s; ${count(requestsTotal)} in 15 minutes`}
        />
        <Chart
          id="latency"
          title="Latency"
          unit="ms"
          x={c.t}
          lines={latencyLines}
          summary={`latest p50 ${ms(latestP50)}, p99 ${ms(latestP99)}`}
        />
        <Chart
          id="status"
          title="Responses by status"
          unit="req/s"
          x={c.t}
          lines={statusLines}
          summary={`15 minutes: ${count(twoXX)} 2xx, ${count(fourXX)} 4xx, ${count(fiveXX)} 5xx`}
        />
      </div>
      <RoutesTable rows={summary} />
    </section>
  )
}

function RoutesTable({ rows }: { rows: ReturnType<TrafficWindow['summary']> }) {
  return (
    // biome-ignore lint/a11y/noNoninteractiveTabindex: a table that scrolls sideways (on a phone) must be reachable by keyboard
    <section class="table-scroll" tabIndex={0} aria-labelledby="routes-caption">
      <table class="data" id="routes-table">
        <caption id="routes-caption">Routes, last minute</caption>
        <thead>
          <tr>
            <th scope="col">Route</th>
            <th scope="col">Service</th>
            <th scope="col" class="num">
              Requests
            </th>
            <th scope="col" class="num">
              2xx
            </th>
            <th scope="col" class="num">
              3xx
            </th>
            <th scope="col" class="num">
              4xx
            </th>
            <th scope="col" class="num">
              5xx
            </th>
            <th scope="col" class="num">
              p50
            </th>
            <th scope="col" class="num">
              p99
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.length === 0 ? (
            <tr>
              <td colSpan={9} class="muted">
                No requests in the last minute.
              </td>
            </tr>
          ) : (
            rows.map((r) => (
              <tr key={r.key} data-route={r.route}>
                <th scope="row">{routeLabel(r)}</th>
                <td>{r.service === '' ? '–' : r.service}</td>
                <td class="num" data-field="requests">
                  {count(r.requests)}
                </td>
                <td class="num">{count(r.s2xx)}</td>
                <td class="num">{count(r.s3xx)}</td>
                <td class={`num${r.s4xx > 0 ? ' warn' : ''}`}>{count(r.s4xx)}</td>
                <td class={`num${r.s5xx > 0 ? ' bad' : ''}`}>{count(r.s5xx)}</td>
                <td class="num">{ms(r.p50)}</td>
                <td class="num">{ms(r.p99)}</td>
              </tr>
            ))
          )}
        </tbody>
      </table>
    </section>
  )
}

function Card({
  term,
  id,
  wide,
  children,
}: {
  term: string
  id: string
  wide?: boolean
  children: preact.ComponentChildren
}) {
  return (
    <div class={`card${wide === true ? ' card-wide' : ''}`} id={id}>
      <dt>{term}</dt>
      <dd>{children}</dd>
    </div>
  )
}

function Badge({ kind, children }: { kind: 'ok' | 'warn' | 'bad'; children: preact.ComponentChildren }) {
  return <span class={`badge badge-${kind}`}>{children}</span>
}
