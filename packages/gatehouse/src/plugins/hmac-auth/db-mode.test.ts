/**
 * hmac-auth in DB mode (SQLite): a credential created through the admin API, Kong's way
 * (spec/03-plugins/19-hmac-auth/02-api_spec.lua: `POST /consumers/{c}/hmac-auth`, a generated secret
 * shown once created, `/hmac-auths/{username}`), opens a route at once; deleting it closes the route.
 */
import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { admin, dbModeConfig } from '../../../test/db-mode/support.ts'
import { type GatehouseProcess, startGatehouse } from '../../../test/harness/gatehouse.ts'
import { startUpstream, type Upstream } from '../../../test/harness/upstream.ts'

function signedHeaders(username: string, secret: string, target: string): Record<string, string> {
  const date = new Date().toUTCString()
  const signature = createHmac('sha512', secret)
    .update(`date: ${date}\n@request-target: get ${target}`)
    .digest('base64')
  return {
    date,
    authorization: `hmac username="${username}", algorithm="hmac-sha512", headers="date @request-target", signature="${signature}"`,
  }
}

describe('hmac-auth credentials in DB mode (SQLite)', () => {
  let upstream: Upstream
  let gh: GatehouseProcess
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-hmac-db-'))

  before(async () => {
    upstream = await startUpstream()
    gh = await startGatehouse({ config: dbModeConfig({ sqlite: { path: join(dir, 'gatehouse.db') } }) })
  })
  after(async () => {
    await gh?.stop()
    await upstream?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('creates a credential with a generated secret through the admin API, and it opens the route', async () => {
    assert.equal((await admin(gh, 'POST', '/services', { name: 'svc', url: upstream.url })).status, 201)
    assert.equal(
      (await admin(gh, 'POST', '/services/svc/routes', { name: 'r', paths: ['/signed'] })).status,
      201,
    )
    assert.equal((await admin(gh, 'POST', '/routes/r/plugins', { name: 'hmac-auth' })).status, 201)
    const bob = await admin(gh, 'POST', '/consumers', { username: 'bob', custom_id: '1234' })
    assert.equal(bob.status, 201)

    const missing = await admin(gh, 'POST', '/consumers/bob/hmac-auth', {})
    assert.equal(missing.status, 400)
    assert.match(JSON.stringify(missing.body), /username/)

    const created = await admin(gh, 'POST', '/consumers/bob/hmac-auth', {
      username: 'bob-signer',
      tags: ['t1'],
    })
    assert.equal(created.status, 201)
    assert.deepEqual(created.body.consumer, { id: bob.body.id })
    assert.deepEqual(created.body.tags, ['t1'])
    const secret = created.body.secret as string
    assert.match(secret, /^[A-Za-z0-9_-]{32}$/, 'a generated secret is shown, as Kong shows it')
    assert.equal((await admin(gh, 'GET', '/hmac-auths/bob-signer')).body.secret, secret)
    assert.equal((await admin(gh, 'GET', '/consumers/bob/hmac-auth')).body.data.length, 1)

    const res = await gh.proxy('/signed/x', { headers: signedHeaders('bob-signer', secret, '/signed/x') })
    assert.equal(res.status, 200, await res.clone().text())
    const echo = (await res.json()) as { headers: Record<string, string> }
    assert.equal(echo.headers['x-consumer-username'], 'bob')
    assert.equal(echo.headers['x-credential-identifier'], 'bob-signer')

    // A second credential with the same username is Kong's 409.
    assert.equal(
      (await admin(gh, 'POST', '/consumers/bob/hmac-auth', { username: 'bob-signer' })).status,
      409,
    )

    assert.equal((await admin(gh, 'DELETE', '/hmac-auths/bob-signer')).status, 204)
    const after = await gh.proxy('/signed/x', { headers: signedHeaders('bob-signer', secret, '/signed/x') })
    assert.equal(after.status, 401)
    assert.equal(((await after.json()) as { message: string }).message, 'HMAC signature cannot be verified')
  })
})
