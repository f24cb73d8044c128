/**
 * AttemptBody over a real client request (node:http on port 0): what one attempt took from the client
 * without writing it passes to the next whole and in order, nothing is kept once something was written,
 * and a client leaving in the middle of its body ends the attempt as the client's doing.
 */
import assert from 'node:assert/strict'
import { createServer, type IncomingMessage, request, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { trackServer } from '../../test/harness/resources.ts'
import { AttemptBody } from './attempt-body.ts'

function collect(body: AttemptBody): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    body.on('data', (c: Buffer) => chunks.push(c))
    body.once('end', () => resolve(Buffer.concat(chunks).toString()))
    body.once('error', reject)
  })
}

function firstChunk(body: AttemptBody): Promise<string> {
  return new Promise((resolve) => {
    body.once('data', (c: Buffer) => {
      body.pause()
      resolve(c.toString())
    })
  })
}

describe('the client body as one upstream attempt reads it', () => {
  let server: Server
  let url = ''
  let next: (req: IncomingMessage) => void = () => {}

  before(async () => {
    server = trackServer(
      'server',
      createServer((req, res) => {
        next(req)
        req.once('close', () => res.end())
      }),
    )
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  after(() => new Promise<void>((resolve) => server.close(() => resolve())))

  /** Sends a POST whose body comes in `parts`, the next one only when `go` is called. */
  function send(parts: string[]): { go: () => void; abort: () => void; received: Promise<IncomingMessage> } {
    const received = new Promise<IncomingMessage>((resolve) => {
      next = resolve
    })
    const req = request(url, { method: 'POST' })
    req.on('error', () => {})
    req.write(parts.shift()!)
    return {
      go: () => {
        const part = parts.shift()
        if (part === undefined) req.end()
        else req.write(part)
      },
      abort: () => req.destroy(),
      received,
    }
  }

  it('hands what an attempt took but did not write to the next attempt, before the rest of the body', async () => {
    const client = send(['first part, ', 'second part'])
    const first = new AttemptBody(await client.received)
    assert.equal(await firstChunk(first), 'first part, ')
    const second = first.next()
    assert.equal(first.destroyed, true)
    const whole = collect(second)
    client.go()
    client.go()
    assert.equal(await whole, 'first part, second part')
  })

  it('carries a body that arrived whole over more than one failed attempt', async () => {
    const client = send(['all of it'])
    client.go()
    const first = new AttemptBody(await client.received)
    assert.equal(await collect(first), 'all of it')
    const third = first.next().next()
    assert.equal(await collect(third), 'all of it')
  })

  it('refuses to hand on a body of which something was written', async () => {
    const client = send(['written'])
    const body = new AttemptBody(await client.received)
    await firstChunk(body)
    body.sent()
    assert.throws(() => body.next(), { name: 'TypeError' })
    body.destroy()
    client.abort()
  })

  it("ends the attempt as the client's doing when the client leaves in the middle of its body", async () => {
    const client = send(['half'])
    const body = new AttemptBody(await client.received)
    const ended = collect(body)
    await firstChunk(body).then(() => body.resume())
    client.abort()
    await assert.rejects(ended, { code: 'GH_CLIENT_GONE' })
  })
})
