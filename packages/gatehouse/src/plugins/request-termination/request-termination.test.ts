/**
 * request-termination through the real gateway: Kong's default and custom statuses, messages and raw
 * bodies, the echo with its trigger (header or query parameter), credentials hidden from the echo, and
 * scoping to one consumer (it runs after authentication).
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { assertErrorBody } from '../../../test/harness/error-body.ts'
import { type GatehouseProcess, startGatehouse } from '../../../test/harness/gatehouse.ts'
import { startUpstream, type Upstream } from '../../../test/harness/upstream.ts'

interface Echo {
  message: string
  code: string
  kong: { worker_pid: number }
  request: {
    method: string
    path: string
    scheme: string
    host: string
    query: object
    body: unknown
    raw_body: string
    headers: Record<string, string>
    uri_captures: { named: object }
  }
  matched_route: { name: string }
  matched_service: Record<string, unknown>
}

const terminated = (name: string, config: object, path = `/${name}`) => ({
  name,
  paths: [path],
  plugins: [{ name: 'request-termination', config }],
})

describe('the request-termination plugin', () => {
  let upstream: Upstream
  let gh: GatehouseProcess
  before(async () => {
    upstream = await startUpstream()
    gh = await startGatehouse({
      config: {
        _format_version: '3.0',
        services: [
          {
            name: 'svc',
            url: upstream.url,
            routes: [
              terminated('default', {}),
              terminated('not-found', { status_code: 404 }),
              terminated('invalid', { status_code: 406, message: 'Invalid' }),
              terminated('teapot', { status_code: 418 }),
              terminated('html', {
                status_code: 451,
                content_type: 'text/html',
                body: '<html><body><h1>Service is down due to content infringement</h1></body></html>',
              }),
              terminated('ok', { status_code: 200, message: 'All good' }),
              terminated('empty', { status_code: 204 }),
              terminated(
                'echo',
                { echo: true, status_code: 404, trigger: 'gimme-an-echo' },
                '~/echo/(?<parameter>\\w+)$',
              ),
              {
                name: 'keyed',
                paths: ['/keyed'],
                plugins: [{ name: 'key-auth' }],
              },
            ],
          },
        ],
        consumers: [
          { username: 'alice', keyauth_credentials: [{ key: 'alice-key' }] },
          {
            username: 'mallory',
            keyauth_credentials: [{ key: 'mallory-key' }],
            plugins: [{ name: 'request-termination', config: { status_code: 403, message: 'Go away' } }],
          },
        ],
      },
    })
  })
  after(async () => {
    await gh?.stop()
    await upstream?.close()
  })

  async function answer(path: string, init?: RequestInit) {
    const res = await gh.proxy(path, init)
    return { status: res.status, headers: res.headers, body: await res.text() }
  }

  it("answers 503 with Kong's message by default, in the gateway's error body, without calling the upstream", async () => {
    const before = upstream.requests.length
    const res = await answer('/default')
    assert.equal(res.status, 503)
    assertErrorBody(res, { kong: { message: 'Service unavailable' }, code: 'GH_ERR_REQUEST_TERMINATED' })
    assert.equal(upstream.requests.length, before)
    const line = await gh.waitForLog((l) => l.type === 'access' && l.route === 'default')
    assert.equal(line.status, 503)
    assert.equal(line.error_code, 'GH_ERR_REQUEST_TERMINATED')
  })

  it("uses Kong's default message for the status, or the configured one", async () => {
    const notFound = await answer('/not-found')
    assert.equal(notFound.status, 404)
    assertErrorBody(notFound, { kong: { message: 'Not found' }, code: 'GH_ERR_REQUEST_TERMINATED' })
    const invalid = await answer('/invalid')
    assert.equal(invalid.status, 406)
    assertErrorBody(invalid, { kong: { message: 'Invalid' }, code: 'GH_ERR_REQUEST_TERMINATED' })
    const teapot = await answer('/teapot')
    assert.equal(teapot.status, 418)
    assertErrorBody(teapot, { code: 'GH_ERR_REQUEST_TERMINATED', message: "I'm a Teapot" })
  })

  it('sends a raw body as written, with its content type', async () => {
    const res = await answer('/html')
    assert.equal(res.status, 451)
    assert.equal(res.body, '<html><body><h1>Service is down due to content infringement</h1></body></html>')
    assert.equal(res.headers.get('content-type'), 'text/html')
    assert.equal(res.headers.get('x-gatehouse-error'), 'GH_ERR_REQUEST_TERMINATED')
  })

  it("answers a success status with Kong's plain message body, and 204 with no body", async () => {
    const ok = await answer('/ok')
    assert.equal(ok.status, 200)
    assert.deepEqual(JSON.parse(ok.body), { message: 'All good' })
    assert.equal(ok.headers.get('x-gatehouse-error'), null)
    const empty = await answer('/empty')
    assert.equal(empty.status, 204)
    assert.equal(empty.body, '')
    assert.equal(empty.headers.get('content-length'), null)
  })

  it('lets requests without the trigger through to the upstream', async () => {
    const before = upstream.requests.length
    const res = await answer('/echo/status')
    assert.equal(res.status, 200)
    assert.equal(upstream.requests.length, before + 1)
  })

  it('echoes a request that carries the trigger header, hiding its credentials', async () => {
    const res = await answer('/echo/status?hello=there', {
      method: 'POST',
      headers: {
        'gimme-an-echo': 'yes',
        'content-type': 'application/json',
        authorization: 'Basic c2VjcmV0OnNlY3JldA==',
        cookie: 'session=very-secret',
      },
      body: '{"cool":"body"}',
    })
    assert.equal(res.status, 404)
    assert.doesNotMatch(res.body, /very-secret|c2VjcmV0/)
    const echo = JSON.parse(res.body) as Echo
    assert.equal(echo.message, 'Not found')
    assert.equal(echo.code, 'GH_ERR_REQUEST_TERMINATED')
    assert.equal(echo.kong.worker_pid, gh.child.pid)
    const request = echo.request
    assert.equal(request.method, 'POST')
    assert.equal(request.path, '/echo/status')
    assert.equal(request.scheme, 'http')
    assert.equal(request.host, '127.0.0.1')
    assert.deepEqual(request.query, { hello: 'there' })
    assert.deepEqual(request.body, { cool: 'body' })
    assert.equal(request.raw_body, '{"cool":"body"}')
    assert.equal(request.headers['gimme-an-echo'], 'yes')
    assert.equal(request.headers.authorization, '[hidden]')
    assert.equal(request.headers.cookie, '[hidden]')
    assert.deepEqual(request.uri_captures.named, { parameter: 'status' })
    assert.equal(echo.matched_route.name, 'echo')
    assert.equal(echo.matched_service.name, 'svc')
    assert.equal('client_certificate' in echo.matched_service, false)
  })

  it('echoes a request that carries the trigger as a query parameter', async () => {
    const res = await answer('/echo/status?gimme-an-echo')
    assert.equal(res.status, 404)
    assert.deepEqual((JSON.parse(res.body) as { request: { query: object } }).request.query, {
      'gimme-an-echo': '',
    })
  })

  it('runs after authentication, so it can shut out one consumer', async () => {
    assert.equal((await answer('/keyed', { headers: { apikey: 'alice-key' } })).status, 200)
    const res = await answer('/keyed', { headers: { apikey: 'mallory-key' } })
    assert.equal(res.status, 403)
    assertErrorBody(res, { kong: { message: 'Go away' }, code: 'GH_ERR_REQUEST_TERMINATED' })
  })
})
