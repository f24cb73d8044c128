/**
 * A reload reaches every worker of a node before it is acknowledged (issue 11, item 2): right after
 * POST /config answers, after the primary logs "configuration loaded" for a SIGHUP, and after a DB-mode
 * admin write answers, no request on any worker is served by the old configuration. Each configuration
 * adds its own `x-config` header to every response (and, in DB mode, a route moves), so each response
 * says which configuration served it. The real process, two workers.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { admin, dbModeConfig } from '../db-mode/support.ts'
import { type GatehouseProcess, type LogLine, startGatehouse } from '../harness/gatehouse.ts'
import { startUpstream, type Upstream } from '../harness/upstream.ts'
import { distinct, fresh, type Sent, servedBy, until, versioned, workerPids } from './support.ts'

const LOADED = 'configuration loaded'
const BURST = 24

/** `BURST` requests at once, each on a connection of its own. */
const burst = (gh: GatehouseProcess, path: string) =>
  Promise.all(Array.from({ length: BURST }, () => fresh(gh, path)))

describe('reloading a node of two workers', () => {
  let upstream: Upstream
  let gh: GatehouseProcess
  let db: GatehouseProcess
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-workers-db-'))

  before(async () => {
    upstream = await startUpstream()
    ;[gh, db] = await Promise.all([
      startGatehouse({ args: ['--workers', '2'], timeout: 60_000, config: versioned(upstream.url, 'v1') }),
      startGatehouse({
        env: { GATEHOUSE_WORKERS: '2' },
        timeout: 60_000,
        config: dbModeConfig({ sqlite: { path: join(dir, 'gatehouse.db') } }, versioned(upstream.url, 'db1')),
      }),
    ])
  })
  after(async () => {
    await Promise.all([gh?.stop(), db?.stop()])
    await upstream?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  /** Asserts every response came from configuration `version`, and both workers served some. */
  async function allServedBy(node: GatehouseProcess, sent: readonly Sent[], version: string): Promise<void> {
    const versions = sent.map((s) => `${s.status} ${s.headers['x-config']}`)
    assert.deepEqual(distinct(versions), [`200 ${version}`], 'no response from another configuration')
    assert.deepEqual(
      distinct(await servedBy(node, sent)),
      distinct(await workerPids(node)),
      'both workers served',
    )
  }
  /** The next log line (after those seen so far) that matches. */
  const nextLine = (node: GatehouseProcess, match: (l: LogLine) => boolean) => {
    const seen = new Set(node.lines)
    return node.waitForLog((l) => !seen.has(l) && match(l), 20_000)
  }

  it('serves only the new configuration on every worker once POST /config has answered', async () => {
    await allServedBy(gh, await burst(gh, '/v'), 'v1')
    const workerLoaded = nextLine(gh, (l) => l.msg === LOADED && l.worker !== undefined)
    const res = await gh.admin('/config', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(versioned(upstream.url, 'v2')),
    })
    assert.equal(res.status, 201, await res.text())
    await allServedBy(gh, await burst(gh, '/v'), 'v2')
    // Each worker logged its own swap, naming itself.
    await workerLoaded
    const loaded = await until(
      async () => gh.lines.filter((l) => l.msg === LOADED && l.source === 'POST /config'),
      (lines) => lines.length >= 3,
    )
    assert.deepEqual(distinct(loaded.map((l) => String(l.worker))), ['0', '1', 'undefined'])
  })

  it('serves only the new configuration on every worker once the primary logged the SIGHUP reload', async () => {
    gh.writeConfig(versioned(upstream.url, 'v3'))
    const loaded = nextLine(
      gh,
      (l) => l.msg === LOADED && l.worker === undefined && l.source === gh.configFile,
    )
    gh.signal('SIGHUP')
    await loaded
    await allServedBy(gh, await burst(gh, '/v'), 'v3')
  })

  it('serves only the new configuration on every worker once a DB-mode admin write has answered', async () => {
    await allServedBy(db, await burst(db, '/v'), 'db1')
    const patched = await admin(db, 'PATCH', '/routes/v', { paths: ['/moved'] })
    assert.equal(patched.status, 200, JSON.stringify(patched.body))
    const gone = await burst(db, '/v')
    assert.deepEqual(distinct(gone.map((s) => s.status)), [404], 'the old path is gone on every worker')
    assert.deepEqual(distinct(await servedBy(db, gone)), distinct(await workerPids(db)))
    await allServedBy(db, await burst(db, '/moved'), 'db1')
  })
})
