/**
 * The PostgreSQL store on a real server (test/harness/postgres.ts: one per file, a database per store):
 * the whole contract, then what only a shared database has to get right — several nodes syncing,
 * locking and migrating at once, the native column types, and the messages when it cannot be used.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { type PostgresServer, postgresSkipReason, startPostgres } from '../../test/harness/postgres.ts'
import { type PostgresSettings, resolveStorage, storageSettings } from '../config/schema/storage.ts'
import { MIGRATIONS } from './migrations/index.ts'
import { openStore } from './open.ts'
import { PostgresStore } from './postgres.ts'
import { runStoreContract } from './store.contract.test.ts'
import type { Store, StoredUser } from './store.ts'

const skip = postgresSkipReason()

/** Settings as a configuration file would give them. */
function settingsFor(url: string, extra: Record<string, unknown> = {}): PostgresSettings {
  const storage = resolveStorage(storageSettings.parse({ postgres: { url, ...extra } }), '/')
  return storage.postgres!
}

describe('PostgreSQL', { skip }, () => {
  let server: PostgresServer
  before(async () => {
    server = await startPostgres()
  })
  after(async () => {
    await server?.stop()
  })

  const freshStore = async () => PostgresStore.open(settingsFor(await server.createDatabase()))

  runStoreContract('PostgreSQL', freshStore)

  describe('PostgreSQL store', () => {
    /** Two stores on one new, migrated database: two nodes. */
    async function twoNodes(): Promise<[Store, Store]> {
      const settings = settingsFor(await server.createDatabase())
      const a = await PostgresStore.open(settings)
      await a.migrate()
      return [a, await PostgresStore.open(settings)]
    }

    it('keeps JSON as jsonb and flags as booleans, read back as the same values', async () => {
      const url = await server.createDatabase()
      const store = await openStore({ postgres: settingsFor(url) }, { migrate: false })
      try {
        await store.migrate()
        await store.users.insert(user('alice'))
        const { rows } = await server.query(
          'select pg_typeof(roles)::text as roles, pg_typeof(disabled)::text as disabled, claims from users',
          [],
          url.slice(url.lastIndexOf('/') + 1),
        )
        assert.deepEqual(rows, [{ roles: 'jsonb', disabled: 'boolean', claims: { level: 3, country: 'GB' } }])
        assert.deepEqual(await store.users.get('alice'), user('alice'))
      } finally {
        await store.close()
      }
    })

    it('holds a lock across nodes: the second holder waits for the first to finish', async () => {
      const [a, b] = await twoNodes()
      try {
        const steps: string[] = []
        let entered!: () => void
        const aEntered = new Promise<void>((resolve) => {
          entered = resolve
        })
        const first = a.withLock('signing-keys', async () => {
          steps.push('a enters')
          entered()
          await new Promise((resolve) => setTimeout(resolve, 200))
          steps.push('a leaves')
        })
        await aEntered
        await b.withLock('signing-keys', async () => {
          steps.push('b enters')
        })
        await first
        assert.deepEqual(steps, ['a enters', 'a leaves', 'b enters'])
      } finally {
        await Promise.all([a.close(), b.close()])
      }
    })

    it('lets two nodes sync the same config users and clients at once, without a conflict', async () => {
      const [a, b] = await twoNodes()
      try {
        const seeds = ['alice', 'bob', 'carol'].map((name) => {
          const { id: _i, source: _s, created_at: _c, updated_at: _u, ...seed } = user(name)
          return seed
        })
        await Promise.all([a.users.syncConfigUsers(seeds, 1000), b.users.syncConfigUsers(seeds, 1000)])
        assert.deepEqual((await a.users.list()).map((u) => u.username).sort(), ['alice', 'bob', 'carol'])
        const client = {
          client_id: 'web',
          secret_hash: null,
          client_name: null,
          redirect_uris: [],
          post_logout_redirect_uris: [],
          grant_types: ['client_credentials'],
          scopes: [],
          resources: [],
          first_party: false,
          mfa: null,
        }
        await Promise.all([
          a.clients.syncConfigClients([client], 1000),
          b.clients.syncConfigClients([client], 1000),
        ])
        assert.equal((await b.clients.list()).length, 1)
      } finally {
        await Promise.all([a.close(), b.close()])
      }
    })

    it("tells a node watching the entities about another node's write at commit, and keeps listening after the server drops it", async () => {
      const [a, b] = await twoNodes()
      let calls = 0
      let notified!: () => void
      const arrival = () =>
        new Promise<void>((resolve) => {
          notified = resolve
        })
      let next = arrival()
      const stop = await b.entities.watch(() => {
        calls++
        notified()
      })
      try {
        const document = { id: '6f1c1a52-54a4-4e4b-9d1e-000000000001', host: 'orders.internal' }
        const service = {
          type: 'services',
          id: document.id,
          name: null,
          document,
          created_at: 1,
          updated_at: 1,
        }
        await a.entities.apply(0, { upsert: [service], remove: [] })
        await next
        assert.equal(calls, 1)
        // The listening connection is ended by the server: the watch reconnects and reports it.
        next = arrival()
        await server.query(
          "select pg_terminate_backend(pid) from pg_stat_activity where query = 'listen gatehouse_entities'",
        )
        await next
        next = arrival()
        await a.entities.apply(1, { upsert: [], remove: [{ type: 'services', id: document.id }] })
        await next
        assert.equal(await b.entities.version(), 2)
      } finally {
        await stop()
        await a.close()
        await b.close()
      }
    })

    it('applies each migration once when two nodes migrate at once', async () => {
      const settings = settingsFor(await server.createDatabase())
      const [a, b] = await Promise.all([PostgresStore.open(settings), PostgresStore.open(settings)])
      try {
        const applied = await Promise.all([a.migrate(), b.migrate()])
        assert.deepEqual(applied.flat().sort(), Object.keys(MIGRATIONS))
        await b.checkSchema()
      } finally {
        await Promise.all([a.close(), b.close()])
      }
    })

    it('refuses to open a database whose schema is older, naming it and saying to run gatehouse migrate', async () => {
      const url = await server.createDatabase()
      const storage = { postgres: settingsFor(url) }
      await assert.rejects(openStore(storage), {
        name: 'StoreError',
        message: `PostgreSQL database ${url}: the database schema is older than this version of Gatehouse expects (pending migrations: ${Object.keys(MIGRATIONS).join(', ')}); run \`gatehouse migrate\``,
      })
      const store = await openStore(storage, { migrate: false })
      await store.migrate()
      await store.close()
      await (await openStore(storage)).close()
    })

    it('connects through a Unix socket when the host is its folder (the port names the socket)', async () => {
      const url = await server.createDatabase()
      const name = url.slice(url.lastIndexOf('/') + 1)
      const socket = encodeURIComponent(server.socketDir)
      const settings = settingsFor(`postgres://postgres@${socket}:${server.port}/${name}`)
      assert.equal(settings.host, server.socketDir)
      const store = await openStore({ postgres: settings }, { migrate: false })
      try {
        assert.deepEqual(await store.migrate(), Object.keys(MIGRATIONS))
      } finally {
        await store.close()
      }
    })

    it('refuses a database it cannot reach or use, naming it without the password', async () => {
      const missing = `postgres://postgres:not-the-password@127.0.0.1:${server.port}/no_such_database`
      await assert.rejects(openStore({ postgres: settingsFor(missing) }), {
        name: 'StoreError',
        message: `cannot connect to the PostgreSQL database postgres://postgres@127.0.0.1:${server.port}/no_such_database: database "no_such_database" does not exist`,
      })
      // Port 1 on loopback: nothing listens there.
      const closed = settingsFor('postgres://gatehouse@127.0.0.1:1/gatehouse', { connect_timeout: 2000 })
      await assert.rejects(openStore({ postgres: closed }), (err: unknown) => {
        assert.ok(err instanceof Error && err.name === 'StoreError')
        assert.match(
          err.message,
          /^cannot connect to the PostgreSQL database postgres:\/\/gatehouse@127\.0\.0\.1:1\/gatehouse: .*ECONNREFUSED/,
        )
        return true
      })
    })
  })
})

function user(name: string): StoredUser {
  return {
    id: name,
    username: name,
    email: `${name}@example.test`,
    password_hash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA',
    roles: ['staff'],
    claims: { country: 'GB', level: 3 },
    disabled: false,
    source: 'cli',
    created_at: 1000,
    updated_at: 1000,
  }
}
