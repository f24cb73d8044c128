import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { request } from 'node:http'
import { connect } from 'node:net'
import { Readable } from 'node:stream'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { type GatehouseProcess, startGatehouse } from '../harness/gatehouse.ts'
import { serviceConfig, startUpstream, type Upstream } from '../harness/upstream.ts'

/** Byte p of every test body is p % 251, so any reordering, loss or duplication is detected cheaply. */
const PERIOD = 251
const CHUNK = 64 * 1024
const PATTERN = Buffer.alloc(CHUNK + PERIOD, 0).map((_, i) => i % PERIOD)

function patternStream(total: number): Readable {
  let sent = 0
  return new Readable({
    read() {
      if (sent >= total) {
        this.push(null)
        return
      }
      const n = Math.min(CHUNK, total - sent)
      this.push(PATTERN.subarray(sent % PERIOD, (sent % PERIOD) + n))
      sent += n
    },
  })
}

/** Checks each chunk against the pattern; returns the byte count, or -1 at the first mismatch. */
class PatternChecker {
  bytes = 0
  ok = true
  update(chunk: Buffer): void {
    for (let at = 0; at < chunk.length && this.ok; at += CHUNK) {
      const part = chunk.subarray(at, at + CHUNK)
      const start = this.bytes % PERIOD
      if (!part.equals(PATTERN.subarray(start, start + part.length))) this.ok = false
      this.bytes += part.length
    }
  }
}

/** Peak resident memory (VmHWM) of a process, in bytes. */
function peakRss(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)![1]) * 1024
}

const GiB = 1024 ** 3
const MiB = 1024 ** 2
/** Far below the sizes moved, far above what streaming needs: buffering a body would blow it. */
const MEMORY_BOUND = 300 * MiB

describe('bodies stream through the gateway in both directions with bounded memory', () => {
  let up: Upstream
  let gh: GatehouseProcess
  /** Resolved by the test when its client has received the first server-sent event. */
  let firstEventSeen: () => void = () => {}
  let secondEventSent = false
  before(async () => {
    up = await startUpstream((req, res) => {
      if (req.url?.endsWith('/events')) {
        res.writeHead(200, { 'content-type': 'text/event-stream' })
        res.write('data: first\n\n')
        const confirmed = new Promise<void>((resolve) => {
          firstEventSeen = resolve
        })
        // The second event waits until the client saw the first (or 5 s pass, so a failure cannot hang).
        Promise.race([confirmed, sleep(5000)]).then(() => {
          secondEventSent = true
          res.end('data: second\n\n')
        })
        return
      }
      if (req.url?.endsWith('/early')) {
        // Refuses at once, without reading the body the client is still sending.
        res.writeHead(413, { 'content-type': 'text/plain' }).end('too large')
        return
      }
      if (req.method === 'POST') {
        const check = new PatternChecker()
        req.on('data', (c: Buffer) => check.update(c))
        req.on('end', () => {
          res.writeHead(200, { 'content-type': 'application/json' })
          res.end(JSON.stringify({ bytes: check.bytes, ok: check.ok }))
        })
        return
      }
      const size = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('size'))
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(size) })
      patternStream(size).pipe(res)
    })
    gh = await startGatehouse({ config: serviceConfig(up.url, [{ name: 'files', paths: ['/files'] }]) })
  })
  after(async () => {
    await gh.stop()
    await up.close()
  })

  it('streams a 1 GiB chunked upload to the upstream intact without buffering it', async () => {
    const result = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(
        `${gh.proxyUrl}/files/upload`,
        { method: 'POST', headers: { 'content-type': 'application/octet-stream' } },
        (res) => {
          let body = ''
          res.setEncoding('utf8').on('data', (c: string) => {
            body += c
          })
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
        },
      )
      req.on('error', reject)
      patternStream(GiB).pipe(req)
    })
    assert.equal(result.status, 200)
    assert.deepEqual(JSON.parse(result.body), { bytes: GiB, ok: true })
    assert.ok(peakRss(gh.child.pid!) < MEMORY_BOUND, `gateway peak RSS ${peakRss(gh.child.pid!)} bytes`)
  })

  it('streams a 512 MiB download to a client that stops reading for a while, holding back the upstream', async () => {
    const size = 512 * MiB
    const check = new PatternChecker()
    await new Promise<void>((resolve, reject) => {
      const req = request(`${gh.proxyUrl}/files/download?size=${size}`, (res) => {
        assert.equal(res.headers['content-length'], String(size))
        res.pause()
        // While the client reads nothing, the gateway must not pull the whole body from the upstream.
        sleep(1500).then(() => {
          res.on('data', (c: Buffer) => check.update(c))
          res.resume()
        }, reject)
        res.on('end', resolve)
        res.on('error', reject)
      })
      req.on('error', reject)
      req.end()
    })
    assert.equal(check.bytes, size)
    assert.ok(check.ok, 'body corrupted')
    assert.ok(peakRss(gh.child.pid!) < MEMORY_BOUND, `gateway peak RSS ${peakRss(gh.child.pid!)} bytes`)
  })

  it('delivers each chunk of a streamed response as it arrives (server-sent events)', async () => {
    const sawFirstBeforeSecond = await new Promise<boolean>((resolve, reject) => {
      const req = request(`${gh.proxyUrl}/files/events`, (res) => {
        res.setEncoding('utf8').once('data', (chunk: string) => {
          const early = chunk.includes('first') && !secondEventSent
          firstEventSeen()
          res.resume()
          res.on('end', () => resolve(early))
        })
      })
      req.on('error', reject)
      req.end()
    })
    assert.ok(
      sawFirstBeforeSecond,
      'the first event reached the client only after the upstream sent the second',
    )
  })

  it('passes on an answer the upstream gives before the body has arrived, then reads the rest so the connection serves the next request', {
    timeout: 60_000,
  }, async () => {
    // A raw client: node's and curl's stop sending once answered; this one sends its whole body.
    const socket = connect(Number(new URL(gh.proxyUrl).port), '127.0.0.1')
    socket.on('error', () => {}) // a reset shows as the close below
    let seen = ''
    const answered = (text: string) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (seen.includes(text)) resolve()
        }
        socket.on('data', (c: Buffer) => {
          seen += c.toString('latin1')
          check()
        })
        socket.once('close', () => reject(new Error(`closed after:\n${seen}`)))
        check()
      })
    const first = answered('too large')
    socket.write('POST /files/early HTTP/1.1\r\nhost: gateway\r\ntransfer-encoding: chunked\r\n\r\n')
    const chunk = Buffer.concat([
      Buffer.from(`${CHUNK.toString(16)}\r\n`),
      PATTERN.subarray(0, CHUNK),
      Buffer.from('\r\n'),
    ])
    for (let sent = 0; sent < 64 * MiB; sent += CHUNK)
      if (!socket.write(chunk)) await new Promise((resolve) => socket.once('drain', resolve))
    socket.write('0\r\n\r\n')
    await first
    assert.match(seen, /^HTTP\/1\.1 413 /)
    assert.doesNotMatch(seen, /connection: close/i)
    // The same connection: answered only if the gateway read the rest of the first body.
    const second = answered('"bytes":1000')
    socket.write('POST /files/upload HTTP/1.1\r\nhost: gateway\r\ncontent-length: 1000\r\n\r\n')
    socket.write(PATTERN.subarray(0, 1000))
    await second
    socket.destroy()
  })

  it('forwards a fixed-length body with its Content-Length', async () => {
    const res = await fetch(`${gh.proxyUrl}/files/upload`, {
      method: 'POST',
      body: PATTERN.subarray(0, 1000),
    })
    assert.deepEqual(await res.json(), { bytes: 1000, ok: true })
    const seen = up.requests.at(-1)!
    assert.equal(seen.headers['content-length'], '1000')
    assert.equal(seen.headers['transfer-encoding'], undefined)
  })
})
