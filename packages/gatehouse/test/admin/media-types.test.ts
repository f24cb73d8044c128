/**
 * What admin writes accept as a body (issue 10, section 1), against real gateways (DB-less, and DB mode
 * on SQLite): application/json (with parameters, and `+json` types) everywhere, YAML on POST /config
 * only; forms, multipart, text/plain and bodies without a type get 415
 * GH_ERR_ADMIN_UNSUPPORTED_MEDIA_TYPE with the accepted types in Accept-Post (Accept-Patch), before the
 * body is read and with nothing changed. Writes without a body (a key rotation) are not affected.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { stringify } from 'yaml'
import { admin, dbModeConfig } from '../db-mode/support.ts'
import { type GatehouseProcess, startGatehouse } from '../harness/gatehouse.ts'
import { rawRequest } from '../harness/http.ts'
import { startUpstream, type Upstream } from '../harness/upstream.ts'

interface Envelope {
  message: string
  code: string
  error: string
  statusCode: number
}

const YAML_TYPES = 'application/json, application/yaml, application/x-yaml, text/yaml, text/x-yaml'
const MAX_BODY = 4096

async function refused415(res: Response, what: string): Promise<Envelope> {
  assert.equal(res.status, 415, what)
  const body = (await res.json()) as Envelope
  assert.equal(body.code, 'GH_ERR_ADMIN_UNSUPPORTED_MEDIA_TYPE', what)
  assert.equal(body.error, 'Unsupported Media Type')
  return body
}

describe('admin write bodies on a DB-less gateway', () => {
  let upstream: Upstream
  let gh: GatehouseProcess
  const config = (name: string) => ({
    _format_version: '3.0',
    admin: { max_body_size: MAX_BODY },
    services: [{ name, url: upstream.url, routes: [{ name, paths: [`/${name}`] }] }],
  })
  const hash = async () => ((await (await gh.admin('/config')).json()) as { config_hash: string }).config_hash
  const services = async () =>
    ((await (await gh.admin('/services')).json()) as { data: { name: string }[] }).data.map((s) => s.name)
  const postConfig = (body: NonNullable<RequestInit['body']>, type?: string) =>
    gh.admin('/config', { method: 'POST', headers: type ? { 'content-type': type } : {}, body })

  before(async () => {
    upstream = await startUpstream()
    gh = await startGatehouse({ config: { ...config('first'), admin: { max_body_size: MAX_BODY } } })
  })
  after(async () => {
    await gh?.stop()
    await upstream?.close()
  })

  it('refuses POST /config as a form, multipart, text/plain or untyped with 415, naming what it takes', async () => {
    const before = await hash()
    const yaml = stringify(config('attacker'))
    const multipart = new FormData()
    multipart.set('config', new Blob([yaml]), 'kong.yml')
    const cases: [string, Promise<Response>][] = [
      ['multipart/form-data', postConfig(multipart)],
      [
        'urlencoded',
        postConfig(new URLSearchParams({ config: yaml }).toString(), 'application/x-www-form-urlencoded'),
      ],
      // fetch labels a string body text/plain;charset=UTF-8 itself, as a page's fetch would.
      ['text/plain', postConfig(JSON.stringify(config('attacker')))],
      ['text/html', postConfig(yaml, 'text/html')],
      ['application/jsonp', postConfig(JSON.stringify(config('attacker')), 'application/jsonp')],
    ]
    for (const [what, pending] of cases) {
      const res = await pending
      assert.equal(res.headers.get('accept-post'), YAML_TYPES, what)
      const body = await refused415(res, what)
      assert.match(body.message, /^POST \/config takes application\/json, application\/yaml, /)
    }
    const plain = await refused415(await postConfig('x', 'text/plain;charset=UTF-8'), 'text/plain message')
    assert.equal(
      plain.message,
      `POST /config takes ${YAML_TYPES}, not 'text/plain': forms, multipart and text/plain are refused (any web page can send them)`,
    )

    // curl --data-binary without -H, minus the urlencoded label curl adds: no type at all.
    const untyped = await rawRequest(`${gh.adminUrl}/config`, { method: 'POST', body: yaml })
    assert.equal(untyped.status, 415)
    assert.equal(
      JSON.parse(untyped.body).message,
      `the body has no Content-Type: POST /config takes ${YAML_TYPES}`,
    )

    assert.equal(await hash(), before)
    assert.deepEqual(await services(), ['first'])
  })

  it('refuses before reading the body: a text/plain body over admin.max_body_size is a 415, not a 413', async () => {
    const res = await postConfig(`# ${'x'.repeat(MAX_BODY * 4)}`, 'text/plain')
    await refused415(res, 'big text/plain')
  })

  it('loads JSON with parameters, a +json type and every YAML type on POST /config', async () => {
    const cases: [string, string][] = [
      ['application/json; charset=utf-8', JSON.stringify(config('json'))],
      ['Application/JSON', JSON.stringify(config('upper'))],
      ['application/vnd.kong.config+json', JSON.stringify(config('suffix'))],
      ['application/yaml', stringify(config('yaml'))],
      ['application/x-yaml', stringify(config('xyaml'))],
      ['text/yaml; charset=utf-8', stringify(config('textyaml'))],
      ['text/x-yaml', stringify(config('textxyaml'))],
    ]
    for (const [type, body] of cases) {
      const res = await postConfig(body, type)
      assert.equal(res.status, 201, type)
      await res.body?.cancel()
    }
    assert.deepEqual(await services(), ['textxyaml'])
  })

  it('takes JSON only on other writes: YAML, forms and text/plain get 415 with Accept-Post or Accept-Patch', async () => {
    const revocation = JSON.stringify({ subject: 'u-1' })
    for (const type of ['application/yaml', 'application/x-www-form-urlencoded', 'text/plain']) {
      const res = await gh.admin('/revocations', {
        method: 'POST',
        headers: { 'content-type': type },
        body: revocation,
      })
      assert.equal(res.headers.get('accept-post'), 'application/json', type)
      const body = await refused415(res, `POST /revocations ${type}`)
      assert.equal(
        body.message,
        `an admin write takes application/json, not '${type}': forms, multipart and text/plain are refused (any web page can send them)`,
      )
    }
    const listed = (await (await gh.admin('/revocations')).json()) as { data: unknown[] }
    assert.deepEqual(listed.data, [], 'nothing was revoked')

    const patch = await gh.admin('/services/textxyaml', {
      method: 'PATCH',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'name=x',
    })
    assert.equal(patch.headers.get('accept-patch'), 'application/json')
    await refused415(patch, 'PATCH form')
    const del = await gh.admin('/services/textxyaml', {
      method: 'DELETE',
      headers: { 'content-type': 'text/plain' },
      body: 'x',
    })
    assert.equal(del.headers.get('accept-post'), null)
    await refused415(del, 'DELETE with a text/plain body')
    const json = await gh.admin('/revocations', {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: revocation,
    })
    assert.equal(json.status, 201)
    await json.body?.cancel()
  })

  it('lets writes without a body through, whatever their type says', async () => {
    const rotated = await gh.admin('/internal-tokens/keys/rotate', { method: 'POST' })
    assert.equal(rotated.status, 201)
    await rotated.body?.cancel()
    const typed = await gh.admin('/internal-tokens/keys/rotate', {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
    })
    assert.equal(typed.status, 201, 'an empty body holds nothing to misread')
    await typed.body?.cancel()
    const del = await gh.admin('/services/textxyaml', { method: 'DELETE' })
    assert.equal(del.status, 405, 'DB-less: the route answers, not the media-type rule')
    await del.body?.cancel()
  })

  it('logs each 415 with its code and the type sent', async () => {
    let line: Record<string, unknown> | undefined
    for (let i = 0; i < 40 && line === undefined; i++) {
      line = gh.lines.find(
        (l) => l.msg === 'admin request refused' && l.code === 'GH_ERR_ADMIN_UNSUPPORTED_MEDIA_TYPE',
      )
      if (line === undefined) await sleep(50)
    }
    assert.ok(line, 'a refusal line')
    assert.equal(typeof line.content_type, 'string')
  })
})

describe('admin write bodies in DB mode (SQLite)', () => {
  let gh: GatehouseProcess
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-media-'))
  before(async () => {
    gh = await startGatehouse({ config: dbModeConfig({ sqlite: { path: join(dir, 'gatehouse.db') } }) })
  })
  after(async () => {
    await gh?.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  it('creates nothing from a form or text/plain, and the same entity as JSON', async () => {
    for (const type of [
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'text/plain',
    ]) {
      const res = await rawRequest(`${gh.adminUrl}/services`, {
        method: 'POST',
        headers: { 'content-type': type },
        body: type.startsWith('text')
          ? '{"name":"orders","url":"http://127.0.0.1:9"}'
          : 'name=orders&url=http%3A%2F%2F127.0.0.1%3A9',
      })
      assert.equal(res.status, 415, type)
      assert.equal(JSON.parse(res.body).code, 'GH_ERR_ADMIN_UNSUPPORTED_MEDIA_TYPE')
    }
    assert.deepEqual((await admin(gh, 'GET', '/services')).body.data, [])
    const created = await admin(gh, 'POST', '/services', { name: 'orders', url: 'http://127.0.0.1:9' })
    assert.equal(created.status, 201)
    const patched = await rawRequest(`${gh.adminUrl}/services/orders`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/merge-patch+json' },
      body: JSON.stringify({ retries: 2 }),
    })
    assert.equal(patched.status, 200, 'a +json type is JSON')
    assert.equal(JSON.parse(patched.body).retries, 2)
  })
})
