import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { Worker } from 'node:worker_threads'
import BetterSqlite3 from 'better-sqlite3'
import { openStore } from './open.ts'
import { SqliteStore } from './sqlite.ts'
import { runStoreContract } from './store.contract.test.ts'
import { StoreError } from './store.ts'

const dir = mkdtempSync(join(tmpdir(), 'gatehouse-sqlite-'))
after(() => rmSync(dir, { recursive: true, force: true }))
let files = 0
const freshFile = () => join(dir, `store-${++files}.db`)

runStoreContract('SQLite in a file', () => SqliteStore.open(freshFile()))
runStoreContract('SQLite in memory', () => SqliteStore.open(':memory:'))

const storage = (path: string) => ({ sqlite: { path } })

describe('SQLite store', () => {
  it('keeps its data in the file across a reopen, in WAL mode', async () => {
    const path = freshFile()
    const first = await openStore(storage(path))
    await first.throttle.recordFailure('user:alice', 100, 60)
    await first.close()
    const second = await openStore(storage(path))
    try {
      assert.equal((await second.throttle.get('user:alice'))?.failures, 1)
      await second.checkSchema()
    } finally {
      await second.close()
    }
    const raw = new BetterSqlite3(path, { readonly: true })
    try {
      assert.equal(raw.pragma('journal_mode', { simple: true }), 'wal')
    } finally {
      raw.close()
    }
  })

  it('creates a missing database file, and its WAL files, readable by its owner only', async () => {
    const path = freshFile()
    const store = await openStore(storage(path))
    try {
      await store.throttle.recordFailure('user:alice', 100, 60)
      for (const file of [path, `${path}-wal`, `${path}-shm`])
        assert.equal(statSync(file).mode & 0o777, 0o600, file)
    } finally {
      await store.close()
    }
  })

  it('refuses a database path whose folder does not exist, naming the path, and creates nothing', async () => {
    const path = join(dir, 'missing', 'gatehouse.db')
    await assert.rejects(openStore(storage(path)), {
      name: 'StoreError',
      message: `cannot open the SQLite database ${path}: the folder ${join(dir, 'missing')} does not exist`,
    })
  })

  it('refuses a file that is not a SQLite database, naming the path', async () => {
    const path = freshFile()
    writeFileSync(path, 'not a database, just text that is long enough to be read as a header\n'.repeat(20))
    await assert.rejects(openStore(storage(path)), (err: unknown) => {
      assert.ok(err instanceof StoreError)
      assert.match(err.message, new RegExp(`^cannot open the SQLite database ${path}: `))
      return true
    })
  })

  it('refuses a database migrated by a newer Gatehouse, at open and in checkSchema', async () => {
    const path = freshFile()
    const store = await openStore(storage(path))
    await store.close()
    const raw = new BetterSqlite3(path)
    raw
      .prepare('insert into gatehouse_migration (name, timestamp) values (?, ?)')
      .run('999_from_the_future', new Date().toISOString())
    raw.close()

    const message =
      /^the database was migrated by a newer version of Gatehouse \(unknown migrations: 999_from_the_future\); upgrade Gatehouse/
    await assert.rejects(openStore(storage(path)), { name: 'StoreError', message })
    const unmigrated = await openStore(storage(path), { migrate: false })
    try {
      await assert.rejects(unmigrated.checkSchema(), { name: 'StoreError', message })
      await assert.rejects(unmigrated.migrate(), { name: 'StoreError', message })
    } finally {
      await unmigrated.close()
    }
  })

  it('counts failures recorded by two connections at once exactly', async () => {
    const path = freshFile()
    const store = await openStore(storage(path))
    const perWorker = 200
    // Each worker has its own connection to the file, as a second process would.
    const code = `
      const { parentPort, workerData } = require('node:worker_threads')
      import(workerData.module).then(async ({ SqliteStore }) => {
        const store = await SqliteStore.open(workerData.path)
        for (let i = 0; i < workerData.count; i++) await store.throttle.recordFailure('user:bob', 1000, 60)
        await store.close()
        parentPort.postMessage('done')
      })`
    const run = () =>
      new Promise<void>((resolve, reject) => {
        const worker = new Worker(code, {
          eval: true,
          workerData: { module: new URL('./sqlite.ts', import.meta.url).href, path, count: perWorker },
        })
        worker.once('message', () => resolve())
        worker.once('error', reject)
      })
    try {
      await Promise.all([run(), run()])
      assert.equal((await store.throttle.get('user:bob'))?.failures, 2 * perWorker)
    } finally {
      await store.close()
    }
  })
})
