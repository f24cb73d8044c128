/**
 * The body bytes of a response an application inside the gateway writes on its own (the identity
 * provider: oidc-provider through koa, and our pages), counted into `state.bytesSent` for the access
 * log, as forward.ts counts a proxied body. `write` and `end` are wrapped on this one response object,
 * so nothing changes for the proxied path or for other responses.
 *
 * What is counted is what Node sends: nothing for HEAD and for 204/304 (Node drops those bodies), nothing
 * after the end. HTTP/2's `end(chunk)` calls `this.write(chunk)`, so a chunk given to `end` is counted
 * there once, not again by the wrapped `write`.
 */
import type { ServerResponse } from 'node:http'
import type { RequestState } from './request-state.ts'

type Write = ServerResponse['write']
type End = ServerResponse['end']

export function countBodyBytes(state: RequestState): void {
  const res = state.res
  // Called with `this`, as koa and stream.pipe call them on `res`.
  const write = res.write
  const end = res.end
  let ending = false
  const count = (chunk: unknown, encoding: unknown): void => {
    if (ending || res.writableEnded || state.method === 'HEAD') return
    const status = res.statusCode
    if (status === 204 || status === 304) return
    if (typeof chunk === 'string')
      state.bytesSent += Buffer.byteLength(
        chunk,
        typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8',
      )
    else if (chunk instanceof Uint8Array) state.bytesSent += chunk.byteLength
  }
  res.write = function (this: ServerResponse, chunk: unknown, ...rest: unknown[]) {
    count(chunk, rest[0])
    return (write as (...args: unknown[]) => boolean).call(this, chunk, ...rest)
  } as Write
  res.end = function (this: ServerResponse, ...args: unknown[]) {
    if (typeof args[0] !== 'function') count(args[0], args[1])
    ending = true
    try {
      return (end as (...a: unknown[]) => ServerResponse).apply(this, args)
    } finally {
      ending = false
    }
  } as End
}
