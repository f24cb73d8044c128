import assert from 'node:assert/strict'
import { request } from 'node:http'
import { after, before, describe, it } from 'node:test'
import { type GatehouseProcess, startGatehouse } from '../../../test/harness/gatehouse.ts'
import { closedPort, echoHandler, startUpstream, type Upstream } from '../../../test/harness/upstream.ts'

function route(name: string, config: object) {
  return { name, paths: [`/${name}`], plugins: [{ name: 'response-transformer', config }] }
}

interface RawResponse {
  status: number
  /** Values per lower-cased header name, one per header line, in order. */
  lines: Map<string, string[]>
}

/** A GET that keeps each response header line apart (fetch joins repeated headers). */
function getRaw(url: string): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    request(url, (res) => {
      const lines = new Map<string, string[]>()
      for (let i = 0; i < res.rawHeaders.length; i += 2) {
        const name = res.rawHeaders[i]!.toLowerCase()
        lines.set(name, [...(lines.get(name) ?? []), res.rawHeaders[i + 1]!])
      }
      res.resume()
      res.once('end', () => resolve({ status: res.statusCode ?? 0, lines }))
    })
      .once('error', reject)
      .end()
  })
}

describe('the response-transformer plugin', () => {
  let upstream: Upstream
  let gh: GatehouseProcess
  before(async () => {
    upstream = await startUpstream((req, res) => {
      res.setHeader('x-upstream-remove', 'gone')
      res.setHeader('server', 'upstream/1.0')
      res.setHeader('x-old-name', 'moved')
      res.setHeader('x-rr', 'renamed')
      res.setHeader('x-replace-me', 'original')
      res.setHeader('x-present', 'upstream')
      res.setHeader('x-append', 'first')
      echoHandler(req, res)
    })
    const down = await closedPort()
    gh = await startGatehouse({
      config: {
        _format_version: '3.0',
        services: [
          {
            name: 'svc',
            url: upstream.url,
            routes: [
              route('headers', {
                remove: { headers: ['x-upstream-remove', 'Server'] },
                rename: { headers: ['X-Old-Name:X-New-Name', 'x-rr:x-rr2', 'x-missing:x-never'] },
                replace: { headers: ['x-replace-me:replaced', 'x-absent:never', 'x-rr2:after-rename'] },
                add: { headers: ['x-present:not-used', 'x-added:added', 'x-upstream-remove:re-added'] },
                append: { headers: ['x-append:second', 'x-fresh:only'] },
              }),
            ],
          },
          {
            name: 'down',
            url: `http://127.0.0.1:${down}`,
            retries: 0,
            routes: [
              route('down', {
                remove: { headers: ['content-type'] },
                add: { headers: ['x-added:on-error', 'cache-control:no-store'] },
              }),
            ],
          },
        ],
      },
    })
  })
  after(async () => {
    await gh?.stop()
    await upstream?.close()
  })

  let res: RawResponse
  before(async () => {
    res = await getRaw(`${gh.proxyUrl}/headers`)
  })
  const values = (name: string) => res.lines.get(name)

  it('passes the upstream response through', () => {
    assert.equal(res.status, 200)
    assert.deepEqual(values('content-type'), ['application/json'])
  })

  it('removes listed headers, matching names case-insensitively', () => {
    assert.equal(values('server'), undefined)
  })

  it('renames a present header, keeping its value, and ignores an absent one', () => {
    assert.equal(values('x-old-name'), undefined)
    assert.deepEqual(values('x-new-name'), ['moved'])
    assert.equal(values('x-never'), undefined)
  })

  it('replaces a header only when present, after renames have run', () => {
    assert.deepEqual(values('x-replace-me'), ['replaced'])
    assert.equal(values('x-absent'), undefined)
    assert.equal(values('x-rr'), undefined)
    assert.deepEqual(values('x-rr2'), ['after-rename'])
  })

  it('adds a header only when absent, after removals have run', () => {
    assert.deepEqual(values('x-present'), ['upstream'])
    assert.deepEqual(values('x-added'), ['added'])
    assert.deepEqual(values('x-upstream-remove'), ['re-added'])
  })

  it('appends a header as another line after the present one, or as the only one', () => {
    assert.deepEqual(values('x-append'), ['first', 'second'])
    assert.deepEqual(values('x-fresh'), ['only'])
  })

  it("transforms the gateway's own 502 too", async () => {
    const error = await getRaw(`${gh.proxyUrl}/down`)
    assert.equal(error.status, 502)
    assert.deepEqual(error.lines.get('x-added'), ['on-error'])
    assert.deepEqual(error.lines.get('cache-control'), ['no-store'])
    assert.equal(error.lines.get('content-type'), undefined)
  })
})
