/**
 * What the multi-worker suites share: requests on connections of their own (so the kernel hands each
 * to a worker afresh), which worker served a request (its access line's pid, found by the request id the
 * test sent), the node's /status and /metrics, and polling with a deadline instead of sleeping.
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import type { GatehouseProcess, LogLine } from '../harness/gatehouse.ts'
import { type RawResponse, rawRequest } from '../harness/http.ts'

export interface WorkerStats {
  slot: number
  pid: number
  connections_active: number
  total_requests: number
}

export interface NodeStatus {
  server: { total_requests: number; connections_active: number }
  workers?: WorkerStats[]
}

/** A response, the request id it was sent with, and (once `servedBy` ran) the pid of its worker. */
export interface Sent extends RawResponse {
  readonly id: string
}

/** GET `path` on the proxy on a new connection (rawRequest: no agent), with a request id of its own. */
export async function fresh(
  gh: GatehouseProcess,
  path: string,
  headers: Record<string, string> = {},
): Promise<Sent> {
  const id = `t-${randomUUID()}`
  const res = await rawRequest(gh.proxyUrl + path, { headers: { ...headers, 'x-request-id': id } })
  return { ...res, id }
}

/**
 * `count` requests one after the other, each on a connection of its own, then more (at most 64) until
 * every worker has served at least one: the kernel spreads connections over the workers' SO_REUSEPORT
 * sockets by a hash of the client's address and port, so a few connections may all land on one.
 */
export async function freshMany(
  gh: GatehouseProcess,
  count: number,
  path: string,
  headers: Record<string, string> = {},
): Promise<Sent[]> {
  const sent: Sent[] = []
  for (let i = 0; i < count; i++) sent.push(await fresh(gh, path, headers))
  const workers = (await nodeStatus(gh)).workers
  if (workers === undefined) return sent
  const missing = new Set(workers.map((w) => w.pid))
  for (const pid of await servedBy(gh, sent)) missing.delete(pid)
  for (let extra = 0; missing.size > 0 && extra < 64; extra++) {
    const more = await fresh(gh, path, headers)
    sent.push(more)
    missing.delete((await accessLine(gh, more.id)).pid as number)
  }
  return sent
}

/** The access line of request `id` (waiting for the relay to bring it). */
export function accessLine(gh: GatehouseProcess, id: string): Promise<LogLine> {
  return gh.waitForLog((l) => l.type === 'access' && l.request_id === id, 5000)
}

/** The pid of the worker that served each request (from its access line). */
export async function servedBy(gh: GatehouseProcess, sent: readonly Sent[]): Promise<number[]> {
  return Promise.all(sent.map(async (s) => (await accessLine(gh, s.id)).pid as number))
}

/** GET /status on the admin API. */
export async function nodeStatus(gh: GatehouseProcess): Promise<NodeStatus> {
  const res = await gh.admin('/status')
  assert.equal(res.status, 200)
  return (await res.json()) as NodeStatus
}

/** The pids of the serving workers, by slot. */
export async function workerPids(gh: GatehouseProcess): Promise<number[]> {
  const workers = (await nodeStatus(gh)).workers
  assert.ok(workers !== undefined, '/status lists the workers')
  return [...workers].sort((a, b) => a.slot - b.slot).map((w) => w.pid)
}

/** GET /metrics on the admin API. */
export async function metricsText(gh: GatehouseProcess): Promise<string> {
  const res = await gh.admin('/metrics')
  assert.equal(res.status, 200)
  return res.text()
}

/** Calls `probe` every 50 ms until `done` holds for its value, and resolves with it; fails after `ms`. */
export async function until<T>(
  probe: () => Promise<T>,
  done: (value: T) => boolean,
  ms = 10_000,
): Promise<T> {
  const started = Date.now()
  for (;;) {
    const value = await probe()
    if (done(value)) return value
    if (Date.now() - started > ms) throw new Error(`not within ${ms} ms; last seen: ${JSON.stringify(value)}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** The distinct values of `values`, sorted. */
export const distinct = <T>(values: readonly T[]): T[] => [...new Set(values)].sort()

/**
 * The keys of `line` (a JSON text) that occur twice in one object. JSON.parse keeps the last silently,
 * but log stores refuse such a document (Elasticsearch: "Duplicate field"), so a log line must have none.
 */
export function duplicateKeys(line: string): string[] {
  const objects: Set<string>[] = []
  const duplicates: string[] = []
  for (let i = 0; i < line.length; i++) {
    const c = line[i]
    if (c === '{') objects.push(new Set())
    else if (c === '}') objects.pop()
    else if (c === '"') {
      let end = i + 1
      while (line[end] !== '"') end += line[end] === '\\' ? 2 : 1
      const key = JSON.parse(line.slice(i, end + 1)) as string
      let next = end + 1
      while (line[next] === ' ') next++
      const object = objects.at(-1)
      if (line[next] === ':' && object !== undefined) {
        if (object.has(key)) duplicates.push(key)
        object.add(key)
      }
      i = end
    }
  }
  return duplicates
}

/** A configuration whose route `/v` answers with `x-config: <version>` (which configuration served). */
export function versioned(upstreamUrl: string, version: string, extra: object = {}): object {
  return {
    _format_version: '3.0',
    ...extra,
    services: [
      {
        name: 'svc',
        url: upstreamUrl,
        routes: [
          {
            name: 'v',
            paths: ['/v'],
            plugins: [
              { name: 'response-transformer', config: { add: { headers: [`x-config:${version}`] } } },
            ],
          },
        ],
      },
    ],
  }
}
