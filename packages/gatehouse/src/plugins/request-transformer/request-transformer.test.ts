import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { type GatehouseProcess, startGatehouse } from '../../../test/harness/gatehouse.ts'
import { type EchoBody, startUpstream, type Upstream } from '../../../test/harness/upstream.ts'

function route(name: string, config: object) {
  return { name, paths: [`/${name}`], plugins: [{ name: 'request-transformer', config }] }
}

/** Values of one header as the upstream received them, one per header line, in order. */
function lines(body: EchoBody, name: string): string[] {
  const out: string[] = []
  for (let i = 0; i < body.rawHeaders.length; i += 2)
    if (body.rawHeaders[i]!.toLowerCase() === name) out.push(body.rawHeaders[i + 1]!)
  return out
}

describe('the request-transformer plugin', () => {
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
              route('headers', {
                remove: { headers: ['x-remove', 'X-Drop', 'via'] },
                rename: { headers: ['X-Old:X-New', 'x-moved:X-Landed', 'x-missing:x-never'] },
                replace: { headers: ['x-replace:replaced', 'x-absent:never', 'x-new:after-rename'] },
                add: { headers: ['x-add:added', 'x-present:not-used', 'x-remove:re-added'] },
                append: { headers: ['x-append:second', 'x-fresh:only'] },
              }),
              route('host-replace', { replace: { headers: ['host:api.internal'] } }),
              route('host-others', {
                remove: { headers: ['host'] },
                add: { headers: ['host:added.internal'] },
                append: { headers: ['host:appended.internal'] },
              }),
              route('query', {
                remove: { querystring: ['drop'] },
                rename: { querystring: ['old:new', 'missing:never'] },
                replace: { querystring: ['rep:R', 'absent:never'] },
                add: { querystring: ['add:a b', 'keep:never'] },
                append: { querystring: ['multi:3'] },
              }),
              route('query-add', { add: { querystring: ['lang:en'] } }),
              route('uri', { replace: { uri: '/v2/orders' } }),
              route('method', { http_method: 'POST' }),
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

  const echo = async (path: string, init?: RequestInit) => {
    const res = await gh.proxy(path, init)
    assert.equal(res.status, 200)
    return (await res.json()) as EchoBody
  }

  describe('headers', () => {
    const sent = {
      'x-remove': 'gone',
      'x-old': 'moved',
      'x-replace': 'original',
      'x-present': 'kept',
      'x-append': 'first',
    }

    it('removes listed headers, including ones the gateway itself added', async () => {
      const body = await echo('/headers', { headers: { 'x-drop': 'gone', 'x-other': 'stays' } })
      assert.equal(body.headers['x-drop'], undefined)
      assert.equal(body.headers.via, undefined)
      assert.equal(body.headers['x-other'], 'stays')
    })

    it('renames a present header, keeping its value, and ignores an absent one', async () => {
      const body = await echo('/headers', { headers: { 'x-moved': 'value' } })
      assert.equal(body.headers['x-moved'], undefined)
      assert.equal(body.headers['x-landed'], 'value')
      assert.equal(body.headers['x-never'], undefined)
      const untouched = await echo('/headers')
      assert.equal(untouched.headers['x-new'], undefined)
    })

    it('renames onto a header that is already present, replacing it', async () => {
      const body = await echo('/headers', { headers: { 'x-moved': 'value', 'x-landed': 'stale' } })
      assert.deepEqual(lines(body, 'x-landed'), ['value'])
    })

    it('replaces a header only when present, after renames have run', async () => {
      const body = await echo('/headers', { headers: sent })
      assert.equal(body.headers['x-old'], undefined)
      assert.equal(body.headers['x-replace'], 'replaced')
      assert.equal(body.headers['x-absent'], undefined)
      assert.equal(body.headers['x-new'], 'after-rename')
    })

    it('adds a header only when absent, after removals have run', async () => {
      const body = await echo('/headers', { headers: sent })
      assert.equal(body.headers['x-add'], 'added')
      assert.equal(body.headers['x-present'], 'kept')
      assert.deepEqual(lines(body, 'x-remove'), ['re-added'])
    })

    it('appends a header as another line after the present one, or as the only one', async () => {
      const body = await echo('/headers', { headers: sent })
      assert.deepEqual(lines(body, 'x-append'), ['first', 'second'])
      assert.deepEqual(lines(body, 'x-fresh'), ['only'])
    })

    it('sets the upstream Host with replace', async () => {
      const body = await echo('/host-replace')
      assert.equal(body.headers.host, 'api.internal')
    })

    it('leaves Host alone for remove, add and append, as Kong does', async () => {
      const body = await echo('/host-others')
      assert.equal(body.headers.host, `127.0.0.1:${upstream.port}`)
      assert.deepEqual(lines(body, 'host'), [`127.0.0.1:${upstream.port}`])
    })
  })

  describe('query string', () => {
    it('removes, renames, replaces, adds and appends parameters, keeping the others byte for byte', async () => {
      const body = await echo(
        '/query?keep=a%20b+c&drop=1&old=o%2Fv&rep=1&drop=2&rep=2&multi=1&sig=AbC%3D&flag',
      )
      assert.equal(body.url, '/?keep=a%20b+c&new=o%2Fv&rep=R&multi=1&sig=AbC%3D&flag&add=a%20b&multi=3')
    })

    it('matches parameter names after decoding them', async () => {
      const body = await echo('/query?dr%6Fp=1&keep=1')
      assert.equal(body.url, '/?keep=1&add=a%20b&multi=3')
    })

    it('renames onto a parameter that is already present, replacing it, as Kong does', async () => {
      const body = await echo('/query?new=stale&old=fresh&new=stale2')
      assert.equal(body.url, '/?new=fresh&add=a%20b&keep=never&multi=3')
    })

    it('replaces the value of a parameter that came as a bare flag', async () => {
      const body = await echo('/query?rep&x=1')
      assert.equal(body.url, '/?rep=R&x=1&add=a%20b&keep=never&multi=3')
    })

    it('adds a query string to a request that had none', async () => {
      const body = await echo('/query-add')
      assert.equal(body.url, '/?lang=en')
      const present = await echo('/query-add?lang=de')
      assert.equal(present.url, '/?lang=de')
    })
  })

  it('replaces the upstream path with replace.uri and keeps the query', async () => {
    const body = await echo('/uri/anything/here?x=1')
    assert.equal(body.url, '/v2/orders?x=1')
  })

  it('changes the upstream method with http_method', async () => {
    const body = await echo('/method/items')
    assert.equal(body.method, 'POST')
    assert.equal(body.url, '/items')
  })
})
