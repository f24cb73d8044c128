/**
 * The proxy ports of a node of several workers. On Linux each worker listens on its own socket with
 * SO_REUSEPORT and the kernel spreads new connections over them; the primary only reserves the port (a
 * bound socket that never listens, so it takes no connection) for the node's life: `HOST:0` becomes one
 * port every worker and every replacement binds, and no other user's process can take it meanwhile
 * (SO_REUSEPORT groups are per user). Compared with node:cluster's round robin, the primary is not on
 * the path of every connection, and a worker that dies takes only its own queue with it: those clients
 * get a reset at once, where a connection handed to a dying worker by the primary hangs until the
 * client gives up. Elsewhere (no SO_REUSEPORT balancing) the workers share the primary's socket through
 * node:cluster as before.
 */
import * as net from 'node:net'
import { parseListen } from '../proxy/server.ts'

export interface ReservedPort {
  /** `HOST:PORT` with the port resolved, for the workers to bind. */
  readonly address: string
  close(): void
}

/** Reserves `address` for the workers' SO_REUSEPORT listeners; null where they would share the primary's. */
export function reservePort(address: string): ReservedPort | null {
  const BoundSocket = (net as { BoundSocket?: new (o: object) => BoundLike }).BoundSocket
  if (process.platform !== 'linux' || BoundSocket === undefined) return null
  const { host, port } = parseListen(address)
  const bound = new BoundSocket({ host, port, reusePort: true })
  const resolved = bound.address().port
  return {
    address: `${host.includes(':') ? `[${host}]` : host}:${resolved}`,
    close: () => bound.close(),
  }
}

interface BoundLike {
  address(): { port: number }
  close(): void
}
