/**
 * The identity provider's life with the process: a reload (SIGHUP) builds a new provider over the same
 * store (same keys, new users); `gatehouse identity start` runs it alone, with no routes; keys persist
 * across restarts, encrypted under identity.secret, and another secret cannot read them.
 */
import assert from 'node:assert/strict'
import type { ChildProcess } from 'node:child_process'
import { rmSync, writeFileSync } from 'node:fs'
import { after, before, describe, it } from 'node:test'
import { BIN, writeTempConfig } from '../harness/gatehouse.ts'
import { spawnTracked } from '../harness/resources.ts'
import {
  ALICE,
  freePort,
  type IdentityGateway,
  identitySection,
  ORDERS_API,
  SECRET,
  startIdentityGateway,
  WEB_SECRET,
} from './support/gateway.ts'
import { codeFlow, configFor } from './support/oidc.ts'

const DAVE = { username: 'dave', password: 'dave-password-12345' }

const kids = async (issuer: string) =>
  ((await (await fetch(`${issuer}/jwks`)).json()) as { keys: { kid: string }[] }).keys
    .map((k) => k.kid)
    .sort()

describe('the identity provider in the gateway’s lifecycle', () => {
  let gw: IdentityGateway
  before(async () => {
    gw = await startIdentityGateway()
  })
  after(async () => {
    await gw?.gh.stop()
  })

  it('reloads on SIGHUP with the same store and keys: new users sign in at once', async () => {
    const before = await kids(gw.issuer)
    const section = identitySection(gw.issuer)
    gw.gh.writeConfig({
      _format_version: '3.0',
      identity: { ...section, users: [...(section['users'] as object[]), DAVE] },
    })
    const seen = new Set(gw.gh.lines)
    gw.gh.signal('SIGHUP')
    await gw.gh.waitForLog((l) => !seen.has(l) && l.msg === 'identity provider reloaded')
    assert.deepEqual(await kids(gw.issuer), before)
    const web = await configFor(gw.issuer, 'web-app', WEB_SECRET)
    const tokens = await codeFlow(web, DAVE, { scope: 'openid', resource: ORDERS_API })
    assert.ok(tokens.access_token)
  })

  it('stops cleanly with the gateway', async () => {
    const { code } = await gw.gh.stop()
    assert.equal(code, 0)
    assert.equal(gw.gh.stderr, '')
  })
})

describe('gatehouse identity start', () => {
  let dir: string
  let file: string
  let port: number
  let issuer: string
  const children: ChildProcess[] = []
  before(async () => {
    port = await freePort()
    issuer = `http://127.0.0.1:${port}/oidc`
    ;({ dir, file } = writeTempConfig({ _format_version: '3.0', identity: identitySection(issuer) }))
  })
  after(() => {
    for (const c of children) c.kill('SIGKILL')
    rmSync(dir, { recursive: true, force: true })
  })

  /** Starts `gatehouse identity start`; resolves on its started line, or with its exit and stderr. */
  function start(): Promise<{ child: ChildProcess; started: boolean; stderr: string }> {
    const child = spawnTracked(
      'gatehouse identity',
      process.execPath,
      [BIN, 'identity', 'start', '--config', file, '--listen', `127.0.0.1:${port}`],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
    children.push(child)
    let stdout = ''
    let stderr = ''
    child.stderr!.setEncoding('utf8').on('data', (c: string) => {
      stderr += c
    })
    return new Promise((resolve) => {
      child.stdout!.setEncoding('utf8').on('data', (c: string) => {
        stdout += c
        if (stdout.includes('gatehouse identity provider started')) resolve({ child, started: true, stderr })
      })
      child.once('exit', () => resolve({ child, started: false, stderr }))
    })
  }

  const stop = (child: ChildProcess) =>
    new Promise<number | null>((resolve) => {
      child.once('exit', (code) => resolve(code))
      child.kill('SIGTERM')
    })

  it('serves the provider alone, and nothing else', async () => {
    const { child, started, stderr } = await start()
    assert.ok(started, stderr)
    const web = await configFor(issuer, 'web-app', WEB_SECRET)
    assert.equal(web.serverMetadata().issuer, issuer)
    assert.ok(await codeFlow(web, ALICE, { scope: 'openid', resource: ORDERS_API }))
    const other = await fetch(`http://127.0.0.1:${port}/orders`)
    assert.equal(other.status, 404)
    assert.equal(await stop(child), 0)
  })

  it('keeps its keys across restarts, and refuses to start when identity.secret cannot read them', async () => {
    const first = await start()
    assert.ok(first.started, first.stderr)
    const before = await kids(issuer)
    assert.equal(await stop(first.child), 0)

    const second = await start()
    assert.ok(second.started, second.stderr)
    assert.deepEqual(await kids(issuer), before)
    assert.equal(await stop(second.child), 0)

    writeFileSync(
      file,
      JSON.stringify({
        _format_version: '3.0',
        identity: identitySection(issuer, { secret: `${SECRET}-changed` }),
      }),
    )
    const refused = await start()
    assert.equal(refused.started, false)
    assert.match(refused.stderr, /gatehouse: signing key \S+ cannot be decrypted with identity.secret/)
    assert.equal(refused.child.exitCode, 1)
  })
})
