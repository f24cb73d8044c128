/**
 * `Expect: 100-continue` (RFC 9110 §10.1.1): the client holds its body back until the server says
 * 100 Continue. Node says it at once, before the request handler runs, unless the server handles
 * 'checkContinue'; the proxy listeners do, and the gateway says it only when it is about to read the
 * body (a plugin's `readBody`, the forward to the upstream, the identity provider). A request refused
 * before that (413 for a body too large to read, 401, 404) never invites its body, and Node closes its
 * connection after the answer, since the client may send the body anyway and nothing after can be framed.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http'

const kAwaitingContinue = Symbol('gatehouse.awaitingContinue')

type AwaitingResponse = ServerResponse & { [kAwaitingContinue]?: boolean }

/** Routes requests that expect 100 Continue to `onRequest` too, without Node's early 100. */
export function deferContinue(
  server: Pick<Server, 'on'>,
  onRequest: (req: IncomingMessage, res: ServerResponse) => void,
): void {
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    ;(res as AwaitingResponse)[kAwaitingContinue] = true
    onRequest(req, res)
  })
}

/** Tells a client that waits for it to send its body now; nothing for every other request. */
export function letBodyCome(res: ServerResponse): void {
  const r = res as AwaitingResponse
  if (r[kAwaitingContinue] !== true) return
  r[kAwaitingContinue] = false
  if (!res.headersSent && !res.destroyed) res.writeContinue()
}
