/**
 * Shared by the console tests: the built console's manifest (npm test builds it first), a reader of
 * GET /stats/stream that collects its events, and a bounded load through the proxy.
 */
import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { NodeSecond } from '../../src/observability/live-stats.ts'

export const TOKEN = 'console-admin-token-0123456789'

const DIST = fileURLToPath(new URL('../../../console/dist/', import.meta.url))

/** The console as built in packages/console/dist; fails the test, saying how to build it, when absent. */
export function consoleManifest(): { dir: string; files: string[] } {
  const file = join(DIST, 'manifest.json')
  assert.ok(existsSync(file), `the console is not built: run \`npm run build:console\` (${file})`)
  const manifest = JSON.parse(readFileSync(file, 'utf8')) as { files: string[] }
  return { dir: DIST, files: manifest.files }
}

export interface StreamEvent {
  readonly name: string
  readonly data: string
  readonly id: string | null
}

/** An open GET /stats/stream: its events as they come, parsed from text/event-stream. */
export class StatsStream {
  readonly response: Response
  readonly events: StreamEvent[] = []
  /** Resolves when the server ends the stream (or it breaks). */
  readonly closed: Promise<void>
  readonly #abort: AbortController
  #waiters: (() => void)[] = []

  private constructor(response: Response, abort: AbortController) {
    this.response = response
    this.#abort = abort
    this.closed = this.#read()
  }

  static async open(adminUrl: string, token: string | null): Promise<StatsStream> {
    const abort = new AbortController()
    const response = await fetch(`${adminUrl}/stats/stream`, {
      headers: token === null ? {} : { authorization: `Bearer ${token}` },
      signal: abort.signal,
    })
    return new StatsStream(response, abort)
  }

  async #read(): Promise<void> {
    if (this.response.body === null) return
    const decoder = new TextDecoder()
    let buffer = ''
    try {
      for await (const chunk of this.response.body) {
        buffer += decoder.decode(chunk as Uint8Array, { stream: true })
        let end = buffer.indexOf('\n\n')
        while (end !== -1) {
          const block = buffer.slice(0, end)
          buffer = buffer.slice(end + 2)
          end = buffer.indexOf('\n\n')
          let name = 'message'
          let id: string | null = null
          const data: string[] = []
          for (const line of block.split('\n')) {
            const [field, ...rest] = line.split(':')
            const value = rest.join(':').replace(/^ /, '')
            if (field === 'event') name = value
            else if (field === 'data') data.push(value)
            else if (field === 'id') id = value
          }
          if (data.length > 0) this.events.push({ name, data: data.join('\n'), id })
          for (const wake of this.#waiters.splice(0)) wake()
        }
      }
    } catch {
      // Aborted by close(), or cut: either way the stream is over.
    }
    for (const wake of this.#waiters.splice(0)) wake()
  }

  /** The `second` events so far. */
  seconds(): NodeSecond[] {
    return this.events.filter((e) => e.name === 'second').map((e) => JSON.parse(e.data) as NodeSecond)
  }

  /** Waits (up to `timeout` ms) until `done` holds over the events received. */
  async until(done: (events: StreamEvent[]) => boolean, timeout = 20_000): Promise<void> {
    const deadline = Date.now() + timeout
    while (!done(this.events)) {
      const left = deadline - Date.now()
      if (left <= 0)
        assert.fail(`stream: not within ${timeout} ms; events: ${this.events.map((e) => e.name)}`)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 500))
        this.#waiters.push(() => {
          clearTimeout(timer)
          resolve()
        })
      })
    }
  }

  close(): void {
    this.#abort.abort()
  }
}

/** Sends `count` GET requests for `path` through the proxy, `concurrency` at a time; returns the statuses. */
export async function load(
  proxyUrl: string,
  path: string,
  count: number,
  concurrency = 4,
): Promise<number[]> {
  const statuses: number[] = []
  let next = 0
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        next++
        const res = await fetch(proxyUrl + path)
        await res.arrayBuffer()
        statuses.push(res.status)
      }
    }),
  )
  return statuses
}

/** The sum over `seconds` of what `pick` reads from each. */
export function sum(seconds: readonly NodeSecond[], pick: (s: NodeSecond) => number): number {
  return seconds.reduce((total, s) => total + pick(s), 0)
}
