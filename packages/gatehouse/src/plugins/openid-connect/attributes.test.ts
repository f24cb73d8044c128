/**
 * claim_mapping in-process: the path syntax (dots, bracket quoting, the list form) and its refusals,
 * resolving a path only through own members of objects, and the attributes built from verified claims
 * (JSON values up to 4 KiB, deep-frozen copies, null and larger values left out and logged at debug).
 * What the upstream sees of them is in issuers.test.ts.
 */
import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import { describe, it } from 'node:test'
import { pino } from 'pino'
import { ClaimMapping, MAX_ATTRIBUTE_BYTES } from './attributes.ts'
import { claimAt, parseClaimPath } from './claim-path.ts'

const BAD = { error: 'expected a claim path such as realm_access.roles or ["https://shop.example/country"]' }

function capturingLogger() {
  const lines: Record<string, unknown>[] = []
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)))
      done()
    },
  })
  return { logger: pino({ level: 'debug' }, stream), lines }
}

describe('claim paths', () => {
  it('split on dots, with bracket-quoted names that contain dots, brackets or the other quote', () => {
    assert.deepEqual(parseClaimPath('sub'), ['sub'])
    assert.deepEqual(parseClaimPath('realm_access.roles'), ['realm_access', 'roles'])
    assert.deepEqual(parseClaimPath('resource_access["shop-web"].roles'), [
      'resource_access',
      'shop-web',
      'roles',
    ])
    assert.deepEqual(parseClaimPath('["https://shop.example/country"]'), ['https://shop.example/country'])
    assert.deepEqual(parseClaimPath(`['a"b']['c.d']`), ['a"b', 'c.d'])
    assert.deepEqual(parseClaimPath('a.["b.c"]'), ['a', 'b.c'])
  })

  it('take a list of names as they are', () => {
    assert.deepEqual(parseClaimPath(['https://shop.example/roles', 'a.b']), [
      'https://shop.example/roles',
      'a.b',
    ])
  })

  it('refuse empty segments, unbalanced brackets and stray characters', () => {
    for (const path of ['', '.a', 'a.', 'a..b', 'a[b]', '["a"', '["a"]b', 'a"b', 'a]', '[\'a"]'])
      assert.deepEqual(
        parseClaimPath(path),
        path === '' ? { error: 'must name at least one claim' } : BAD,
        path,
      )
    assert.deepEqual(parseClaimPath([]), { error: 'must name at least one claim' })
    assert.deepEqual(parseClaimPath(['a', '']), { error: 'must not have an empty segment' })
    assert.deepEqual(parseClaimPath(Array(17).fill('a')), { error: 'must have at most 16 segments' })
  })

  it('follow only own members of objects: no array indexes, no inherited properties', () => {
    const claims = JSON.parse('{"a":{"b":[1,2],"c":{"d":null}},"__proto__":{"x":1}}')
    assert.deepEqual(claimAt(claims, ['a', 'b']), [1, 2])
    assert.equal(claimAt(claims, ['a', 'c', 'd']), null)
    assert.equal(claimAt(claims, ['a', 'b', '0']), undefined)
    assert.equal(claimAt(claims, ['a', 'toString']), undefined)
    assert.equal(claimAt(claims, ['constructor']), undefined)
    assert.equal(claimAt(claims, ['a', 'missing', 'deeper']), undefined)
    assert.deepEqual(claimAt(claims, ['__proto__']), { x: 1 }, 'a member named __proto__ is data')
  })
})

describe('attributes from a claim mapping', () => {
  const claims = {
    sub: 'u',
    realm_access: { roles: ['customer', 'beta'] },
    resource_access: { 'shop-web': { roles: ['buyer'] } },
    'https://shop.example/country': 'GB',
    'https://shop.example/flags': { vip: true, tier: 2 },
    nothing: null,
    huge: 'x'.repeat(MAX_ATTRIBUTE_BYTES),
    fits: 'x'.repeat(MAX_ATTRIBUTE_BYTES - 2),
  }

  it('maps nested and dotted claims to deep-frozen copies, leaving out missing ones', () => {
    const { logger } = capturingLogger()
    const mapping = new ClaimMapping(
      {
        roles: 'realm_access.roles',
        client_roles: 'resource_access["shop-web"].roles',
        country: '["https://shop.example/country"]',
        flags: ['https://shop.example/flags'],
        absent: 'realm_access.groups',
        fits: 'fits',
      },
      'https://id.example',
      logger,
    )
    const attributes = mapping.attributes(claims)
    assert.deepEqual(attributes, {
      roles: ['customer', 'beta'],
      client_roles: ['buyer'],
      country: 'GB',
      flags: { vip: true, tier: 2 },
      fits: claims.fits,
    })
    assert.ok(Object.isFrozen(attributes))
    assert.ok(Object.isFrozen(attributes.roles) && Object.isFrozen(attributes.flags))
    assert.notEqual(attributes.roles, claims.realm_access.roles, 'a copy, not the claim itself')
    assert.throws(() => {
      ;(attributes.roles as string[]).push('admin')
    }, TypeError)
  })

  it('leaves out null and values over 4 KiB, saying so at debug', () => {
    const { logger, lines } = capturingLogger()
    const mapping = new ClaimMapping(
      { nothing: 'nothing', huge: 'huge', user: 'sub' },
      'https://id.example',
      logger,
    )
    assert.deepEqual(mapping.attributes(claims), { user: 'u' })
    assert.deepEqual(
      lines.map((l) => [l.level, l.msg, l.attribute, l.reason, l.issuer]),
      [
        [20, 'openid-connect left a mapped claim out', 'nothing', 'null', 'https://id.example'],
        [20, 'openid-connect left a mapped claim out', 'huge', 'too_large', 'https://id.example'],
      ],
    )
  })

  it('is the same empty frozen object without a mapping', () => {
    const attributes = new ClaimMapping({}, 'https://id.example', capturingLogger().logger).attributes(claims)
    assert.deepEqual(attributes, {})
    assert.ok(Object.isFrozen(attributes))
  })
})
