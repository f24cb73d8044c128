import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { PrettyStream, prettyLine, wantsColour } from './pretty.ts'

const ACCESS = JSON.stringify({
  level: 'info',
  time: '2026-01-02T03:04:05.678Z',
  pid: 1,
  type: 'access',
  request_id: 'r1',
  method: 'POST',
  path: '/orders',
  route: 'orders-api',
  service: 'orders',
  consumer: 'alice',
  status: 503,
  latency_ms: 12.345,
  upstream_latency_ms: null,
  client_ip: '127.0.0.1',
  bytes_sent: 10,
  msg: 'request',
})

describe('the pretty log line', () => {
  it('reads an access line as METHOD path → status latency, then the key fields, nulls left out', () => {
    assert.match(
      prettyLine(ACCESS, { colour: false }),
      /^\d\d:\d\d:\d\d\.678 INFO {2}POST \/orders → 503 12\.3ms route=orders-api service=orders consumer=alice request_id=r1 client_ip=127\.0\.0\.1 bytes_sent=10$/,
    )
  })

  it('colours the level and status only when asked', () => {
    assert.ok(prettyLine(ACCESS, { colour: true }).includes('\x1b[31m503\x1b[0m'))
    assert.ok(!prettyLine(ACCESS, { colour: false }).includes('\x1b['))
  })

  it('quotes values with spaces, shows an error by its message and stack, and keeps a non-JSON line', () => {
    const line = prettyLine(
      JSON.stringify({
        level: 'error',
        time: 0,
        msg: 'reload failed',
        source: 'my file.yaml',
        err: { message: 'boom', stack: 'Error: boom\n    at x (y.ts:1)' },
      }),
      { colour: false },
    )
    assert.match(line, /ERROR reload failed source="my file\.yaml" err=boom\n {4}at x \(y\.ts:1\)$/)
    assert.equal(prettyLine('not json', { colour: false }), 'not json')
  })

  it('turns each of several lines in one write into a line', () => {
    const out: string[] = []
    new PrettyStream({ write: (l) => out.push(l) }, { colour: false }).write(`${ACCESS}\n${ACCESS}\n`)
    assert.equal(out.length, 1)
    assert.equal(out[0]!.split('\n').length, 3)
  })

  it('is not coloured under NO_COLOR, nor for a descriptor that is not a terminal', () => {
    assert.equal(wantsColour(1, { NO_COLOR: '1' }), false)
    assert.equal(wantsColour(7, {}), false)
  })
})
