import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { isValidTraceparent, newRequestId, newTraceparent, requestIdFrom } from './trace-context.ts'

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

describe('request correlation ids', () => {
  it('makes request ids that are random version-4 UUIDs, all different, across refills of the pool', () => {
    const seen = new Set<string>()
    // 16 KiB of random bytes a pool: 20,000 ids (and traceparents between) draw it several times over.
    for (let i = 0; i < 20_000; i++) {
      const id = newRequestId()
      assert.match(id, UUID_V4)
      seen.add(id)
      if (i % 3 === 0) assert.ok(isValidTraceparent(newTraceparent()))
    }
    assert.equal(seen.size, 20_000)
    // Every variant digit occurs: the variant is drawn, not fixed.
    const variants = new Set([...seen].map((id) => id[19]))
    assert.deepEqual([...variants].sort(), ['8', '9', 'a', 'b'])
  })

  it("keeps a client's well-formed X-Request-ID and replaces a missing or malformed one", () => {
    assert.equal(requestIdFrom('abc-123'), 'abc-123')
    assert.match(requestIdFrom(undefined), UUID_V4)
    assert.match(requestIdFrom('has space'), UUID_V4)
    assert.match(requestIdFrom(['a', 'b']), UUID_V4)
    assert.match(requestIdFrom('x'.repeat(201)), UUID_V4)
  })

  it('makes traceparents of version 00, not sampled, with random non-zero ids', () => {
    const a = newTraceparent()
    const b = newTraceparent()
    assert.match(a, /^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/)
    assert.notEqual(a.slice(3, 35), b.slice(3, 35))
    assert.ok(isValidTraceparent(a))
  })
})
