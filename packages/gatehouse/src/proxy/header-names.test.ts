import assert from 'node:assert/strict'
import type { IncomingMessage } from 'node:http'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { copyEndToEndHeaders } from '../pipeline/upstream-request.ts'
import { screenHeaderNames, type UnderscoreAction } from './header-names.ts'
import { IDENTITY_HEADER_SET, IDENTITY_HEADERS } from './identity-headers.ts'

/** The parts of a request the screen reads: headers as Node parses them, and the raw lines. */
function request(lines: readonly (readonly [string, string])[]): IncomingMessage {
  const headers: Record<string, string> = {}
  for (const [name, value] of lines) {
    const lower = name.toLowerCase()
    headers[lower] = headers[lower] === undefined ? value : `${headers[lower]}, ${value}`
  }
  return { headers, rawHeaders: lines.flat() } as unknown as IncomingMessage
}

/** What would go upstream after the screen, as prepareUpstreamRequest copies it. */
function upstreamNames(req: IncomingMessage): string[] {
  return Object.keys(copyEndToEndHeaders(req.headers, IDENTITY_HEADER_SET))
}

describe('header names with underscores (proxy.headers_with_underscores)', () => {
  it('drops every name with an underscore from headers and raw lines, keeping the others', () => {
    const req = request([
      ['X_Consumer_Username', 'admin'],
      ['X-Trace', '1'],
      ['api_key', 'k'],
      ['Accept', '*/*'],
    ])
    assert.equal(screenHeaderNames(req, 'drop', IDENTITY_HEADER_SET), null)
    assert.deepEqual(Object.keys(req.headers), ['x-trace', 'accept'])
    assert.deepEqual(req.rawHeaders, ['X-Trace', '1', 'Accept', '*/*'])
  })

  it('answers the first underscored name with reject and changes nothing', () => {
    const req = request([
      ['X-Ok', '1'],
      ['x_consumer_id', 'admin'],
    ])
    assert.equal(screenHeaderNames(req, 'reject', IDENTITY_HEADER_SET), 'x_consumer_id')
    assert.equal(req.headers.x_consumer_id, 'admin')
    assert.equal(req.rawHeaders.length, 4)
  })

  it('passes underscored names with allow, except those that read as an identity header or one the gateway frames or sets', () => {
    const req = request([
      ['x_consumer_username', 'admin'],
      ['X_Authenticated_Groups', 'admins'],
      ['Transfer_Encoding', 'chunked'],
      ['X_Forwarded_For', '10.0.0.1'],
      ['api_key', 'k'],
    ])
    assert.equal(screenHeaderNames(req, 'allow', IDENTITY_HEADER_SET), null)
    assert.deepEqual(Object.keys(req.headers), ['api_key'])
    assert.deepEqual(req.rawHeaders, ['api_key', 'k'])
  })

  it('leaves a request without underscores untouched (the same objects)', () => {
    const req = request([['X-A', '1']])
    const raw = req.rawHeaders
    assert.equal(screenHeaderNames(req, 'drop', IDENTITY_HEADER_SET), null)
    assert.equal(req.rawHeaders, raw)
    assert.deepEqual(raw, ['X-A', '1'])
  })

  it('screens a line named __proto__, which the parsed headers cannot hold, like any other', () => {
    for (const how of ['drop', 'allow'] as const) {
      const req = request([
        ['__proto__', 'x'],
        ['X-A', '1'],
      ])
      assert.equal(screenHeaderNames(req, how, IDENTITY_HEADER_SET), null)
      assert.deepEqual(req.rawHeaders, ['X-A', '1'], how)
    }
    assert.equal(screenHeaderNames(request([['__proto__', 'x']]), 'reject', IDENTITY_HEADER_SET), '__proto__')
  })

  it('never lets an underscored name or an identity header through to the upstream, whatever the client sends', () => {
    const identityLike = fc
      .tuple(fc.constantFrom(...IDENTITY_HEADERS), fc.boolean(), fc.boolean())
      .map(([name, upper, underscores]) => {
        const n = underscores ? name.replaceAll('-', '_') : name
        return upper ? n.toUpperCase() : n
      })
    const token = fc.stringMatching(/^[A-Za-z0-9_-]{1,12}$/)
    const name = fc.oneof(identityLike, token, fc.constantFrom('x-user', 'authorization', 'x_user'))
    const lines = fc.array(fc.tuple(name, fc.stringMatching(/^[a-z0-9]{0,6}$/)), { maxLength: 12 })
    const action = fc.constantFrom<UnderscoreAction>('drop', 'allow')
    fc.assert(
      fc.property(lines, action, (sent, how) => {
        const req = request(sent)
        screenHeaderNames(req, how, IDENTITY_HEADER_SET)
        for (const n of upstreamNames(req)) {
          assert.ok(!IDENTITY_HEADER_SET.has(n), `${n} reached the upstream`)
          assert.ok(!IDENTITY_HEADER_SET.has(n.replaceAll('_', '-')), `${n} reads as an identity header`)
          if (how === 'drop') assert.ok(!n.includes('_'), `${n} has an underscore`)
        }
        // Raw lines and parsed headers stay in step: what plugins read line by line was screened too.
        for (let i = 0; i < req.rawHeaders.length; i += 2)
          assert.ok(Object.hasOwn(req.headers, req.rawHeaders[i]!.toLowerCase()), req.rawHeaders[i])
      }),
      { numRuns: 500 },
    )
  })
})
