/**
 * Kong's correlation-id generators (kong/plugins/correlation-id/handler.lua). `uuid#counter` keeps a UUID
 * per process and counts, as Kong does per nginx worker: one UUID draw per process instead of per request.
 */
import { randomUUID } from 'node:crypto'
import type { Socket } from 'node:net'
import type { RequestState } from '../../pipeline/request-state.ts'
import type { GENERATORS } from './schema.ts'

type Generator = (state: RequestState) => string

const processUuid = randomUUID()
let counter = 0

/** Per connection, nginx's `$connection` (serial) and `$connection_requests`, for `tracker`. */
const connections = new WeakMap<Socket, { serial: number; requests: number }>()
let serials = 0

function tracker(state: RequestState): string {
  const socket = state.req.socket
  let conn = connections.get(socket)
  if (conn === undefined) {
    conn = { serial: ++serials, requests: 0 }
    connections.set(socket, conn)
  }
  conn.requests++
  const local = socket.localAddress ?? ''
  const address = local.startsWith('::ffff:') ? local.slice(7) : local
  return `${address}-${socket.localPort ?? 0}-${process.pid}-${conn.serial}-${conn.requests}-${(Date.now() / 1000).toFixed(3)}`
}

export const generators: Record<(typeof GENERATORS)[number], Generator> = {
  uuid: () => randomUUID(),
  'uuid#counter': () => `${processUuid}#${++counter}`,
  tracker,
}
