/**
 * WebSocket handshakes (RFC 6455 §4) through the ordinary pipeline (issue 13): the handshake is a GET
 * that is matched, authenticated, authorised and limited like any request, and forwarded with undici's
 * `upgrade`; the upstream's 101 goes back to the client and opens a tunnel (proxy/websocket-tunnel.ts),
 * any other answer is relayed as it is. Here: what counts as a handshake, what refuses one, and the 101.
 */
import { validateHeaderValue } from 'node:http'
import type { Duplex } from 'node:stream'
import type { Counter, Gauge } from 'prom-client'
import { GatehouseError } from '../errors/errors.ts'
import { Tunnel, type TunnelSet } from '../proxy/websocket-tunnel.ts'
import type { HeaderMap, RequestState } from './request-state.ts'

/** The node's tunnels and their metrics (gateway.ts owns them). */
export interface WebSockets {
  readonly tunnels: TunnelSet
  /** gatehouse_websocket_connections{service, route}. */
  readonly connections: Gauge<'service' | 'route'>
  /** gatehouse_websocket_handshakes_total{service, route, outcome}. */
  readonly handshakes: Counter<'service' | 'route' | 'outcome'>
}

/** RFC 6455 §4.1: 16 random bytes, base64. */
const KEY = /^[A-Za-z0-9+/]{22}==$/

/**
 * The protocol a request asks to switch to: Node's parser flags a request with `Connection: upgrade`
 * and `Upgrade` (HTTP/1.1 only; HTTP/2 has no Upgrade) and server.ts hands it to the pipeline.
 * Null for every other request, `Upgrade` without `Connection: upgrade` included (RFC 9110 §7.8).
 */
export function upgradeRequested(state: RequestState): string | null {
  const req = state.req as RequestState['req'] & { upgrade?: boolean }
  if (req.upgrade !== true) return null
  return req.headers.upgrade ?? ''
}

/** Whether an Upgrade value names WebSocket (case-insensitive; a list may name several protocols). */
export function isWebSocketUpgrade(value: string): boolean {
  if (value.toLowerCase() === 'websocket') return true
  return value.split(',').some((token) => token.trim().toLowerCase() === 'websocket')
}

/** The refusal of an Upgrade to anything but WebSocket (h2c, TLS/1.x, …). No input is echoed. */
export function unsupportedUpgrade(): GatehouseError {
  return new GatehouseError(
    'GH_ERR_UPGRADE_UNSUPPORTED',
    'Bad request: the gateway upgrades connections to websocket only',
    { detail: 'upgrade_unsupported' },
  )
}

/** A WebSocket handshake on a route that does not take one. */
export function webSocketNotAllowed(): GatehouseError {
  return new GatehouseError(
    'GH_ERR_WEBSOCKET_NOT_ALLOWED',
    'Bad request: this route does not accept WebSocket',
    {
      detail: 'websocket_not_allowed',
    },
  )
}

/**
 * What is wrong with a handshake by RFC 6455 §4.1, with the extra headers of its answer; null when it is
 * well-formed. The upstream checks the rest (Origin, subprotocols, extensions) as the endpoint.
 */
export function handshakeProblem(state: RequestState): [GatehouseError, HeaderMap | undefined] | null {
  const headers = state.req.headers
  if (state.method !== 'GET' || state.req.httpVersion !== '1.1') {
    const message = 'Bad request: a WebSocket handshake is an HTTP/1.1 GET'
    return [
      new GatehouseError('GH_ERR_WEBSOCKET_HANDSHAKE_INVALID', message, { detail: 'method' }),
      undefined,
    ]
  }
  if (headers['sec-websocket-version'] !== '13') {
    const error = new GatehouseError(
      'GH_ERR_WEBSOCKET_VERSION_UNSUPPORTED',
      'Upgrade required: Sec-WebSocket-Version must be 13',
      { detail: 'version' },
    )
    return [error, { 'sec-websocket-version': '13' }]
  }
  const key = headers['sec-websocket-key']
  if (key === undefined || !KEY.test(key)) {
    const message = 'Bad request: missing or malformed Sec-WebSocket-Key'
    return [new GatehouseError('GH_ERR_WEBSOCKET_HANDSHAKE_INVALID', message, { detail: 'key' }), undefined]
  }
  return null
}

/**
 * The upstream answered 101: the client gets the 101 with the upstream's end-to-end headers (as the
 * response phase left them), then the two sockets are piped until either side closes. The service's
 * read_timeout is the tunnel's idle timeout, as Kong's (nginx's proxy_read_timeout, rearmed by traffic
 * either way).
 */
export function openTunnel(state: RequestState, upstream: Duplex): void {
  const handshake = state.websocket!
  const websockets = handshake.websockets!
  const client = state.req.socket
  const ctx = state.route!
  state.res.detachSocket(client)
  client.write(switchingProtocols(state.response?.headers))
  handshake.opened = true
  websockets.handshakes.labels(ctx.serviceName, ctx.routeName, 'upgraded').inc()
  const gauge = websockets.connections.labels(ctx.serviceName, ctx.routeName)
  gauge.inc()
  const tunnel = new Tunnel(client, upstream, ctx.service!.read_timeout, (totals) => {
    websockets.tunnels.delete(tunnel)
    gauge.dec()
    state.bytesSent = totals.toClient
    handshake.closed(state)
  })
  websockets.tunnels.add(tunnel)
}

/** The 101's head; a header a plugin set with a value HTTP cannot carry is left out. */
function switchingProtocols(headers: HeaderMap | undefined): string {
  let head = 'HTTP/1.1 101 Switching Protocols\r\n'
  for (const name in headers) {
    const value = headers[name]
    for (const one of Array.isArray(value) ? value : [value]) {
      if (one === undefined || !isSendable(name, String(one))) continue
      head += `${name}: ${one}\r\n`
    }
  }
  return `${head}connection: Upgrade\r\nupgrade: websocket\r\n\r\n`
}

function isSendable(name: string, value: string): boolean {
  try {
    validateHeaderValue(name, value)
    return true
  } catch {
    return false
  }
}
