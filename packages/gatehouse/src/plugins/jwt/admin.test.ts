/**
 * The admin API's view of jwt_secrets, in Kong's shapes (gateways.md b.7): `/jwts`, `/jwts/{id|key}`,
 * `/jwts/{id|key}/consumer` and `/consumers/{username|id}/jwt[/{id|key}]`, secrets shown as Kong shows
 * them, and every write refused with 405 on this DB-less node.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { type GatehouseProcess, startGatehouse } from '../../../test/harness/gatehouse.ts'
import { P256, randomSecret } from './test-fixtures.ts'

const SECRET = randomSecret()
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

interface Credential {
  id: string
  consumer: { id: string }
  key: string
  secret: string | null
  algorithm: string
  rsa_public_key: string | null
  tags: string[] | null
  created_at: number
}

describe('jwt_secrets in the admin API', () => {
  let gh: GatehouseProcess
  let alice: { id: string; username: string }

  before(async () => {
    gh = await startGatehouse({
      config: {
        _format_version: '3.0',
        consumers: [
          {
            username: 'alice',
            custom_id: 'alice-1',
            jwt_secrets: [
              { key: 'alice-hs', secret: SECRET, tags: ['web'] },
              { key: 'alice-es', algorithm: 'ES256', rsa_public_key: P256.publicPem },
            ],
          },
          { username: 'bob' },
        ],
        jwt_secrets: [{ consumer: 'bob', key: 'https://issuer.example/bob', secret: randomSecret() }],
      },
    })
    alice = (await (await gh.admin('/consumers/alice')).json()) as { id: string; username: string }
  })
  after(async () => {
    await gh?.stop()
  })

  const get = async <T>(path: string, status = 200): Promise<T> => {
    const res = await gh.admin(path)
    assert.equal(res.status, status, path)
    return (await res.json()) as T
  }

  it("lists every credential at /jwts in Kong's shape, the HS secret included", async () => {
    const page = await get<{ data: Credential[]; next: null }>('/jwts')
    assert.equal(page.next, null)
    assert.deepEqual(
      page.data.map((c) => c.key),
      ['alice-hs', 'alice-es', 'https://issuer.example/bob'],
    )
    const hs = page.data[0]!
    assert.match(hs.id, UUID)
    assert.deepEqual(Object.keys(hs).sort(), [
      'algorithm',
      'consumer',
      'created_at',
      'id',
      'key',
      'rsa_public_key',
      'secret',
      'tags',
    ])
    assert.deepEqual(
      { ...hs, id: undefined, created_at: undefined },
      {
        id: undefined,
        created_at: undefined,
        consumer: { id: alice.id },
        key: 'alice-hs',
        secret: SECRET,
        algorithm: 'HS256',
        rsa_public_key: null,
        tags: ['web'],
      },
    )
    assert.equal(typeof hs.created_at, 'number')
    const es = page.data[1]!
    assert.equal(es.algorithm, 'ES256')
    assert.equal(es.rsa_public_key, P256.publicPem)
    assert.equal(es.secret, null)
  })

  it('finds one credential by key or by id', async () => {
    const byKey = await get<Credential>('/jwts/alice-hs')
    assert.equal(byKey.secret, SECRET)
    assert.deepEqual(await get<Credential>(`/jwts/${byKey.id}`), byKey)
    const percentEncoded = await get<Credential>(`/jwts/${encodeURIComponent('https://issuer.example/bob')}`)
    assert.equal(percentEncoded.key, 'https://issuer.example/bob')
  })

  it('gives the consumer that owns a credential at /jwts/{key}/consumer', async () => {
    const consumer = await get<{ id: string; username: string; custom_id: string }>('/jwts/alice-es/consumer')
    assert.equal(consumer.id, alice.id)
    assert.equal(consumer.username, 'alice')
    assert.equal(consumer.custom_id, 'alice-1')
  })

  it("lists a consumer's credentials at /consumers/{username|id}/jwt and finds one there by key", async () => {
    const byName = await get<{ data: Credential[]; next: null }>('/consumers/alice/jwt')
    assert.deepEqual(
      byName.data.map((c) => c.key),
      ['alice-hs', 'alice-es'],
    )
    assert.deepEqual(await get(`/consumers/${alice.id}/jwt`), byName)
    assert.equal((await get<Credential>('/consumers/alice/jwt/alice-es')).algorithm, 'ES256')
    assert.deepEqual((await get<{ data: Credential[] }>('/consumers/bob/jwt')).data.length, 1)
  })

  it('answers 404 for an unknown key, consumer, or a credential of another consumer', async () => {
    for (const path of [
      '/jwts/nope',
      '/jwts/nope/consumer',
      '/consumers/nobody/jwt',
      '/consumers/bob/jwt/alice-hs',
    ]) {
      const res = await gh.admin(path)
      assert.equal(res.status, 404, path)
    }
  })

  it('refuses every write with 405, as a DB-less Kong node does', async () => {
    const writes: [string, string, string][] = [
      ['POST', '/jwts', 'create'],
      ['PUT', '/jwts/alice-hs', 'create or update'],
      ['PATCH', '/jwts/alice-hs', 'update'],
      ['DELETE', '/jwts/alice-hs', 'remove'],
      ['POST', '/consumers/alice/jwt', 'create'],
      ['DELETE', '/consumers/alice/jwt/alice-hs', 'remove'],
    ]
    for (const [method, path, verb] of writes) {
      const res = await gh.admin(path, {
        method,
        headers: { 'content-type': 'application/json' },
        ...(method === 'DELETE' ? {} : { body: JSON.stringify({ key: 'x', secret: SECRET }) }),
      })
      assert.equal(res.status, 405, `${method} ${path}`)
      const body = (await res.json()) as { message: string }
      assert.equal(body.message, `cannot ${verb} 'jwt_secrets' entities when not using a database`)
    }
    assert.equal((await get<{ data: Credential[] }>('/jwts')).data.length, 3)
  })
})
