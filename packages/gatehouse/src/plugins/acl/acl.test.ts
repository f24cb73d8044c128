/**
 * acl end to end behind key-auth: Kong's answers (spec/03-plugins/18-acl/02-access_spec.lua) through the
 * real process, and the X-Consumer-Groups header the upstream receives.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { FILE, problems } from '../../../test/harness/config.ts'
import { assertFetchedError } from '../../../test/harness/error-body.ts'
import { type GatehouseProcess, startGatehouse } from '../../../test/harness/gatehouse.ts'
import { type EchoBody, startUpstream, type Upstream } from '../../../test/harness/upstream.ts'

/** Kong's body for a consumer outside the lists; the gateway's members follow it. */
const FORBIDDEN = { message: 'You cannot consume this service' }

function route(name: string, acl: object, keyAuth: object | null = {}) {
  const plugins: object[] = [{ name: 'acl', config: acl }]
  if (keyAuth !== null) plugins.unshift({ name: 'key-auth', config: keyAuth })
  return { name, paths: [`/${name}`], plugins }
}

function config(upstreamUrl: string): object {
  return {
    _format_version: '3.0',
    services: [
      {
        name: 'svc',
        url: upstreamUrl,
        routes: [
          route('allow-admins', { allow: ['admins'] }),
          route('deny-staff', { deny: ['staff'] }),
          route('allow-staff-hidden', { allow: ['staff'], hide_groups_header: true }),
          route('acl-only', { allow: ['admins'] }, null),
          route('anon-public', { allow: ['public'] }, { anonymous: 'guest' }),
          route('anon-admins', { allow: ['admins'] }, { anonymous: 'guest' }),
        ],
      },
    ],
    consumers: [
      {
        username: 'alice',
        keyauth_credentials: [{ key: 'alice-key' }],
        acls: [{ group: 'admins' }, { group: 'staff' }],
      },
      { username: 'bob', keyauth_credentials: [{ key: 'bob-key' }], acls: [{ group: 'staff' }] },
      { username: 'carol', keyauth_credentials: [{ key: 'carol-key' }] },
      { username: 'dave', keyauth_credentials: [{ key: 'dave-key' }] },
      { username: 'guest', acls: [{ group: 'public' }] },
    ],
    acls: [{ consumer: 'dave', group: 'contractors' }],
  }
}

describe('the acl plugin behind key-auth', () => {
  let upstream: Upstream
  let gh: GatehouseProcess
  before(async () => {
    upstream = await startUpstream()
    gh = await startGatehouse({ config: config(upstream.url) })
  })
  after(async () => {
    await gh?.stop()
    await upstream?.close()
  })

  const get = (path: string, headers: Record<string, string> = {}) => gh.proxy(path, { headers })

  async function seen(res: Response): Promise<EchoBody> {
    assert.equal(res.status, 200)
    return (await res.json()) as EchoBody
  }

  async function assertForbidden(res: Response): Promise<void> {
    assert.equal(res.status, 403)
    await assertFetchedError(res, { kong: FORBIDDEN, code: 'GH_ERR_AUTH_ACCESS_DENIED' })
  }

  describe('an allow list', () => {
    it('lets a member through and sends all its groups upstream in X-Consumer-Groups', async () => {
      const echo = await seen(await get('/allow-admins', { apikey: 'alice-key' }))
      assert.equal(echo.headers['x-consumer-groups'], 'admins, staff')
      assert.equal(echo.headers['x-consumer-username'], 'alice')
    })

    it('answers 403 "You cannot consume this service" to a consumer outside it, and to one without groups', async () => {
      const before = upstream.requests.length
      await assertForbidden(await get('/allow-admins', { apikey: 'bob-key' }))
      await assertForbidden(await get('/allow-admins', { apikey: 'carol-key' }))
      assert.equal(upstream.requests.length, before, 'nothing reached the upstream')
    })
  })

  describe('a deny list', () => {
    it('refuses a member, even one that is also in other groups', async () => {
      await assertForbidden(await get('/deny-staff', { apikey: 'bob-key' }))
      await assertForbidden(await get('/deny-staff', { apikey: 'alice-key' }))
    })

    it('lets everyone else through: a consumer in other groups (declared top-level) and one without groups', async () => {
      const dave = await seen(await get('/deny-staff', { apikey: 'dave-key' }))
      assert.equal(dave.headers['x-consumer-groups'], 'contractors')
      const carol = await seen(await get('/deny-staff', { apikey: 'carol-key' }))
      assert.equal(carol.headers['x-consumer-groups'], undefined, 'no groups, no header')
    })
  })

  describe('X-Consumer-Groups', () => {
    it('replaces or removes a value the client sends', async () => {
      const alice = await seen(
        await get('/allow-admins', { apikey: 'alice-key', 'x-consumer-groups': 'root' }),
      )
      assert.equal(alice.headers['x-consumer-groups'], 'admins, staff')
      const carol = await seen(await get('/deny-staff', { apikey: 'carol-key', 'x-consumer-groups': 'root' }))
      assert.equal(carol.headers['x-consumer-groups'], undefined)
    })

    it('is not sent with hide_groups_header, whatever the client sends', async () => {
      const echo = await seen(
        await get('/allow-staff-hidden', { apikey: 'bob-key', 'x-consumer-groups': 'staff' }),
      )
      assert.equal(echo.headers['x-consumer-groups'], undefined)
      assert.equal(echo.headers['x-consumer-username'], 'bob')
    })
  })

  it('answers 401 "Unauthorized" when no plugin authenticated a consumer', async () => {
    const res = await get('/acl-only', { apikey: 'alice-key' })
    assert.equal(res.status, 401)
    await assertFetchedError(res, {
      kong: { message: 'Unauthorized' },
      code: 'GH_ERR_AUTH_CREDENTIALS_MISSING',
    })
  })

  describe('the anonymous consumer', () => {
    it('is checked against its own groups: allowed when in the list, with its groups upstream', async () => {
      const echo = await seen(await get('/anon-public'))
      assert.equal(echo.headers['x-consumer-username'], 'guest')
      assert.equal(echo.headers['x-anonymous-consumer'], 'true')
      assert.equal(echo.headers['x-consumer-groups'], 'public')
    })

    it('is refused when not in the list, while an authenticated member passes', async () => {
      await assertForbidden(await get('/anon-admins'))
      await assertForbidden(await get('/anon-admins', { apikey: 'wrong-key' }))
      await seen(await get('/anon-admins', { apikey: 'alice-key' }))
    })
  })
})

describe('acl config', () => {
  const plugin = (config: string) => `_format_version: "3.0"\nplugins:\n- name: acl\n  config: ${config}\n`

  it('requires exactly one of allow or deny, with at least one group', () => {
    const message = 'set exactly one of allow or deny, with at least one group'
    assert.deepEqual(problems(plugin('{ allow: [a], deny: [b] }')), [
      `${FILE}: plugins[0].config: ${message}`,
    ])
    assert.deepEqual(problems(plugin('{}')), [`${FILE}: plugins[0].config: ${message}`])
    assert.deepEqual(problems(plugin('{ allow: [], deny: null }')), [
      `${FILE}: plugins[0].config: ${message}`,
    ])
  })

  it('rejects a group that could not be sent in the comma-separated X-Consumer-Groups header', () => {
    assert.deepEqual(problems(plugin('{ allow: ["a,b"] }')), [
      `${FILE}: plugins[0].config.allow[0]: must not contain commas or line breaks (groups are sent comma-separated)`,
    ])
  })

  it('rejects the same group twice for one consumer', () => {
    const text = `_format_version: "3.0"
consumers:
- username: ann
  acls: [{ group: staff }, { group: staff }]
`
    assert.deepEqual(problems(text), [
      `${FILE}: consumers[0].acls[1].group: must be unique for this consumer; the same value is at consumers[0].acls[0]`,
    ])
  })
})
