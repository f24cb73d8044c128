/**
 * API composition when parts fail (issue 6), against real misbehaving services: a partial answer keeps
 * what arrived and marks what is missing, a service's own 4xx and 5xx apart from answers the gateway
 * cannot use (issue 15), a failed required part or a failure of every part fails the whole answer (502,
 * 504 when every failure was a timeout, the service's status when every deciding part was refused), a
 * required part's 404 is passed through, and no service that never answers can hold the response past
 * the composition's deadline.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { assertFetchedError } from '../harness/error-body.ts'
import { type GatehouseProcess, startGatehouse } from '../harness/gatehouse.ts'
import { closedPort } from '../harness/upstream.ts'
import { json, type PartService, startBlackhole, startPartService } from './support.ts'

const DEADLINE = 600

interface PartError {
  code: string
  message: string
  status?: number
}

describe('composition: partial and whole failures', () => {
  let fast: PartService
  let odd: PartService
  let blackhole: Awaited<ReturnType<typeof startBlackhole>>
  let gh: GatehouseProcess

  before(async () => {
    fast = await startPartService('fast')
    odd = await startPartService('odd', (req, res) => {
      switch (req.url) {
        case '/missing':
          return json(res, 404, { message: 'no such product' })
        case '/error':
          return json(res, 500, { message: 'boom' })
        case '/forbidden':
          return json(res, 403, { message: 'not for this caller' })
        case '/unauthorized':
          return json(res, 401, { message: 'who are you?' })
        case '/invalid-id':
          return json(res, 400, { message: 'bad id' })
        case '/moved':
          res.writeHead(302, { location: '/elsewhere', 'content-type': 'application/json' }).end('{}')
          return
        case '/html':
          res.writeHead(200, { 'content-type': 'text/html' }).end('<p>hello</p>')
          return
        case '/not-json':
          res.writeHead(200, { 'content-type': 'application/json' }).end('{"unfinished":')
          return
        case '/big':
          return json(res, 200, { blob: 'x'.repeat(1024 * 1024) })
        case '/reset':
          req.socket.destroy()
          return
        case '/stall':
          // Headers, then a body that never finishes.
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' })
          res.write('{"partial":')
          return
        default:
          // Written by hand: a number beyond double precision, which re-serialising would round.
          res.writeHead(200, { 'content-type': 'application/json' })
          res.end(`{"path":"${req.url}","big":12345678901234567890}`)
          return
      }
    })
    blackhole = await startBlackhole()
    const down = `http://127.0.0.1:${await closedPort()}`
    const part = (name: string, service: string, path: string, more: object = {}) => ({
      name,
      service,
      path,
      public: true,
      ...more,
    })
    const route = (name: string, parts: object[], timeout = 1500) => ({
      name,
      paths: [`~/${name}/(?<id>[a-z0-9-]+)$`],
      composition: { timeout, parts },
    })
    gh = await startGatehouse({
      config: {
        _format_version: '3.0',
        services: [
          { name: 'fast', url: fast.url },
          { name: 'odd', url: odd.url },
          { name: 'blackhole', url: blackhole.url },
          { name: 'down', url: down, retries: 0 },
          { name: 'disabled', url: fast.url, enabled: false },
        ],
        routes: [
          route('partial', [
            part('fast', 'fast', '/items/{id}'),
            part('never', 'blackhole', '/items/{id}', { timeout: 300 }),
            part('stalled', 'odd', '/stall', { timeout: 300 }),
            part('down', 'down', '/items/{id}'),
          ]),
          route('invalid', [
            part('fast', 'fast', '/items/{id}'),
            part('missing', 'odd', '/missing'),
            part('error', 'odd', '/error'),
            part('forbidden', 'odd', '/forbidden'),
            part('invalid_id', 'odd', '/invalid-id'),
            part('moved', 'odd', '/moved'),
            part('html', 'odd', '/html'),
            part('not_json', 'odd', '/not-json'),
            part('big', 'odd', '/big'),
            part('reset', 'odd', '/reset'),
            part('disabled', 'disabled', '/items/{id}'),
          ]),
          route('required-down', [
            part('fast', 'fast', '/items/{id}'),
            part('product', 'down', '/items/{id}', { required: true }),
          ]),
          route('required-slow', [
            part('fast', 'fast', '/items/{id}'),
            part('product', 'blackhole', '/items/{id}', { required: true, timeout: 300 }),
          ]),
          route('all-down', [part('a', 'down', '/a/{id}'), part('b', 'down', '/b/{id}')]),
          route('required-refused', [
            part('fast', 'fast', '/items/{id}'),
            part('reviews', 'odd', '/error'),
            part('product', 'odd', '/forbidden', { required: true }),
          ]),
          route('all-refused', [part('a', 'odd', '/unauthorized'), part('b', 'odd', '/forbidden')]),
          route('required-refused-and-down', [
            part('product', 'odd', '/forbidden', { required: true }),
            part('price', 'down', '/items/{id}', { required: true }),
          ]),
          route(
            'all-stalled',
            [part('never', 'blackhole', '/items/{id}'), part('stalled', 'odd', '/stall')],
            DEADLINE,
          ),
          route('product', [
            part('product', 'odd', '/missing', { required: true }),
            part('fast', 'fast', '/items/{id}'),
          ]),
          route('precise', [part('odd', 'odd', '/items/{id}')]),
        ],
      },
    })
  })

  after(async () => {
    await gh?.stop()
    await Promise.all([fast?.close(), odd?.close(), blackhole?.close()])
  })

  it('returns the parts that arrived, null and an _errors entry for the others, and X-Gatehouse-Completed: false', async () => {
    const started = performance.now()
    const res = await gh.proxy('/partial/p-1', { headers: { 'x-request-id': 'partial-1' } })
    const elapsed = performance.now() - started
    assert.equal(res.status, 200)
    assert.equal(res.headers.get('x-gatehouse-completed'), 'false')
    const body = (await res.json()) as Record<string, unknown> & { _errors: Record<string, PartError> }
    assert.deepEqual(body.fast, { service: 'fast', url: '/items/p-1' })
    assert.equal(body.never, null)
    assert.equal(body.stalled, null)
    assert.equal(body.down, null)
    assert.deepEqual(body._errors, {
      never: { code: 'GH_ERR_UPSTREAM_TIMEOUT', message: 'no answer within 300 ms' },
      stalled: { code: 'GH_ERR_UPSTREAM_TIMEOUT', message: 'no answer within 300 ms' },
      down: { code: 'GH_ERR_UPSTREAM_UNAVAILABLE', message: 'the service refused or dropped the connection' },
    })
    assert.deepEqual(Object.keys(body), ['fast', 'never', 'stalled', 'down', '_errors'])
    // The slow parts' own timeout, not the composition's, decided when to answer.
    assert.ok(elapsed < 1500, `answered after ${elapsed} ms`)
    const line = await gh.waitForLog((l) => l.type === 'access' && l.request_id === 'partial-1')
    assert.equal(line.status, 200)
    assert.equal(line.route, 'partial')
    assert.deepEqual(line.failed_parts, ['never', 'stalled', 'down'])
    assert.deepEqual(line.part_errors, {
      never: { code: 'GH_ERR_UPSTREAM_TIMEOUT' },
      stalled: { code: 'GH_ERR_UPSTREAM_TIMEOUT' },
      down: { code: 'GH_ERR_UPSTREAM_UNAVAILABLE' },
    })
    assert.equal(line.error_code, undefined, 'a partial answer is not an error')
    assert.equal(res.headers.get('x-gatehouse-error'), null)
  })

  it("marks refused (4xx), failed (5xx), unusable, non-JSON, oversized, reset and disabled parts with their code and the service's status", async () => {
    const res = await gh.proxy('/invalid/p-2', { headers: { 'x-request-id': 'invalid-2' } })
    assert.equal(res.status, 200)
    assert.equal(res.headers.get('x-gatehouse-completed'), 'false')
    const body = (await res.json()) as Record<string, unknown> & { _errors: Record<string, PartError> }
    assert.deepEqual(body.fast, { service: 'fast', url: '/items/p-2' })
    const invalid = 'GH_ERR_UPSTREAM_INVALID_RESPONSE'
    const refused = 'GH_ERR_COMPOSITION_PART_REFUSED'
    assert.deepEqual(body._errors, {
      missing: { code: refused, message: 'the service refused the request (404)', status: 404 },
      error: {
        code: 'GH_ERR_COMPOSITION_PART_FAILED',
        message: 'the service failed to answer (500)',
        status: 500,
      },
      forbidden: { code: refused, message: 'the service refused the request (403)', status: 403 },
      invalid_id: { code: refused, message: 'the service refused the request (400)', status: 400 },
      moved: { code: invalid, message: 'the service answered 302', status: 302 },
      html: { code: invalid, message: 'the answer is not JSON', status: 200 },
      not_json: { code: invalid, message: 'the answer is not JSON', status: 200 },
      big: { code: invalid, message: 'the answer is larger than 1048576 bytes', status: 200 },
      reset: {
        code: 'GH_ERR_UPSTREAM_UNAVAILABLE',
        message: 'the service refused or dropped the connection',
      },
      disabled: { code: 'GH_ERR_SERVICE_DISABLED', message: 'the service is disabled' },
    })
    for (const name of Object.keys(body._errors)) assert.equal(body[name], null, name)
    const line = await gh.waitForLog((l) => l.type === 'access' && l.request_id === 'invalid-2')
    const logged = line.part_errors as Record<string, { code: string; status?: number }>
    assert.deepEqual(logged.forbidden, { code: refused, status: 403 })
    assert.deepEqual(logged.error, { code: 'GH_ERR_COMPOSITION_PART_FAILED', status: 500 })
    assert.deepEqual(logged.reset, { code: 'GH_ERR_UPSTREAM_UNAVAILABLE' })
    assert.deepEqual(line.failed_parts, Object.keys(body._errors))
  })

  it("answers a required part's refusal with the service's status and GH_ERR_COMPOSITION_PART_REFUSED, not 502", async () => {
    const res = await gh.proxy('/required-refused/p-9', { headers: { 'x-request-id': 'required-refused-1' } })
    assert.equal(res.status, 403)
    const body = await assertFetchedError(res, {
      code: 'GH_ERR_COMPOSITION_PART_REFUSED',
      message: "The composition's part was refused by its service: product (403)",
    })
    const line = await gh.waitForLog((l) => l.type === 'access' && l.request_id === body.request_id)
    assert.equal(line.status, 403)
    assert.equal(line.error_code, 'GH_ERR_COMPOSITION_PART_REFUSED')
    assert.deepEqual(line.failed_parts, ['reviews', 'product'])
    assert.deepEqual(line.part_errors, {
      reviews: { code: 'GH_ERR_COMPOSITION_PART_FAILED', status: 500 },
      product: { code: 'GH_ERR_COMPOSITION_PART_REFUSED', status: 403 },
    })
  })

  it('answers with the first refusal when every part was refused, and 502 when a deciding part failed otherwise', async () => {
    const all = await gh.proxy('/all-refused/p-10')
    // The first refusal is a 401, which would need a challenge only that part could give: 403.
    assert.equal(all.status, 403)
    assert.equal(all.headers.get('www-authenticate'), null)
    await assertFetchedError(all, {
      code: 'GH_ERR_COMPOSITION_PART_REFUSED',
      message: "The composition's parts were refused by their services: a (401), b (403)",
    })
    const mixed = await gh.proxy('/required-refused-and-down/p-11')
    assert.equal(mixed.status, 502)
    await assertFetchedError(mixed, {
      code: 'GH_ERR_COMPOSITION_FAILED',
      message: 'The composition failed; failed parts: product, price',
    })
  })

  it('keeps each answer as the service wrote it, numbers included', async () => {
    const res = await gh.proxy('/precise/p-3')
    assert.equal(res.status, 200)
    const text = await res.text()
    assert.equal(text, '{"odd":{"path":"/items/p-3","big":12345678901234567890}}')
  })

  it('fails with 502 naming the part when a required part fails', async () => {
    const res = await gh.proxy('/required-down/p-4')
    assert.equal(res.status, 502)
    assert.equal(res.headers.get('x-gatehouse-completed'), null)
    await assertFetchedError(res, {
      code: 'GH_ERR_COMPOSITION_FAILED',
      message: 'The composition failed; failed parts: product',
    })
  })

  it('fails with 504 when a required part times out', async () => {
    const res = await gh.proxy('/required-slow/p-5')
    assert.equal(res.status, 504)
    const body = (await res.json()) as { code: string; message: string }
    assert.equal(body.code, 'GH_ERR_UPSTREAM_TIMEOUT')
    assert.equal(body.message, 'The composition timed out; no answer from: product')
  })

  it('fails with 502 when every part is down', async () => {
    const res = await gh.proxy('/all-down/p-6', { headers: { 'x-request-id': 'all-down-1' } })
    assert.equal(res.status, 502)
    const body = (await res.json()) as { code: string; message: string }
    assert.equal(body.code, 'GH_ERR_COMPOSITION_FAILED')
    assert.equal(body.message, 'The composition failed; failed parts: a, b')
    const line = await gh.waitForLog((l) => l.type === 'access' && l.request_id === 'all-down-1')
    assert.equal(line.status, 502)
    assert.equal(line.error_code, 'GH_ERR_COMPOSITION_FAILED')
    assert.deepEqual(line.failed_parts, ['a', 'b'])
  })

  it('answers 504 at the deadline when no part ever answers, whether headers or body never come', async () => {
    const started = performance.now()
    const res = await gh.proxy('/all-stalled/p-7')
    const elapsed = performance.now() - started
    assert.equal(res.status, 504)
    const body = (await res.json()) as { code: string; message: string }
    assert.equal(body.code, 'GH_ERR_UPSTREAM_TIMEOUT')
    assert.equal(body.message, 'The composition timed out; no answer from: never, stalled')
    assert.ok(
      elapsed < DEADLINE + 1000,
      `answered after ${elapsed} ms, long past the ${DEADLINE} ms deadline`,
    )
    assert.ok(blackhole.connections() > 0)
  })

  it('passes a required part’s 404 through: the thing does not exist', async () => {
    const res = await gh.proxy('/product/p-8')
    assert.equal(res.status, 404)
    assert.equal(res.headers.get('content-type'), 'application/json')
    assert.deepEqual(await res.json(), { message: 'no such product' })
    assert.equal(res.headers.get('x-gatehouse-error'), null, "the service's answer, not the gateway's")
  })
})
