import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { FILE, problems, registry } from '../../../test/harness/config.ts'
import { loadConfigText } from '../load.ts'
import { storageLocation } from './storage.ts'

const HEAD = '_format_version: "3.0"\n'

function storageOf(yaml: string, env: NodeJS.ProcessEnv = {}) {
  return loadConfigText(HEAD + yaml, FILE, { registry, env, baseDir: '/etc/gatehouse' }).settings.storage
}

describe('the storage section', () => {
  it('is SQLite by default, its path relative to the configuration file', () => {
    assert.deepEqual(storageOf(''), { sqlite: { path: '/etc/gatehouse/gatehouse.db' } })
    assert.deepEqual(storageOf('storage: { sqlite: { path: data/gh.db } }'), {
      sqlite: { path: '/etc/gatehouse/data/gh.db' },
    })
    assert.deepEqual(storageOf('storage: { sqlite: { path: ":memory:" } }'), { sqlite: { path: ':memory:' } })
  })

  it('takes a PostgreSQL URL apart, with defaults for the rest, and names it without the password', () => {
    const storage = storageOf(
      'storage:\n  postgres: { url: "postgres://gh:s3cr%40t@db.internal/gatehouse" }\n',
    )
    assert.deepEqual(storage, {
      postgres: {
        location: 'postgres://gh@db.internal:5432/gatehouse',
        host: 'db.internal',
        port: 5432,
        user: 'gh',
        password: 's3cr@t',
        database: 'gatehouse',
        pool_size: 10,
        connect_timeout: 5000,
        ssl: 'disable',
        ssl_ca: null,
      },
    })
    assert.equal(storageLocation(storage), 'postgres://gh@db.internal:5432/gatehouse')
  })

  it('reads the URL or the password from a vault reference', () => {
    const env = { DATABASE_URL: 'postgresql://gh:from-env@[::1]:6432/gh', PG_PASSWORD: 'only-the-password' }
    const whole = storageOf('storage: { postgres: { url: "{vault://env/database-url}" } }', env).postgres!
    assert.deepEqual(
      [whole.host, whole.port, whole.password, whole.location],
      ['::1', 6432, 'from-env', 'postgres://gh@[::1]:6432/gh'],
    )
    const split = storageOf(
      'storage:\n  postgres: { url: "postgres://gh@db/gh", password: "{vault://env/pg-password}" }\n',
      env,
    ).postgres!
    assert.equal(split.password, 'only-the-password')
  })

  it('accepts a Unix socket folder as the host, and TLS settings with a CA file relative to the file', () => {
    const storage = storageOf(
      'storage:\n  postgres:\n    url: postgres://gh@%2Fvar%2Frun%2Fpostgresql/gh\n    ssl: verify-full\n    ssl_ca: certs/db-ca.pem\n    pool_size: 4\n',
    ).postgres!
    assert.equal(storage.host, '/var/run/postgresql')
    assert.equal(storage.location, 'postgres://gh@%2Fvar%2Frun%2Fpostgresql:5432/gh')
    assert.deepEqual(
      [storage.ssl, storage.ssl_ca, storage.pool_size],
      ['verify-full', '/etc/gatehouse/certs/db-ca.pem', 4],
    )
  })

  it('refuses sqlite and postgres together: one store is in effect', () => {
    assert.deepEqual(
      problems(`${HEAD}storage:\n  sqlite: { path: a.db }\n  postgres: { url: "postgres://gh@db/gh" }\n`),
      ['gatehouse.yaml: storage: set either sqlite or postgres, not both: one store is in effect'],
    )
  })

  it('names what is wrong with a PostgreSQL URL, never quoting it', () => {
    const cases: [string, string][] = [
      ['not a url', 'expected a URL like postgres://USER@HOST:5432/DATABASE'],
      ['mysql://gh:pw@db/gh', 'expected a postgres:// or postgresql:// URL'],
      ['postgres://gh:pw@db', 'names no database (postgres://USER@HOST:5432/DATABASE)'],
      ['postgres://db/gh', 'names no user (postgres://USER@HOST:5432/DATABASE)'],
      ['postgres://gh:pw@db/gh/more', 'the path must be the database name alone'],
      [
        'postgres://gh:pw@db/gh?sslmode=require',
        'TLS is set with storage.postgres.ssl (and ssl_ca), not in the URL',
      ],
      [
        'postgres://gh:pw@db/gh?application_name=x',
        'takes no parameters (?application_name): the keys of storage.postgres set what Gatehouse supports',
      ],
    ]
    for (const [url, message] of cases) {
      const lines = problems(`${HEAD}storage: { postgres: { url: "${url}" } }\n`)
      assert.deepEqual(lines, [`gatehouse.yaml: storage.postgres.url: ${message}`], url)
      assert.ok(!lines.join('').includes(':pw@'), 'the password is never quoted')
    }
  })

  it('refuses a pool too small for a lock', () => {
    assert.deepEqual(
      problems(`${HEAD}storage: { postgres: { url: "postgres://gh@db/gh", pool_size: 1 } }\n`),
      [
        'gatehouse.yaml: storage.postgres.pool_size: must be at least 2: a maintenance lock holds one connection while its work uses another',
      ],
    )
  })

  it('refuses a password given twice and a CA that would not be checked', () => {
    assert.deepEqual(
      problems(
        `${HEAD}storage:\n  postgres:\n    url: "postgres://gh:pw@db/gh"\n    password: other\n    ssl: require\n    ssl_ca: ca.pem\n`,
      ),
      [
        'gatehouse.yaml: storage.postgres.password: the URL has a password too: keep one',
        'gatehouse.yaml: storage.postgres.ssl_ca: is only used with ssl: verify-full (require does not check the certificate)',
      ],
    )
  })
})
