/**
 * Backends for the upstream tests: real HTTP servers on 127.0.0.1 that answer with their name, count
 * the proxied requests they get (probes of /health apart), can be told to fail or to hold requests,
 * and can be stopped and started again on the same port, as a crashed and restarted target would be.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { trackServer } from '../harness/resources.ts'

export type Mode = 'ok' | 'error' | 'hold'

export class Target {
  readonly name: string
  port = 0
  mode: Mode = 'ok'
  /** Proxied requests received (not health probes). */
  hits = 0
  /** Health probes received. */
  probes = 0
  /** Host header of the last proxied request. */
  lastHost = ''
  #server: Server | null = null
  readonly #sockets = new Set<Socket>()
  readonly #held: ServerResponse[] = []

  constructor(name: string) {
    this.name = name
  }

  get address(): string {
    return `127.0.0.1:${this.port}`
  }

  async start(): Promise<this> {
    const server = createServer((req, res) => this.#handle(req, res))
    server.on('connection', (s: Socket) => {
      this.#sockets.add(s)
      s.once('close', () => this.#sockets.delete(s))
    })
    trackServer(`target ${this.name}`, server)
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve))
    this.port = (server.address() as AddressInfo).port
    this.#server = server
    return this
  }

  /** Stops listening and drops every connection, like a crashed process. */
  async stop(): Promise<void> {
    const server = this.#server
    if (server === null) return
    this.#server = null
    for (const s of this.#sockets) s.destroy()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }

  /** Answers every held request. */
  release(): void {
    for (const res of this.#held.splice(0)) res.end(this.name)
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    req.resume()
    if (req.url === '/health') {
      this.probes++
      res.writeHead(this.mode === 'error' ? 500 : 200).end('health')
      return
    }
    this.hits++
    this.lastHost = req.headers.host ?? ''
    if (this.mode === 'error') res.writeHead(500).end(`${this.name} failed`)
    else if (req.url === '/json')
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(this.name))
    else if (this.mode === 'hold') this.#held.push(res)
    else res.end(this.name)
  }
}

/** Started targets, one per name, in order. */
export async function startTargets<const N extends readonly string[]>(
  ...names: N
): Promise<{ -readonly [K in keyof N]: Target }> {
  return (await Promise.all(names.map((n) => new Target(n).start()))) as { -readonly [K in keyof N]: Target }
}

/** Polls `check` every 50 ms until it returns true; fails after `timeout` ms. Resolves with the time taken. */
export async function until(
  check: () => boolean | Promise<boolean>,
  timeout: number,
  what: string,
): Promise<number> {
  const started = performance.now()
  while (performance.now() - started < timeout) {
    if (await check()) return performance.now() - started
    await sleep(50)
  }
  throw new Error(`not within ${timeout} ms: ${what}`)
}

/** A declarative file with one upstream `pool` and a service in front of it on every path. */
export function poolConfig(upstream: Record<string, unknown>, service: Record<string, unknown> = {}): object {
  return {
    _format_version: '3.0',
    upstreams: [{ name: 'pool', ...upstream }],
    services: [{ name: 'svc', host: 'pool', routes: [{ name: 'all', paths: ['/'] }], ...service }],
  }
}
