/**
 * The credential endpoints of the admin API, against a real gateway: `/key-auths`, `/basic-auths` and
 * `/acls` with their nested forms under a consumer, as Kong names them; lookups by id and endpoint key,
 * the owning consumer, pagination, 404s, 405 for every write, and never a password or its hash.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { type GatehouseProcess, startGatehouse } from '../harness/gatehouse.ts'

interface Page {
  data: Record<string, unknown>[]
  next: string | null
  offset?: string
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
const PLAIN_PASSWORD = 'bob-plain-password'
/** The reference implementation's argon2id hash of "password". */
const HASHED = '$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc'
const EXTRA = Array.from({ length: 5 }, (_, i) => `extra-${i}`)

const config = {
  _format_version: '3.0',
  consumers: [
    {
      username: 'alice',
      keyauth_credentials: [{ key: 'alice-key', ttl: 3600, tags: ['ops'] }, { key: 'alice-second-key' }],
    },
    {
      username: 'bob',
      basicauth_credentials: [{ username: 'bob', password: PLAIN_PASSWORD }],
      acls: [{ group: 'staff' }, { group: 'admins' }],
    },
    { username: 'carol', basicauth_credentials: [{ username: 'carol', password: HASHED }] },
    ...EXTRA.map((username) => ({ username, keyauth_credentials: [{ key: `${username}-key` }] })),
  ],
  acls: [{ consumer: 'carol', group: 'staff' }],
}

describe('the admin credential endpoints in DB-less mode', () => {
  let gh: GatehouseProcess
  /** Every admin response body read by this suite, to check no password or hash ever left. */
  const bodies: string[] = []
  const get = async <T = Page>(path: string): Promise<{ status: number; body: T }> => {
    const res = await gh.admin(path)
    const text = await res.text()
    bodies.push(text)
    return { status: res.status, body: (text ? JSON.parse(text) : null) as T }
  }
  const ok = async <T = Page>(path: string): Promise<T> => {
    const { status, body } = await get<T>(path)
    assert.equal(status, 200, `${path}: ${JSON.stringify(body)}`)
    return body
  }
  const assertNotFound = async (path: string) => {
    const { status, body } = await get<unknown>(path)
    assert.equal(status, 404, path)
    assert.deepEqual(body, {
      message: 'Not found',
      code: 'GH_ERR_ADMIN_NOT_FOUND',
      error: 'Not Found',
      statusCode: 404,
    })
  }
  let consumers: Record<string, { id: string }>

  before(async () => {
    gh = await startGatehouse({ config })
    const { data } = await ok('/consumers')
    consumers = Object.fromEntries(data.map((c) => [c.username as string, c as { id: string }]))
  })
  after(async () => {
    await gh.stop()
  })

  describe('/key-auths', () => {
    it("lists every key in Kong's shape, with the ttl as seconds left", async () => {
      const { data, next } = await ok('/key-auths')
      assert.equal(next, null)
      assert.equal(data.length, 2 + EXTRA.length)
      const alice = data.find((k) => k.key === 'alice-key')!
      const { id, created_at, ttl, ...rest } = alice
      assert.match(String(id), UUID)
      assert.equal(typeof created_at, 'number')
      assert.ok((ttl as number) > 3500 && (ttl as number) <= 3600, `ttl ${String(ttl)}`)
      assert.deepEqual(rest, { consumer: { id: consumers.alice!.id }, key: 'alice-key', tags: ['ops'] })
      assert.equal(data.find((k) => k.key === 'alice-second-key')!.ttl, null)
    })

    it('finds a key by its key or its id, and its consumer', async () => {
      const byKey = await ok<Record<string, unknown>>('/key-auths/alice-key')
      assert.equal(byKey.key, 'alice-key')
      assert.deepEqual(await ok(`/key-auths/${byKey.id as string}`), byKey)
      const consumer = await ok<Record<string, unknown>>('/key-auths/alice-key/consumer')
      assert.equal(consumer.username, 'alice')
      assert.equal(
        (await ok<Record<string, unknown>>(`/key-auths/${byKey.id as string}/consumer`)).id,
        consumer.id,
      )
    })

    it("lists a consumer's keys under /consumers/{username or id}/key-auth", async () => {
      const byName = await ok('/consumers/alice/key-auth')
      assert.deepEqual(
        byName.data.map((k) => k.key),
        ['alice-key', 'alice-second-key'],
      )
      assert.deepEqual(await ok(`/consumers/${consumers.alice!.id}/key-auth`), byName)
      assert.equal(
        (await ok<Record<string, unknown>>('/consumers/alice/key-auth/alice-second-key')).key,
        'alice-second-key',
      )
      assert.deepEqual((await ok('/consumers/bob/key-auth')).data, [])
    })

    it('answers 404 for an unknown key, a key of another consumer and an unknown consumer', async () => {
      await assertNotFound('/key-auths/no-such-key')
      await assertNotFound('/key-auths/no-such-key/consumer')
      await assertNotFound('/key-auths/00000000-0000-4000-8000-000000000000')
      await assertNotFound('/consumers/bob/key-auth/alice-key')
      await assertNotFound('/consumers/nobody/key-auth')
    })

    it('pages with size and offset; following next yields every key exactly once', async () => {
      const all = (await ok('/key-auths')).data.map((k) => k.id)
      const seen: unknown[] = []
      let path: string | null = '/key-auths?size=3'
      while (path !== null) {
        const page: Page = await ok(path)
        assert.ok(page.data.length <= 3)
        if (page.next !== null) {
          assert.equal(page.data.length, 3)
          assert.match(page.next, /^\/key-auths\?size=3&offset=/)
          assert.equal(typeof page.offset, 'string')
        }
        seen.push(...page.data.map((k) => k.id))
        path = page.next
      }
      assert.deepEqual(seen, all)
      const nested = await ok('/consumers/alice/key-auth?size=1')
      assert.equal(nested.data.length, 1)
      assert.match(nested.next ?? '', /^\/consumers\/alice\/key-auth\?size=1&offset=/)
      const { status } = await get('/key-auths?size=0')
      assert.equal(status, 400)
    })
  })

  describe('/basic-auths', () => {
    it('lists credentials without the password or its hash', async () => {
      const { data } = await ok('/basic-auths')
      assert.deepEqual(
        data.map((c) => c.username),
        ['bob', 'carol'],
      )
      for (const c of data)
        assert.deepEqual(Object.keys(c).sort(), ['consumer', 'created_at', 'id', 'tags', 'username'])
      assert.deepEqual(data[0]!.consumer, { id: consumers.bob!.id })
    })

    it('finds a credential by username or id, its consumer, and lists it under the consumer', async () => {
      const bob = await ok<Record<string, unknown>>('/basic-auths/bob')
      assert.equal(bob.username, 'bob')
      assert.equal(bob.password, undefined)
      assert.deepEqual(await ok(`/basic-auths/${bob.id as string}`), bob)
      assert.equal((await ok<Record<string, unknown>>('/basic-auths/bob/consumer')).username, 'bob')
      assert.deepEqual((await ok('/consumers/bob/basic-auth')).data, [bob])
      assert.deepEqual(await ok('/consumers/bob/basic-auth/bob'), bob)
      assert.equal((await ok('/consumers/carol/basic-auth')).data.length, 1)
      await assertNotFound('/basic-auths/nobody')
      await assertNotFound('/consumers/alice/basic-auth/bob')
    })
  })

  describe('/acls', () => {
    it("lists groups, top-level and nested, and a consumer's under /consumers/{c}/acls", async () => {
      const { data } = await ok('/acls')
      assert.deepEqual(
        data.map((a) => [a.group, a.consumer]),
        [
          ['staff', { id: consumers.bob!.id }],
          ['admins', { id: consumers.bob!.id }],
          ['staff', { id: consumers.carol!.id }],
        ],
      )
      assert.deepEqual(
        (await ok('/consumers/bob/acls')).data.map((a) => a.group),
        ['staff', 'admins'],
      )
      const first = data[0]!
      assert.deepEqual(await ok(`/acls/${first.id as string}`), first)
      assert.equal(
        (await ok<Record<string, unknown>>(`/acls/${first.id as string}/consumer`)).username,
        'bob',
      )
    })

    it('answers 404 for a group name, which is no key of its own (Kong looks acls up by id)', async () => {
      await assertNotFound('/acls/staff')
      await assertNotFound('/consumers/nobody/acls')
    })
  })

  it("answers every write with 405 and Kong's DB-less message", async () => {
    const verbs = { POST: 'create', PUT: 'create or update', PATCH: 'update', DELETE: 'remove' }
    const paths: [string, string][] = [
      ['/key-auths', 'keyauth_credentials'],
      ['/key-auths/alice-key', 'keyauth_credentials'],
      ['/consumers/alice/key-auth', 'keyauth_credentials'],
      ['/consumers/alice/key-auth/alice-key', 'keyauth_credentials'],
      ['/basic-auths', 'basicauth_credentials'],
      ['/basic-auths/bob', 'basicauth_credentials'],
      ['/consumers/bob/basic-auth', 'basicauth_credentials'],
      ['/acls', 'acls'],
      ['/consumers/bob/acls', 'acls'],
    ]
    for (const [path, entity] of paths) {
      for (const [method, verb] of Object.entries(verbs)) {
        const res = await gh.admin(path, {
          method,
          headers: { 'content-type': 'application/json' },
          ...(method === 'DELETE'
            ? {}
            : { body: JSON.stringify({ username: 'x', password: 'y', key: 'z' }) }),
        })
        assert.equal(res.status, 405, `${method} ${path}`)
        assert.deepEqual(await res.json(), {
          message: `cannot ${verb} '${entity}' entities when not using a database`,
          code: 'GH_ERR_ADMIN_METHOD_NOT_ALLOWED',
          error: 'Method Not Allowed',
          statusCode: 405,
        })
        assert.equal(res.headers.get('allow'), 'GET, HEAD, OPTIONS')
      }
    }
    assert.equal((await ok('/key-auths')).data.length, 2 + EXTRA.length, 'nothing changed')
  })

  it('never showed a password or a password hash in any response', () => {
    assert.ok(bodies.length > 20, 'the suite read the endpoints')
    const all = bodies.join('\n')
    assert.ok(!all.includes(PLAIN_PASSWORD), 'no plain password')
    assert.ok(!all.includes('$argon2id$'), 'no argon2id hash')
    assert.ok(!all.includes('c29tZXNhbHQ'), 'not even part of a hash written in the file')
  })
})
