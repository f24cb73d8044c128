/**
 * The storage contract: what every Store implementation must do, one `it` per behaviour. sqlite.test.ts
 * runs it on a file and in memory, postgres.test.ts on a real PostgreSQL server. `open` returns a store
 * on a fresh, empty database, not yet migrated; each test migrates it first.
 *
 * Longer than 400 lines on purpose: it is one suite that every backend must pass whole, and keeping it in
 * one file keeps an implementation from running only part of it. Each sub-store has its own `describe`.
 */
import assert from 'node:assert/strict'
import { afterEach, beforeEach, describe, it } from 'node:test'
import { MIGRATIONS } from './migrations/index.ts'
import {
  type AuditRecord,
  type Store,
  StoreConflictError,
  type StoredAuditEvent,
  type StoredClient,
  type StoredEntity,
  type StoredFactor,
  type StoredLink,
  type StoredSigningKey,
  type StoredUser,
  StoreError,
  StoreNotFoundError,
} from './store.ts'

const T0 = 1_700_000_000

function user(overrides: Partial<StoredUser> = {}): StoredUser {
  return {
    id: 'u-alice',
    username: 'Alice',
    email: 'Alice@Example.com',
    password_hash:
      '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g',
    roles: ['admin', 'staff'],
    claims: { country: 'GB', premium: true, level: 3 },
    disabled: false,
    source: 'cli',
    created_at: T0,
    updated_at: T0,
    ...overrides,
  }
}

function client(overrides: Partial<StoredClient> = {}): StoredClient {
  return {
    client_id: 'shop-web',
    secret_hash: null,
    client_name: 'The shop',
    redirect_uris: ['https://shop.example/callback'],
    post_logout_redirect_uris: ['https://shop.example/'],
    grant_types: ['authorization_code', 'refresh_token'],
    scopes: ['openid', 'profile'],
    resources: ['https://api.shop.example'],
    first_party: true,
    mfa: 'required',
    source: 'cli',
    created_at: T0,
    updated_at: T0,
    ...overrides,
  }
}

function signingKey(overrides: Partial<StoredSigningKey> = {}): StoredSigningKey {
  return {
    kid: 'k1',
    alg: 'ES256',
    state: 'active',
    encrypted_jwk: 'v1.aes-256-gcm.ciphertext',
    created_at: T0,
    activate_at: T0,
    retired_at: null,
    delete_after: null,
    ...overrides,
  }
}

function factor(overrides: Partial<StoredFactor> = {}): StoredFactor {
  return {
    id: 'f1',
    user_id: 'u-alice',
    kind: 'totp',
    name: 'Phone',
    secret: 'v1.iv.sealed.tag',
    last_step: null,
    created_at: T0,
    last_used_at: null,
    ...overrides,
  }
}

/** A config seed from a stored user: what syncConfigUsers takes. */
function seed(u: StoredUser) {
  const { id: _id, source: _s, created_at: _c, updated_at: _u, ...rest } = u
  return rest
}

function clientSeed(c: StoredClient) {
  const { source: _s, created_at: _c, updated_at: _u, ...rest } = c
  return rest
}

function link(overrides: Partial<StoredLink> = {}): StoredLink {
  return {
    broker: 'google',
    subject: '1034567890',
    user_id: 'u-alice',
    email: 'alice@gmail.example',
    username: null,
    created_at: T0,
    last_used_at: null,
    ...overrides,
  }
}

async function conflictField(promise: Promise<unknown>): Promise<string> {
  try {
    await promise
  } catch (err) {
    assert.ok(err instanceof StoreConflictError, `expected a StoreConflictError, got ${String(err)}`)
    return err.field
  }
  assert.fail('expected a StoreConflictError')
}

export function runStoreContract(name: string, open: () => Promise<Store>): void {
  describe(`${name}: the store contract`, () => {
    let store: Store
    beforeEach(async () => {
      store = await open()
      await store.migrate()
    })
    afterEach(async () => {
      await store.close()
    })

    describe('users', () => {
      it('gets an inserted user back by id, and by username and e-mail in any case', async () => {
        const alice = user()
        await store.users.insert(alice)
        assert.deepEqual(await store.users.get('u-alice'), alice)
        assert.deepEqual(await store.users.findByUsername('aLICE'), alice)
        assert.deepEqual(await store.users.findByEmail('alice@example.COM'), alice)
        assert.equal(await store.users.get('nobody'), undefined)
        assert.equal(await store.users.findByUsername('bob'), undefined)
        assert.equal(await store.users.findByEmail('bob@example.com'), undefined)
      })

      it('lists users by creation time, then id', async () => {
        await store.users.insert(user({ id: 'b', username: 'b', email: null, created_at: T0 + 1 }))
        await store.users.insert(user({ id: 'c', username: 'c', email: null, created_at: T0 }))
        await store.users.insert(user({ id: 'a', username: 'a', email: null, created_at: T0 + 1 }))
        assert.deepEqual(
          (await store.users.list()).map((u) => u.id),
          ['c', 'a', 'b'],
        )
      })

      it('refuses a username taken in another case, naming the username field', async () => {
        await store.users.insert(user())
        const field = await conflictField(
          store.users.insert(user({ id: 'u2', username: 'ALICE', email: null })),
        )
        assert.equal(field, 'username')
        assert.equal((await store.users.list()).length, 1)
      })

      it('refuses an e-mail address taken in another case, naming the email field; users without one never collide', async () => {
        await store.users.insert(user())
        const field = await conflictField(
          store.users.insert(user({ id: 'u2', username: 'bob', email: 'ALICE@example.com' })),
        )
        assert.equal(field, 'email')
        await store.users.insert(user({ id: 'u3', username: 'carol', email: null }))
        await store.users.insert(user({ id: 'u4', username: 'dave', email: null }))
        assert.equal((await store.users.list()).length, 3)
      })

      it('replaces a password hash only while it is the expected one: of two at once, exactly one wins', async () => {
        const alice = user()
        await store.users.insert(alice)
        const attempts = await Promise.all(
          ['$new-one', '$new-two'].map((next) =>
            store.users.replacePasswordHash(alice.id, alice.password_hash, next, T0 + 5),
          ),
        )
        assert.deepEqual(
          attempts.filter((won) => won),
          [true],
        )
        const stored = await store.users.get(alice.id)
        assert.equal(stored?.password_hash, attempts[0] ? '$new-one' : '$new-two')
        assert.equal(stored?.updated_at, T0 + 5)
        assert.equal(
          await store.users.replacePasswordHash(alice.id, alice.password_hash, '$late', T0 + 6),
          false,
        )
        assert.equal(
          await store.users.replacePasswordHash('nobody', alice.password_hash, '$x', T0 + 6),
          false,
        )
      })

      it('updates the fields given and leaves the others alone', async () => {
        await store.users.insert(user())
        await store.users.update('u-alice', {
          email: null,
          roles: ['staff'],
          claims: { country: 'FR' },
          disabled: true,
          updated_at: T0 + 5,
        })
        assert.deepEqual(
          await store.users.get('u-alice'),
          user({
            email: null,
            roles: ['staff'],
            claims: { country: 'FR' },
            disabled: true,
            updated_at: T0 + 5,
          }),
        )
        await store.users.update('u-alice', { username: 'alice2', email: 'new@example.com' })
        assert.equal((await store.users.findByUsername('ALICE2'))?.id, 'u-alice')
        assert.equal((await store.users.findByEmail('NEW@example.com'))?.id, 'u-alice')
        assert.equal(await store.users.findByUsername('alice'), undefined)
      })

      it('refuses an update to a taken username or e-mail, and an unknown id', async () => {
        await store.users.insert(user())
        await store.users.insert(user({ id: 'u-bob', username: 'bob', email: 'bob@example.com' }))
        assert.equal(await conflictField(store.users.update('u-bob', { username: 'alice' })), 'username')
        assert.equal(
          await conflictField(store.users.update('u-bob', { email: 'ALICE@example.com' })),
          'email',
        )
        await assert.rejects(store.users.update('ghost', { disabled: true }), StoreNotFoundError)
        await assert.rejects(store.users.update('ghost', {}), StoreNotFoundError)
        assert.equal((await store.users.get('u-bob'))?.username, 'bob')
      })

      it('removes a user, saying whether there was one', async () => {
        await store.users.insert(user())
        assert.equal(await store.users.remove('u-alice'), true)
        assert.equal(await store.users.remove('u-alice'), false)
        assert.equal(await store.users.get('u-alice'), undefined)
        await store.users.insert(user({ id: 'again' }))
      })
    })

    describe('clients', () => {
      it('gets and lists inserted clients with their metadata', async () => {
        const web = client()
        const api = client({
          client_id: 'partner',
          secret_hash: 'hmac-sha256$AAAA',
          client_name: null,
          redirect_uris: [],
          post_logout_redirect_uris: [],
          grant_types: ['client_credentials'],
          scopes: [],
          resources: [],
          first_party: false,
          created_at: T0 - 1,
        })
        await store.clients.insert(web)
        await store.clients.insert(api)
        assert.deepEqual(await store.clients.get('shop-web'), web)
        assert.deepEqual(await store.clients.list(), [api, web])
        assert.equal(await store.clients.get('SHOP-WEB'), undefined, 'client ids are case-sensitive')
      })

      it('refuses a client_id that is taken, naming the client_id field', async () => {
        await store.clients.insert(client())
        assert.equal(await conflictField(store.clients.insert(client({ client_name: 'other' }))), 'client_id')
      })

      it('removes a client, saying whether there was one', async () => {
        await store.clients.insert(client())
        assert.equal(await store.clients.remove('shop-web'), true)
        assert.equal(await store.clients.remove('shop-web'), false)
        assert.deepEqual(await store.clients.list(), [])
      })
    })

    describe('config users and clients', () => {
      it('gives a config user the id its seed fixes, and refuses to change it later', async () => {
        const alice = user({ source: 'config' })
        await store.users.syncConfigUsers([{ ...seed(alice), id: 'u-alice' }], T0)
        assert.equal((await store.users.findByUsername('alice'))!.id, 'u-alice')
        await store.users.syncConfigUsers([{ ...seed(alice), id: 'u-alice', roles: ['x'] }], T0 + 1)
        await assert.rejects(
          store.users.syncConfigUsers([{ ...seed(alice), id: 'u-other' }], T0 + 2),
          (err: unknown) => err instanceof StoreConflictError && /an id cannot change/.test(err.message),
        )
        assert.deepEqual((await store.users.findByUsername('alice'))!.roles, ['x'])
      })

      it('inserts config users with new ids, then updates them in place, keeping id and created_at', async () => {
        const alice = user({ source: 'config' })
        assert.deepEqual((await store.users.syncConfigUsers([seed(alice)], T0 + 10)).takenOver, [])
        const first = (await store.users.findByUsername('alice'))!
        assert.equal(first.source, 'config')
        assert.equal(first.created_at, T0 + 10)
        assert.ok(first.id.length > 0)

        await store.users.syncConfigUsers([{ ...seed(alice), roles: ['staff'], disabled: true }], T0 + 20)
        const second = (await store.users.findByUsername('alice'))!
        assert.deepEqual(second, { ...first, roles: ['staff'], disabled: true, updated_at: T0 + 20 })

        await store.users.syncConfigUsers([{ ...seed(alice), roles: ['staff'], disabled: true }], T0 + 30)
        assert.equal(
          (await store.users.findByUsername('alice'))!.updated_at,
          T0 + 20,
          'unchanged: not touched',
        )
      })

      it('deletes config users no longer listed and keeps CLI users', async () => {
        await store.users.insert(user({ id: 'u-cli', username: 'carol', email: null, source: 'cli' }))
        await store.users.syncConfigUsers(
          [seed(user()), seed(user({ username: 'bob', email: 'bob@example.com' }))],
          T0,
        )
        await store.users.syncConfigUsers([seed(user({ username: 'bob', email: 'bob@example.com' }))], T0 + 1)
        assert.deepEqual((await store.users.list()).map((u) => [u.username, u.source]).sort(), [
          ['bob', 'config'],
          ['carol', 'cli'],
        ])
        await store.users.syncConfigUsers([], T0 + 2)
        assert.deepEqual(
          (await store.users.list()).map((u) => u.username),
          ['carol'],
        )
      })

      it('takes over a CLI user of the same name in any case, keeping its id, and reports it', async () => {
        await store.users.insert(user({ id: 'u-cli', username: 'alice', source: 'cli' }))
        const { takenOver } = await store.users.syncConfigUsers(
          [seed(user({ username: 'ALICE', roles: [] }))],
          T0 + 5,
        )
        assert.deepEqual(takenOver, ['ALICE'])
        const alice = (await store.users.get('u-cli'))!
        assert.equal(alice.source, 'config')
        assert.equal(alice.username, 'ALICE')
        assert.deepEqual(alice.roles, [])
        assert.deepEqual((await store.users.syncConfigUsers([seed(alice)], T0 + 6)).takenOver, [])
      })

      it("makes a config user's own mfa policy the seed's: set, changed, cleared when absent; others kept", async () => {
        await store.users.insert(user({ id: 'u-cli', username: 'carol', email: null, source: 'cli' }))
        await store.factors.setPolicy('u-cli', 'required', T0)
        const alice = seed(user({ username: 'alice' }))
        const bob = seed(user({ username: 'bob', email: 'bob@example.com' }))
        const policies = async () => {
          const users = await store.users.list()
          return Object.fromEntries(
            await Promise.all(users.map(async (u) => [u.username, await store.factors.policy(u.id)])),
          )
        }

        const first = await store.users.syncConfigUsers([{ ...alice, mfa: 'required' }, bob], T0)
        assert.deepEqual(first.mfaCleared, [])
        assert.deepEqual(await policies(), { carol: 'required', alice: 'required', bob: null })
        const aliceRow = (await store.users.findByUsername('alice'))!

        await store.users.syncConfigUsers(
          [
            { ...alice, mfa: 'off' },
            { ...bob, mfa: 'optional' },
          ],
          T0 + 1,
        )
        assert.deepEqual(await policies(), { carol: 'required', alice: 'off', bob: 'optional' })
        assert.equal(
          (await store.users.findByUsername('alice'))!.updated_at,
          aliceRow.updated_at,
          'only the policy changed: the user row is not touched',
        )

        const cleared = await store.users.syncConfigUsers([alice, { ...bob, mfa: null }], T0 + 2)
        assert.deepEqual(cleared.mfaCleared, ['alice', 'bob'])
        assert.deepEqual(await policies(), { carol: 'required', alice: null, bob: null })
        assert.deepEqual((await store.users.syncConfigUsers([alice, bob], T0 + 3)).mfaCleared, [])
      })

      it('lets two config users swap e-mail addresses in one sync', async () => {
        const a = user({ username: 'a', email: 'one@example.com' })
        const b = user({ username: 'b', email: 'two@example.com' })
        await store.users.syncConfigUsers([seed(a), seed(b)], T0)
        await store.users.syncConfigUsers(
          [seed({ ...a, email: 'two@example.com' }), seed({ ...b, email: 'one@example.com' })],
          T0 + 1,
        )
        assert.equal((await store.users.findByEmail('one@example.com'))?.username, 'b')
        assert.equal((await store.users.findByEmail('two@example.com'))?.username, 'a')
      })

      it('changes nothing when a config user would take a CLI user’s e-mail, naming the email field', async () => {
        await store.users.insert(user({ id: 'u-cli', username: 'carol', email: 'carol@example.com' }))
        await store.users.syncConfigUsers([seed(user({ username: 'old', email: null }))], T0)
        const field = await conflictField(
          store.users.syncConfigUsers([seed(user({ username: 'bob', email: 'CAROL@example.com' }))], T0 + 1),
        )
        assert.equal(field, 'email')
        assert.deepEqual((await store.users.list()).map((u) => u.username).sort(), ['carol', 'old'])
      })

      it('syncs config clients: inserts, updates, deletes removed ones, keeps CLI ones', async () => {
        await store.clients.insert(client({ client_id: 'cli-app', source: 'cli' }))
        const web = client({ client_id: 'web' })
        const api = client({ client_id: 'api', secret_hash: 'hmac-sha256$AAAA' })
        assert.deepEqual(
          await store.clients.syncConfigClients([clientSeed(web), clientSeed(api)], T0 + 1),
          [],
        )
        await store.clients.syncConfigClients([clientSeed({ ...web, scopes: ['openid'] })], T0 + 2)
        assert.deepEqual(await store.clients.get('web'), {
          ...web,
          scopes: ['openid'],
          source: 'config',
          created_at: T0 + 1,
          updated_at: T0 + 2,
        })
        assert.equal(await store.clients.get('api'), undefined)
        assert.equal((await store.clients.get('cli-app'))?.source, 'cli')
      })

      it('takes over a CLI client of the same client_id and reports it', async () => {
        await store.clients.insert(client({ source: 'cli' }))
        const takenOver = await store.clients.syncConfigClients(
          [clientSeed(client({ client_name: 'From config' }))],
          T0 + 3,
        )
        assert.deepEqual(takenOver, ['shop-web'])
        const taken = await store.clients.get('shop-web')
        assert.equal(taken?.source, 'config')
        assert.equal(taken?.client_name, 'From config')
        assert.equal(taken?.created_at, T0)
      })
    })

    describe('oidc-provider artefacts', () => {
      it('finds an upserted artefact with its expiry until it expires', async () => {
        await store.oidc.upsert('AccessToken', 'at1', { jti: 'at1', accountId: 'u1' }, 60, T0)
        assert.deepEqual(await store.oidc.find('AccessToken', 'at1', T0 + 59), {
          payload: { jti: 'at1', accountId: 'u1' },
          expires_at: T0 + 60,
          consumed_at: null,
        })
        assert.equal(await store.oidc.find('AccessToken', 'at1', T0 + 60), undefined)
        assert.equal(await store.oidc.find('RefreshToken', 'at1', T0), undefined, 'models are separate')
        await store.oidc.upsert('Client', 'dyn', { client_id: 'dyn' }, undefined, T0)
        assert.deepEqual(await store.oidc.find('Client', 'dyn', T0 + 10 ** 9), {
          payload: { client_id: 'dyn' },
          expires_at: null,
          consumed_at: null,
        })
      })

      it('replaces the payload and expiry of an artefact upserted again', async () => {
        await store.oidc.upsert('Session', 's1', { uid: 'a', v: 1 }, 10, T0)
        await store.oidc.upsert('Session', 's1', { uid: 'b', v: 2 }, 100, T0 + 5)
        assert.deepEqual(await store.oidc.find('Session', 's1', T0 + 50), {
          payload: { uid: 'b', v: 2 },
          expires_at: T0 + 105,
          consumed_at: null,
        })
        assert.equal(await store.oidc.findByUid('Session', 'a', T0), undefined)
      })

      it('reports a consumed artefact as consumed, from the first consumption, even when saved again', async () => {
        await store.oidc.upsert('AuthorizationCode', 'c1', { grantId: 'g1' }, 60, T0)
        await store.oidc.consume('AuthorizationCode', 'c1', T0 + 1)
        assert.equal((await store.oidc.find('AuthorizationCode', 'c1', T0 + 2))?.consumed_at, T0 + 1)
        await store.oidc.consume('AuthorizationCode', 'c1', T0 + 3)
        await store.oidc.upsert('AuthorizationCode', 'c1', { grantId: 'g1', x: 1 }, 60, T0 + 4)
        const found = await store.oidc.find('AuthorizationCode', 'c1', T0 + 5)
        assert.equal(found?.consumed_at, T0 + 1)
        assert.deepEqual(found?.payload, { grantId: 'g1', x: 1 })
      })

      it('destroys one artefact of one model', async () => {
        await store.oidc.upsert('AccessToken', 'x', {}, 60, T0)
        await store.oidc.upsert('RefreshToken', 'x', {}, 60, T0)
        await store.oidc.destroy('AccessToken', 'x')
        assert.equal(await store.oidc.find('AccessToken', 'x', T0), undefined)
        assert.ok(await store.oidc.find('RefreshToken', 'x', T0))
      })

      it('revokes every artefact of a grant, whatever its model, and nothing else', async () => {
        for (const model of ['AccessToken', 'RefreshToken', 'AuthorizationCode', 'Grant'])
          await store.oidc.upsert(model, `${model}-1`, { grantId: 'g1' }, 600, T0)
        await store.oidc.upsert('AccessToken', 'other', { grantId: 'g2' }, 600, T0)
        await store.oidc.upsert('Session', 's', { uid: 'u' }, 600, T0)
        await store.oidc.revokeByGrantId('g1')
        for (const model of ['AccessToken', 'RefreshToken', 'AuthorizationCode', 'Grant'])
          assert.equal(await store.oidc.find(model, `${model}-1`, T0), undefined, model)
        assert.ok(await store.oidc.find('AccessToken', 'other', T0))
        assert.ok(await store.oidc.find('Session', 's', T0))
      })

      it("lists an account's artefacts of one model, oldest first and unexpired, and deletes all of them", async () => {
        await store.oidc.upsert('Session', 's2', { accountId: 'a1', uid: 'u2', iat: T0 + 5 }, 600, T0)
        await store.oidc.upsert('Session', 's1', { accountId: 'a1', uid: 'u1', iat: T0 }, 600, T0)
        await store.oidc.upsert('Session', 'gone', { accountId: 'a1', iat: T0 }, 10, T0)
        await store.oidc.upsert('Session', 'theirs', { accountId: 'a2', iat: T0 }, 600, T0)
        await store.oidc.upsert('RefreshToken', 'r1', { accountId: 'a1', grantId: 'g1' }, 600, T0)
        await store.oidc.upsert('AccessToken', 'cc', { clientId: 'c' }, 600, T0)
        const listed = await store.oidc.listByAccount('Session', 'a1', T0 + 20)
        assert.deepEqual(
          listed.map((r) => [r.id, r.payload.uid]),
          [
            ['s1', 'u1'],
            ['s2', 'u2'],
          ],
        )
        assert.equal(await store.oidc.deleteByAccount('a1'), 4)
        assert.equal(await store.oidc.find('RefreshToken', 'r1', T0), undefined)
        assert.ok(await store.oidc.find('Session', 'theirs', T0))
        assert.ok(await store.oidc.find('AccessToken', 'cc', T0))
      })

      it('finds by uid and by user code within the model, never an expired one', async () => {
        await store.oidc.upsert('Session', 's1', { uid: 'uid-1' }, 60, T0)
        await store.oidc.upsert('DeviceCode', 'd1', { userCode: 'ABCD-EFGH' }, 60, T0)
        assert.deepEqual((await store.oidc.findByUid('Session', 'uid-1', T0))?.payload, { uid: 'uid-1' })
        assert.deepEqual((await store.oidc.findByUserCode('DeviceCode', 'ABCD-EFGH', T0))?.payload, {
          userCode: 'ABCD-EFGH',
        })
        assert.equal(await store.oidc.findByUid('Interaction', 'uid-1', T0), undefined)
        assert.equal(await store.oidc.findByUid('Session', 'uid-1', T0 + 60), undefined)
        assert.equal(await store.oidc.findByUserCode('DeviceCode', 'ABCD-EFGH', T0 + 61), undefined)
      })

      it('deletes expired artefacts and counts them', async () => {
        await store.oidc.upsert('AccessToken', 'old1', {}, 10, T0)
        await store.oidc.upsert('AccessToken', 'old2', {}, 20, T0)
        await store.oidc.upsert('AccessToken', 'live', {}, 100, T0)
        await store.oidc.upsert('Client', 'forever', {}, undefined, T0)
        assert.equal(await store.oidc.deleteExpired(T0 + 20), 2)
        assert.equal(await store.oidc.deleteExpired(T0 + 20), 0)
        assert.ok(await store.oidc.find('AccessToken', 'live', T0 + 20))
        assert.ok(await store.oidc.find('Client', 'forever', T0 + 20))
      })
    })

    describe('single-use artefacts', () => {
      it('takes an artefact once, whoever races for it, and never an expired one', async () => {
        await store.oidc.upsert('Challenge', 'c1', { challenge: 'abc' }, 60, T0)
        const taken = await Promise.all(
          Array.from({ length: 10 }, () => store.oidc.take('Challenge', 'c1', T0)),
        )
        assert.deepEqual(
          taken.filter((t) => t !== undefined),
          [{ challenge: 'abc' }],
        )
        assert.equal(await store.oidc.find('Challenge', 'c1', T0), undefined)
        await store.oidc.upsert('Challenge', 'c2', { challenge: 'old' }, 60, T0)
        assert.equal(await store.oidc.take('Challenge', 'c2', T0 + 60), undefined, 'expired')
        assert.equal(await store.oidc.take('Other', 'c2', T0), undefined, 'another model')
      })
    })

    describe('signing keys', () => {
      it('lists keys by creation time, then kid, and refuses a taken kid', async () => {
        const k2 = signingKey({ kid: 'k2', state: 'next', activate_at: T0 + 86_400 })
        const k1 = signingKey()
        const k0 = signingKey({ kid: 'k0', created_at: T0 - 1 })
        await store.keys.insert(k2)
        await store.keys.insert(k1)
        await store.keys.insert(k0)
        assert.deepEqual(await store.keys.list(), [k0, k1, k2])
        assert.equal(await conflictField(store.keys.insert(signingKey())), 'kid')
      })

      it('updates state and times of a key, and refuses an unknown kid', async () => {
        await store.keys.insert(signingKey())
        await store.keys.update('k1', { state: 'retired', retired_at: T0 + 5, delete_after: T0 + 900 })
        assert.deepEqual(await store.keys.list(), [
          signingKey({ state: 'retired', retired_at: T0 + 5, delete_after: T0 + 900 }),
        ])
        await assert.rejects(store.keys.update('nope', { state: 'active' }), StoreNotFoundError)
        await store.keys.remove('k1')
        assert.deepEqual(await store.keys.list(), [])
      })

      it('changes the version on every key change, and only then', async () => {
        const versions = [await store.keys.version()]
        await store.keys.insert(signingKey())
        versions.push(await store.keys.version())
        await store.keys.update('k1', { state: 'retired' })
        versions.push(await store.keys.version())
        await store.keys.list()
        await store.keys.remove('absent')
        assert.equal(await store.keys.version(), versions.at(-1))
        await store.keys.remove('k1')
        versions.push(await store.keys.version())
        assert.equal(new Set(versions).size, versions.length, `versions ${versions.join(', ')}`)
      })
    })

    describe('login throttling', () => {
      it('counts failures in a window and starts a new one when the last began more than windowSeconds ago', async () => {
        assert.equal(await store.throttle.get('user:alice'), undefined)
        assert.deepEqual(await store.throttle.recordFailure('user:alice', T0, 60), {
          key: 'user:alice',
          failures: 1,
          window_start: T0,
          locked_until: null,
        })
        await store.throttle.recordFailure('user:alice', T0 + 30, 60)
        const third = await store.throttle.recordFailure('user:alice', T0 + 60, 60)
        assert.deepEqual([third.failures, third.window_start], [3, T0])
        const fresh = await store.throttle.recordFailure('user:alice', T0 + 61, 60)
        assert.deepEqual([fresh.failures, fresh.window_start], [1, T0 + 61])
        assert.deepEqual(await store.throttle.get('user:alice'), fresh)
        assert.equal((await store.throttle.recordFailure('ip:203.0.113.9', T0, 60)).failures, 1)
      })

      it('locks a key until a time, keeping its failures, and clears it', async () => {
        await store.throttle.recordFailure('user:alice', T0, 60)
        await store.throttle.lock('user:alice', T0 + 900)
        assert.deepEqual(await store.throttle.get('user:alice'), {
          key: 'user:alice',
          failures: 1,
          window_start: T0,
          locked_until: T0 + 900,
        })
        await store.throttle.lock('ip:198.51.100.1', T0 + 60)
        assert.equal((await store.throttle.get('ip:198.51.100.1'))?.locked_until, T0 + 60)
        await store.throttle.clear('user:alice')
        assert.equal(await store.throttle.get('user:alice'), undefined)
        assert.equal((await store.throttle.recordFailure('user:alice', T0 + 1, 60)).failures, 1)
      })

      it('counts every one of many concurrent failures exactly once', async () => {
        const counts = await Promise.all(
          Array.from({ length: 50 }, () => store.throttle.recordFailure('user:bob', T0, 60)),
        )
        assert.deepEqual(
          counts.map((s) => s.failures).sort((a, b) => a - b),
          Array.from({ length: 50 }, (_, i) => i + 1),
        )
        assert.equal((await store.throttle.get('user:bob'))?.failures, 50)
      })
    })

    describe('second factors', () => {
      it("lists a user's factors oldest first, gets one by id, and removes it", async () => {
        await store.users.insert(user())
        await store.users.insert(user({ id: 'u-bob', username: 'bob', email: null }))
        await store.factors.insert(factor({ id: 'f2', created_at: T0 + 5, name: 'Tablet' }))
        await store.factors.insert(factor())
        await store.factors.insert(factor({ id: 'f3', user_id: 'u-bob' }))
        assert.deepEqual(
          (await store.factors.list('u-alice')).map((f) => f.id),
          ['f1', 'f2'],
        )
        assert.deepEqual(await store.factors.get('f1'), factor())
        assert.equal(await store.factors.remove('f1'), true)
        assert.equal(await store.factors.remove('f1'), false)
        assert.equal(await store.factors.get('f1'), undefined)
        assert.deepEqual(
          (await store.factors.list('u-bob')).map((f) => f.id),
          ['f3'],
        )
      })

      it('refuses a factor for a user that does not exist, and a taken id', async () => {
        await assert.rejects(store.factors.insert(factor()), StoreNotFoundError)
        await store.users.insert(user())
        await store.factors.insert(factor())
        assert.equal(await conflictField(store.factors.insert(factor())), 'id')
      })

      it('accepts each TOTP time step once, and none earlier than the last accepted', async () => {
        await store.users.insert(user())
        await store.factors.insert(factor())
        assert.equal(await store.factors.acceptStep('f1', 100, T0), true)
        assert.equal(await store.factors.acceptStep('f1', 100, T0 + 1), false)
        assert.equal(await store.factors.acceptStep('f1', 99, T0 + 1), false)
        assert.equal(await store.factors.acceptStep('f1', 101, T0 + 30), true)
        const f = await store.factors.get('f1')
        assert.deepEqual([f?.last_step, f?.last_used_at], [101, T0 + 30])
        assert.equal(await store.factors.acceptStep('nope', 200, T0), false)
      })

      it('lets exactly one of many concurrent uses of the same time step through', async () => {
        await store.users.insert(user())
        await store.factors.insert(factor())
        const accepted = await Promise.all(
          Array.from({ length: 20 }, () => store.factors.acceptStep('f1', 500, T0)),
        )
        assert.equal(accepted.filter(Boolean).length, 1)
      })

      it('uses each recovery code once, replaces a set whole, and counts what is left', async () => {
        await store.users.insert(user())
        await assert.rejects(store.factors.replaceRecoveryCodes('u-nobody', ['h1'], T0), StoreNotFoundError)
        await store.factors.replaceRecoveryCodes('u-alice', ['h1', 'h2', 'h3'], T0)
        assert.equal(await store.factors.recoveryCodesLeft('u-alice'), 3)
        assert.equal(await store.factors.consumeRecoveryCode('u-alice', 'h2', T0), true)
        assert.equal(await store.factors.consumeRecoveryCode('u-alice', 'h2', T0), false)
        assert.equal(await store.factors.consumeRecoveryCode('u-alice', 'h9', T0), false)
        assert.equal(await store.factors.recoveryCodesLeft('u-alice'), 2)
        const both = await Promise.all([
          store.factors.consumeRecoveryCode('u-alice', 'h1', T0),
          store.factors.consumeRecoveryCode('u-alice', 'h1', T0),
        ])
        assert.deepEqual(both.sort(), [false, true])
        await store.factors.replaceRecoveryCodes('u-alice', ['h4'], T0 + 1)
        assert.equal(await store.factors.consumeRecoveryCode('u-alice', 'h3', T0), false)
        assert.equal(await store.factors.recoveryCodesLeft('u-alice'), 1)
      })

      it('removes every factor and recovery code of a user at once, and all of them with the user', async () => {
        await store.users.insert(user())
        await store.factors.insert(factor())
        await store.factors.insert(factor({ id: 'f2' }))
        await store.factors.replaceRecoveryCodes('u-alice', ['h1'], T0)
        assert.equal(await store.factors.removeAll('u-alice'), 2)
        assert.deepEqual(await store.factors.list('u-alice'), [])
        assert.equal(await store.factors.recoveryCodesLeft('u-alice'), 0)
        await store.factors.insert(factor())
        await store.factors.replaceRecoveryCodes('u-alice', ['h1'], T0)
        await store.factors.setPolicy('u-alice', 'required', T0)
        await store.users.remove('u-alice')
        assert.equal(await store.factors.get('f1'), undefined)
        assert.equal(await store.factors.recoveryCodesLeft('u-alice'), 0)
        assert.equal(await store.factors.policy('u-alice'), null)
      })

      it("keeps a user's own mfa policy, changes and clears it", async () => {
        await store.users.insert(user())
        assert.equal(await store.factors.policy('u-alice'), null)
        await store.factors.setPolicy('u-alice', 'required', T0)
        assert.equal(await store.factors.policy('u-alice'), 'required')
        await store.factors.setPolicy('u-alice', 'off', T0 + 1)
        assert.equal(await store.factors.policy('u-alice'), 'off')
        await store.factors.setPolicy('u-alice', null, T0 + 2)
        assert.equal(await store.factors.policy('u-alice'), null)
        await assert.rejects(store.factors.setPolicy('u-nobody', 'off', T0), StoreNotFoundError)
      })

      it('keeps a passkey with its factor, finds it by credential id, renames it, and removes it with the factor', async () => {
        await store.users.insert(user())
        const pk = factor({ id: 'p1', kind: 'passkey', name: 'Laptop', secret: '' })
        const cred = {
          factor_id: 'p1',
          credential_id: 'cred-AAA',
          public_key: 'pQECAyYgASFYIA',
          counter: 0,
          transports: ['internal', 'hybrid'],
          backed_up: true,
          aaguid: '00000000-0000-0000-0000-000000000000',
        }
        await store.factors.insertPasskey(pk, cred)
        assert.deepEqual(await store.factors.findPasskey('cred-AAA'), { factor: pk, passkey: cred })
        assert.equal(await store.factors.findPasskey('cred-BBB'), undefined)
        assert.deepEqual(await store.factors.passkeys('u-alice'), [cred])
        assert.equal(
          await conflictField(store.factors.insertPasskey({ ...pk, id: 'p2' }, { ...cred, factor_id: 'p2' })),
          'credential_id',
        )
        assert.equal(await store.factors.rename('u-alice', 'p1', 'Work laptop'), true)
        assert.equal(await store.factors.rename('u-bob', 'p1', 'Stolen'), false)
        assert.equal((await store.factors.get('p1'))?.name, 'Work laptop')
        assert.equal(await store.factors.remove('p1'), true)
        assert.equal(await store.factors.findPasskey('cred-AAA'), undefined)
        assert.deepEqual(await store.factors.passkeys('u-alice'), [])
      })

      it("moves a passkey's counter only forward (0 after 0 allowed), one of many racing uses winning", async () => {
        await store.users.insert(user())
        const cred = (id: string, counter: number) => ({
          factor_id: id,
          credential_id: `cred-${id}`,
          public_key: 'pk',
          counter,
          transports: [],
          backed_up: false,
          aaguid: 'a',
        })
        await store.factors.insertPasskey(factor({ id: 'p0', kind: 'passkey', secret: '' }), cred('p0', 0))
        assert.equal(await store.factors.acceptCounter('p0', 0, T0), true, 'no counter kept')
        assert.equal((await store.factors.get('p0'))?.last_used_at, T0)
        await store.factors.insertPasskey(factor({ id: 'p5', kind: 'passkey', secret: '' }), cred('p5', 5))
        assert.equal(await store.factors.acceptCounter('p5', 5, T0), false, 'the same counter again')
        assert.equal(await store.factors.acceptCounter('p5', 4, T0), false, 'backwards')
        assert.equal(await store.factors.acceptCounter('p5', 0, T0), false, 'back to 0')
        assert.equal(await store.factors.acceptCounter('p5', 6, T0 + 1), true)
        const raced = await Promise.all(
          Array.from({ length: 10 }, () => store.factors.acceptCounter('p5', 9, T0 + 2)),
        )
        assert.equal(raced.filter(Boolean).length, 1)
        assert.equal((await store.factors.passkeys('u-alice')).find((p) => p.factor_id === 'p5')?.counter, 9)
        assert.equal(await store.factors.acceptCounter('nope', 10, T0), false)
        await store.users.remove('u-alice')
        assert.equal(await store.factors.findPasskey('cred-p5'), undefined)
      })

      it("keeps a client's mfa policy, and none for a client without one", async () => {
        await store.clients.insert(client())
        await store.clients.insert(client({ client_id: 'other', mfa: null }))
        assert.equal((await store.clients.get('shop-web'))?.mfa, 'required')
        assert.equal((await store.clients.get('other'))?.mfa, null)
      })
    })

    describe('what anyone can type', () => {
      it('keeps a NUL character in an artefact, and finds nothing for a name with one, without failing', async () => {
        // A login form or an authorization request can carry any character.
        await store.users.insert(user())
        assert.equal(await store.users.findByUsername('alice\u0000'), undefined)
        assert.equal(await store.users.findByEmail('alice@example.com\u0000'), undefined)
        await store.oidc.upsert('Interaction', 'i1', { state: 'a\u0000b' }, 60, T0)
        assert.deepEqual((await store.oidc.find('Interaction', 'i1', T0))?.payload, { state: 'a\u0000b' })
      })

      it('throttles a key with a NUL character like any other', async () => {
        const key = 'user:a\u0000b'
        await store.throttle.recordFailure(key, T0, 60)
        assert.deepEqual(await store.throttle.recordFailure(key, T0, 60), {
          key,
          failures: 2,
          window_start: T0,
          locked_until: null,
        })
        assert.equal((await store.throttle.get(key))?.failures, 2)
        assert.equal(await store.throttle.get('user:ab'), undefined)
      })
    })

    describe('gateway entities (DB mode)', () => {
      const entity = (overrides: Partial<StoredEntity> = {}): StoredEntity => ({
        type: 'services',
        id: '6f1c1a52-54a4-4e4b-9d1e-000000000001',
        name: 'orders',
        document: {
          id: '6f1c1a52-54a4-4e4b-9d1e-000000000001',
          name: 'orders',
          host: 'orders.internal',
          port: 80,
        },
        created_at: T0,
        updated_at: T0,
        ...overrides,
      })
      const route = entity({
        type: 'routes',
        id: '6f1c1a52-54a4-4e4b-9d1e-000000000002',
        name: 'orders',
        document: { name: 'orders', paths: ['/orders'], service: { id: entity().id }, strip_path: false },
      })

      it('starts at version 0 with nothing, and says so consistently', async () => {
        assert.equal(await store.entities.version(), 0)
        assert.deepEqual(await store.entities.snapshot(), { version: 0, entities: [] })
      })

      it('keeps documents as written (key order included), ordered by type, creation and id', async () => {
        const later = entity({
          id: '6f1c1a52-54a4-4e4b-9d1e-000000000000',
          name: 'later',
          created_at: T0 + 5,
        })
        assert.equal(await store.entities.apply(0, { upsert: [later, route, entity()], remove: [] }), 1)
        const { version, entities } = await store.entities.snapshot()
        assert.equal(version, 1)
        assert.deepEqual(entities, [route, entity(), later])
        assert.deepEqual(Object.keys(entities[0]!.document), ['name', 'paths', 'service', 'strip_path'])
        assert.equal(await store.entities.version(), 1)
      })

      it('replaces an entity of the same type and id, keeping its created_at, and removes by type and id', async () => {
        await store.entities.apply(0, { upsert: [entity(), route], remove: [] })
        const renamed = entity({
          name: 'orders-v2',
          document: { name: 'orders-v2' },
          created_at: T0 + 60,
          updated_at: T0 + 60,
        })
        assert.equal(
          await store.entities.apply(1, { upsert: [renamed], remove: [{ type: 'routes', id: route.id }] }),
          2,
        )
        assert.deepEqual((await store.entities.snapshot()).entities, [{ ...renamed, created_at: T0 }])
      })

      it('refuses a write based on an older version, writing nothing', async () => {
        await store.entities.apply(0, { upsert: [entity()], remove: [] })
        await assert.rejects(store.entities.apply(0, { upsert: [route], remove: [] }), (err: unknown) => {
          assert.ok(err instanceof StoreConflictError)
          assert.equal(err.field, 'version')
          return true
        })
        assert.deepEqual(await store.entities.snapshot(), { version: 1, entities: [entity()] })
      })

      it('lets exactly one of several writers based on the same version commit', async () => {
        const results = await Promise.allSettled(
          [1, 2, 3, 4].map((n) =>
            store.entities.apply(0, {
              upsert: [entity({ id: `6f1c1a52-54a4-4e4b-9d1e-00000000010${n}`, name: `s${n}` })],
              remove: [],
            }),
          ),
        )
        assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1)
        for (const r of results)
          if (r.status === 'rejected') assert.equal((r.reason as StoreConflictError).field, 'version')
        const { version, entities } = await store.entities.snapshot()
        assert.equal(version, 1)
        assert.equal(entities.length, 1)
      })

      it('refuses a name taken within the type, writing nothing (the same name in another type is fine)', async () => {
        await store.entities.apply(0, { upsert: [entity(), route], remove: [] })
        const twin = entity({ id: '6f1c1a52-54a4-4e4b-9d1e-000000000009' })
        await assert.rejects(store.entities.apply(1, { upsert: [twin], remove: [] }), (err: unknown) => {
          assert.ok(err instanceof StoreConflictError)
          assert.equal(err.field, 'name')
          return true
        })
        assert.equal(await store.entities.version(), 1)
        assert.equal((await store.entities.snapshot()).entities.length, 2)
      })

      it('replaces every entity at once, with a new version', async () => {
        await store.entities.apply(0, { upsert: [entity(), route], remove: [] })
        const other = entity({ id: '6f1c1a52-54a4-4e4b-9d1e-000000000003', name: 'billing' })
        assert.equal(await store.entities.replace(1, [other]), 2)
        assert.deepEqual(await store.entities.snapshot(), { version: 2, entities: [other] })
        await assert.rejects(store.entities.replace(1, []), StoreConflictError)
        assert.equal(await store.entities.replace(2, []), 3)
        assert.deepEqual(await store.entities.snapshot(), { version: 3, entities: [] })
      })

      it('opens and stops a watch (notifications, where the backend has them, are tested with two nodes)', async () => {
        const stop = await store.entities.watch(() => {})
        await stop()
      })
    })

    describe('links to external providers', () => {
      it('finds a link by provider and subject, and lists a user’s links oldest first', async () => {
        await store.users.insert(user())
        const google = link()
        const corp = link({ broker: 'corp', subject: 'alice', created_at: T0 - 5, username: 'alice' })
        await store.links.insert(google)
        await store.links.insert(corp)
        assert.deepEqual(await store.links.find('google', '1034567890'), google)
        assert.equal(await store.links.find('google', 'alice'), undefined)
        assert.equal(await store.links.find('corp', '1034567890'), undefined)
        assert.deepEqual(await store.links.listByUser('u-alice'), [corp, google])
        assert.deepEqual(await store.links.listByUser('nobody'), [])
      })

      it('refuses a second link of one external identity (subject) and a second link of a user to one provider (broker)', async () => {
        await store.users.insert(user())
        await store.users.insert(user({ id: 'u-bob', username: 'bob', email: null }))
        await store.links.insert(link())
        assert.equal(await conflictField(store.links.insert(link({ user_id: 'u-bob' }))), 'subject')
        assert.equal(await conflictField(store.links.insert(link({ subject: 'other' }))), 'broker')
        assert.deepEqual(await store.links.listByUser('u-bob'), [])
      })

      it('refuses a link to a user that does not exist', async () => {
        await assert.rejects(store.links.insert(link({ user_id: 'nobody' })), StoreNotFoundError)
      })

      it('writes a new user and its link together, or neither', async () => {
        await store.links.insertUserWithLink(user(), link())
        assert.equal((await store.users.get('u-alice'))?.username, 'Alice')
        assert.equal((await store.links.find('google', '1034567890'))?.user_id, 'u-alice')
        const bob = user({ id: 'u-bob', username: 'bob', email: null })
        // The identity is linked already: no user either.
        assert.equal(
          await conflictField(store.links.insertUserWithLink(bob, link({ user_id: 'u-bob' }))),
          'subject',
        )
        assert.equal(await store.users.get('u-bob'), undefined)
        // The username is taken: no link either.
        const taken = user({ id: 'u-carol', email: null })
        assert.equal(
          await conflictField(
            store.links.insertUserWithLink(taken, link({ subject: 'c', user_id: 'u-carol' })),
          ),
          'username',
        )
        assert.equal(await store.links.find('google', 'c'), undefined)
      })

      it('records a use with the display copies, removes one link, and removes every link with its user', async () => {
        await store.users.insert(user())
        await store.links.insert(link())
        await store.links.insert(link({ broker: 'corp', subject: 'a' }))
        await store.links.touch(
          'google',
          '1034567890',
          { email: 'new@gmail.example', username: 'al' },
          T0 + 9,
        )
        assert.deepEqual(await store.links.find('google', '1034567890'), {
          ...link(),
          email: 'new@gmail.example',
          username: 'al',
          last_used_at: T0 + 9,
        })
        assert.equal(await store.links.remove('u-alice', 'corp'), true)
        assert.equal(await store.links.remove('u-alice', 'corp'), false)
        assert.equal(await store.links.find('corp', 'a'), undefined)
        await store.users.remove('u-alice')
        assert.equal(await store.links.find('google', '1034567890'), undefined)
      })
    })

    describe('identity audit trail', () => {
      const cli = { via: 'cli', os_user: 'ops', host: 'bastion' }
      const admin = { via: 'admin-api', address: '127.0.0.1', node: null }
      const about = (id: string, name: string | null) => ({ type: 'user', id, name })
      const event = (action: string, overrides: Partial<AuditRecord> = {}): AuditRecord => ({
        at: T0,
        action,
        actor: cli,
        target: about('u-alice', 'Alice'),
        detail: {},
        ...overrides,
      })

      it('records events with ids that increase, and gives actor and detail back with their types', async () => {
        const first = await store.audit.record(
          event('user.mfa_reset', {
            detail: { factors_removed: 2, provider: 'google', left: false, x: null },
          }),
        )
        const second = await store.audit.record(event('user.signed_out', { actor: admin, at: T0 + 1 }))
        assert.ok(second.id > first.id, `${second.id} > ${first.id}`)
        assert.deepEqual(await store.audit.list({ limit: 10 }), [second, first])
        assert.deepEqual(first, {
          id: first.id,
          ...event('user.mfa_reset', {
            detail: { factors_removed: 2, provider: 'google', left: false, x: null },
          }),
        })
      })

      it('lists a target’s events by id or by name in any case, an action’s, newest first, a page at a time', async () => {
        await store.audit.record(event('user.added'))
        await store.audit.record(
          event('client.added', { target: { type: 'client', id: 'shop', name: null } }),
        )
        await store.audit.record(event('user.added', { target: about('u-bob', 'bob') }))
        const reset = await store.audit.record(event('user.mfa_reset'))
        const unlocked = await store.audit.record(event('user.unlocked', { target: about('u-x', 'ALICE') }))
        const actions = (events: StoredAuditEvent[]) => events.map((e) => e.action)
        assert.deepEqual(
          actions(await store.audit.list({ target: { type: 'user', id: 'u-alice' }, limit: 9 })),
          ['user.mfa_reset', 'user.added'],
        )
        assert.deepEqual(
          actions(await store.audit.list({ target: { type: 'user', id: 'alice', name: 'alice' }, limit: 9 })),
          ['user.unlocked', 'user.mfa_reset', 'user.added'],
        )
        assert.deepEqual(
          actions(await store.audit.list({ target: { type: 'client', id: 'u-alice' }, limit: 9 })),
          [],
        )
        assert.deepEqual(actions(await store.audit.list({ target: { type: 'client' }, limit: 9 })), [
          'client.added',
        ])
        assert.deepEqual(
          (await store.audit.list({ action: 'user.added', limit: 9 })).map((e) => e.target.name),
          ['bob', 'Alice'],
        )
        const page = await store.audit.list({ limit: 2 })
        assert.deepEqual(page, [unlocked, reset])
        const next = await store.audit.list({ limit: 2, before: page.at(-1)!.id })
        assert.deepEqual(actions(next), ['user.added', 'client.added'])
        assert.deepEqual(actions(await store.audit.list({ limit: 2, before: next.at(-1)!.id })), [
          'user.added',
        ])
      })

      it('keeps a removed user’s trail, and prunes only the events recorded before a time', async () => {
        await store.users.insert(user())
        await store.audit.record(event('user.added', { at: T0 - 100 }))
        await store.users.remove('u-alice')
        const removed = await store.audit.record(event('user.removed'))
        assert.equal(
          (await store.audit.list({ target: { type: 'user', id: 'u-alice' }, limit: 9 })).length,
          2,
        )
        assert.equal(await store.audit.prune(T0), 1)
        assert.equal(await store.audit.prune(T0), 0)
        assert.deepEqual(await store.audit.list({ limit: 9 }), [removed])
        // Even the newest event pruned, its id is never given again: the next event still sorts newest.
        assert.equal(await store.audit.prune(T0 + 1), 1)
        assert.ok((await store.audit.record(event('user.added'))).id > removed.id)
      })
    })

    describe('ping', () => {
      it('answers a trivial query (the readiness check)', async () => {
        await store.ping()
      })
    })

    describe('locks', () => {
      it('runs holders of one lock one at a time, in order, each using the store as usual', async () => {
        const steps: string[] = []
        const hold = (n: number) =>
          store.withLock('keys', async () => {
            steps.push(`enter ${n}`)
            await store.keys.insert(signingKey({ kid: `k${n}` }))
            await new Promise((resolve) => setTimeout(resolve, 5))
            steps.push(`leave ${n}`)
            return n
          })
        assert.deepEqual(await Promise.all([hold(1), hold(2), hold(3)]), [1, 2, 3])
        assert.deepEqual(steps, ['enter 1', 'leave 1', 'enter 2', 'leave 2', 'enter 3', 'leave 3'])
        assert.equal((await store.keys.list()).length, 3)
      })

      it('releases the lock when its holder fails', async () => {
        await assert.rejects(
          store.withLock('keys', async () => {
            throw new Error('maintenance failed')
          }),
          /maintenance failed/,
        )
        assert.equal(await store.withLock('keys', async () => 'next'), 'next')
      })

      it('lets holders of different locks run at once', async () => {
        let release!: () => void
        const released = new Promise<void>((resolve) => {
          release = resolve
        })
        // `a` waits for `b` to run: were the two locks one, neither would finish.
        const a = store.withLock('a', () => released)
        const b = store.withLock('b', async () => release())
        await Promise.all([a, b])
      })
    })

    describe('schema', () => {
      it('refuses an unmigrated database, saying to run gatehouse migrate, until migrate applies every migration', async () => {
        const fresh = await open()
        try {
          await assert.rejects(fresh.checkSchema(), (err: unknown) => {
            assert.ok(err instanceof StoreError)
            assert.match(err.message, /run `gatehouse migrate`/)
            assert.match(err.message, /001_identity/)
            return true
          })
          assert.deepEqual(await fresh.migrate(), Object.keys(MIGRATIONS))
          await fresh.checkSchema()
        } finally {
          await fresh.close()
        }
      })

      it('does nothing when migrated again, keeping the data', async () => {
        await store.users.insert(user())
        assert.deepEqual(await store.migrate(), [])
        await store.checkSchema()
        assert.equal((await store.users.list()).length, 1)
      })
    })
  })
}
