/**
 * proxy-cache end to end with the memory strategy, with Kong's contract (spec/03-plugins/31-proxy-cache):
 * the real process in front of a real upstream that numbers every request it answers, so a hit is a
 * response whose number the upstream already gave out. Each route has its own plugin config.
 */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { after, before, describe, it } from 'node:test'
import { type GatehouseProcess, startGatehouse } from '../../../test/harness/gatehouse.ts'
import { startUpstream, type Upstream } from '../../../test/harness/upstream.ts'

const ALICE_KEY = 'alice-cache-key'
const BOB_KEY = 'bob-cache-key'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

const patterns = new Map<number, Buffer>()

/** `size` bytes that depend on `size` only, so two responses of one size must be byte-identical. */
function pattern(size: number): Buffer {
  const known = patterns.get(size)
  if (known !== undefined) return known
  const out = Buffer.alloc(size)
  let seed = createHash('sha256').update(String(size)).digest()
  for (let at = 0; at < size; at += seed.length) {
    seed.copy(out, at)
    seed = createHash('sha256').update(seed).digest()
  }
  patterns.set(size, out)
  return out
}

/** Released by a test: `/slow` holds the rest of its body until then. */
let releaseSlow: () => void = () => {}

let served = 0

/**
 * `/json` answers `{"n": <request number>, ...}`; its query shapes the answer: `status`, `type`
 * (Content-Type), `cc` (Cache-Control), `cookie`, `vary`, `expires` (seconds from now). `/big?size=N`
 * sends N pattern bytes in 64 KiB writes that wait for the socket (`chunked` leaves out Content-Length).
 */
function upstreamHandler(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://upstream')
  const q = url.searchParams
  served++
  if (url.pathname.endsWith('/slow')) {
    res.writeHead(200, { 'content-type': 'text/plain' })
    res.write('first part;')
    new Promise<void>((resolve) => {
      releaseSlow = resolve
    }).then(() => res.end('second part'))
    return
  }
  if (url.pathname.endsWith('/big')) {
    const body = pattern(Number(q.get('size')))
    res.writeHead(200, {
      'content-type': 'application/json',
      ...(q.has('chunked') ? {} : { 'content-length': body.length }),
    })
    let at = 0
    const pump = () => {
      while (at < body.length) {
        const chunk = body.subarray(at, at + 65_536)
        at += chunk.length
        if (!res.write(chunk)) return void res.once('drain', pump)
      }
      res.end()
    }
    pump()
    return
  }
  const headers: Record<string, string> = { 'content-type': q.get('type') ?? 'application/json' }
  if (q.has('cc')) headers['cache-control'] = q.get('cc')!
  if (q.has('cookie')) headers['set-cookie'] = 'sid=secret-for-one-caller; HttpOnly'
  if (q.has('vary')) headers.vary = q.get('vary')!
  if (q.has('expires')) headers.expires = new Date(Date.now() + Number(q.get('expires')) * 1000).toUTCString()
  const body = JSON.stringify({
    n: served,
    path: url.pathname,
    lang: req.headers['accept-language'] ?? null,
    consumer: req.headers['x-consumer-username'] ?? null,
  })
  res.writeHead(Number(q.get('status') ?? 200), { ...headers, 'content-length': Buffer.byteLength(body) })
  res.end(body)
}

function config(upstreamUrl: string): object {
  const cached = (name: string, config: object = {}, extra: object[] = []) => ({
    name,
    paths: [`/${name}`],
    plugins: [...extra, { name: 'proxy-cache', config: { strategy: 'memory', ...config } }],
  })
  return {
    _format_version: '3.0',
    services: [
      {
        name: 'svc',
        url: upstreamUrl,
        routes: [
          cached('cache'),
          cached('keyed', {}, [{ name: 'key-auth', config: {} }]),
          cached('short', { cache_ttl: 1 }),
          cached('stale', { cache_ttl: 1, storage_ttl: 60 }),
          cached('cc', { cache_control: true }),
          cached('vary', { vary_headers: ['Accept-Language'], vary_query_params: ['page'] }),
          cached('small', { max_body_size: 100_000 }),
          cached('cookies', { cache_set_cookie: true }),
          cached('quiet', {
            response_headers: { age: false, 'X-Cache-Status': false, 'X-Cache-Key': false },
          }),
          cached('anyone', { credential_headers: [] }),
        ],
      },
    ],
    consumers: [
      { username: 'alice', keyauth_credentials: [{ key: ALICE_KEY }] },
      { username: 'bob', keyauth_credentials: [{ key: BOB_KEY }] },
    ],
  }
}

interface Seen {
  status: number
  cache: string | null
  key: string | null
  age: string | null
  headers: Headers
  body: Buffer
  /** The upstream's request number in a /json answer. */
  n: number
  json: Record<string, unknown>
}

describe('proxy-cache (memory)', () => {
  let upstream: Upstream
  let gh: GatehouseProcess

  before(async () => {
    upstream = await startUpstream(upstreamHandler)
    gh = await startGatehouse({ config: config(upstream.url) })
  })
  after(async () => {
    await gh?.stop()
    await upstream?.close()
  })

  async function get(path: string, init: RequestInit = {}): Promise<Seen> {
    const res = await gh.proxy(path, init)
    const body = Buffer.from(await res.arrayBuffer())
    let json: Record<string, unknown> = {}
    if (res.headers.get('content-type')?.includes('json') && body.length > 0 && body.length < 10_000)
      json = JSON.parse(body.toString()) as Record<string, unknown>
    return {
      status: res.status,
      cache: res.headers.get('x-cache-status'),
      key: res.headers.get('x-cache-key'),
      age: res.headers.get('age'),
      headers: res.headers,
      body,
      n: Number(json.n ?? -1),
      json,
    }
  }
  const statuses = async (path: string, times: number, init: RequestInit = {}) => {
    const out: string[] = []
    for (let i = 0; i < times; i++) out.push(String((await get(path, init)).cache))
    return out
  }
  const hitsOf = (pathAndQuery: string) => upstream.requests.filter((r) => r.url === pathAndQuery).length

  it('answers a repeated request from the cache: Miss, then Hit with the same body and an Age, the upstream asked once', async () => {
    const first = await get('/cache/json?t=basic')
    assert.equal(first.status, 200)
    assert.equal(first.cache, 'Miss')
    assert.match(first.key ?? '', /^[0-9a-f]{64}$/)
    assert.equal(first.age, null)
    const second = await get('/cache/json?t=basic')
    assert.equal(second.cache, 'Hit')
    assert.equal(second.key, first.key)
    assert.equal(second.age, '0')
    assert.ok(second.body.equals(first.body))
    assert.equal(second.headers.get('content-type'), 'application/json')
    assert.equal(second.headers.get('content-length'), String(first.body.length))
    assert.equal(hitsOf('/json?t=basic'), 1)
    // Query order does not matter; another value does.
    assert.equal((await get('/cache/json?t=basic&u=1')).cache, 'Miss')
    assert.equal((await get('/cache/json?u=1&t=basic')).cache, 'Hit')
  })

  it('keeps entries per consumer: two consumers never see each other’s response', async () => {
    const as = (key: string) => get('/keyed/json?t=who', { headers: { apikey: key } })
    const alice1 = await as(ALICE_KEY)
    const bob1 = await as(BOB_KEY)
    assert.deepEqual([alice1.cache, bob1.cache], ['Miss', 'Miss'])
    assert.notEqual(alice1.key, bob1.key)
    const alice2 = await as(ALICE_KEY)
    const bob2 = await as(BOB_KEY)
    assert.deepEqual([alice2.cache, bob2.cache], ['Hit', 'Hit'])
    assert.equal(alice2.json.consumer, 'alice')
    assert.equal(bob2.json.consumer, 'bob')
    assert.equal(alice2.n, alice1.n)
    assert.equal(bob2.n, bob1.n)
    assert.equal(hitsOf('/json?t=who'), 2)
    assert.equal((await get('/keyed/json?t=who')).status, 401)
  })

  it('keys on vary_headers and vary_query_params, and caches a response whose Vary they cover', async () => {
    const lang = (l: string, query = '?page=1&vary=Accept-Language') =>
      get(`/vary/json${query}`, { headers: { 'accept-language': l } })
    assert.equal((await lang('en')).cache, 'Miss')
    assert.equal((await lang('fr')).cache, 'Miss')
    const en = await lang('en')
    assert.equal(en.cache, 'Hit')
    assert.equal(en.json.lang, 'en')
    assert.equal((await lang('fr')).json.lang, 'fr')
    // Only `page` counts among the parameters (the upstream still gets them all).
    assert.equal((await lang('en', '?page=1&vary=Accept-Language&utm=mail')).cache, 'Hit')
    assert.equal((await lang('en', '?page=2&vary=Accept-Language')).cache, 'Miss')
    // A Vary on a header the key does not hold would serve one variant to every client: not cached.
    assert.deepEqual(await statuses('/cache/json?vary=Accept-Encoding', 2), ['Bypass', 'Bypass'])
  })

  it('caches only the listed statuses, content types and methods', async () => {
    assert.deepEqual(await statuses('/cache/json?status=500', 2), ['Bypass', 'Bypass'])
    assert.equal(hitsOf('/json?status=500'), 2)
    assert.deepEqual(await statuses('/cache/json?status=404', 2), ['Miss', 'Hit'])
    assert.deepEqual(await statuses('/cache/json?type=text/html', 2), ['Bypass', 'Bypass'])
    assert.deepEqual(await statuses('/cache/json?type=text/plain', 2), ['Miss', 'Hit'])
    // Kong 3.x compares parameters too: `application/json` does not cover a charset.
    assert.deepEqual(await statuses('/cache/json?type=application/json;%20charset=utf-8', 2), [
      'Bypass',
      'Bypass',
    ])
    assert.deepEqual(await statuses('/cache/json?t=post', 2, { method: 'POST' }), ['Bypass', 'Bypass'])
  })

  it('never caches Set-Cookie (unless cache_set_cookie), private or no-store responses', async () => {
    const cookie = await get('/cache/json?cookie=1')
    assert.equal(cookie.cache, 'Bypass')
    assert.match(cookie.headers.get('set-cookie') ?? '', /sid=/)
    assert.equal((await get('/cache/json?cookie=1')).cache, 'Bypass')
    assert.equal(hitsOf('/json?cookie=1'), 2)
    assert.deepEqual(await statuses('/cache/json?cc=private,max-age=60', 2), ['Bypass', 'Bypass'])
    assert.deepEqual(await statuses('/cache/json?cc=no-store', 2), ['Bypass', 'Bypass'])
    assert.deepEqual(await statuses('/cookies/json?cookie=1', 2), ['Miss', 'Hit'])
  })

  it('does not cache for callers whose credentials no plugin resolved, unless credential_headers is emptied', async () => {
    assert.deepEqual(await statuses('/cache/json?t=cred', 1, { headers: { authorization: 'Bearer x' } }), [
      'Bypass',
    ])
    assert.deepEqual(await statuses('/cache/json?t=cred', 1, { headers: { cookie: 'session=abc' } }), [
      'Bypass',
    ])
    assert.deepEqual(await statuses('/cache/json?t=cred', 2), ['Miss', 'Hit'])
    // A caller with credentials is not served the anonymous entry either.
    assert.deepEqual(await statuses('/cache/json?t=cred', 1, { headers: { authorization: 'Bearer x' } }), [
      'Bypass',
    ])
    assert.deepEqual(await statuses('/anyone/json', 2, { headers: { cookie: 'theme=dark' } }), [
      'Miss',
      'Hit',
    ])
  })

  it('follows Cache-Control with cache_control: the response’s lifetime, and the request’s no-cache, no-store, max-age and only-if-cached', async () => {
    assert.deepEqual(await statuses('/cc/json?cc=public,max-age=60', 2), ['Miss', 'Hit'])
    assert.deepEqual(await statuses('/cc/json?expires=60', 2), ['Miss', 'Hit'])
    assert.deepEqual(await statuses('/cc/json?t=no-lifetime', 2), ['Bypass', 'Bypass'])
    assert.deepEqual(await statuses('/cc/json?cc=no-cache,max-age=60', 2), ['Bypass', 'Bypass'])
    const path = '/cc/json?cc=max-age=60&t=req'
    const stored = await get(path)
    const refreshed = await get(path, { headers: { 'cache-control': 'no-cache' } })
    assert.equal(refreshed.cache, 'Refresh')
    assert.notEqual(refreshed.n, stored.n)
    const hit = await get(path)
    assert.equal(hit.cache, 'Hit')
    assert.equal(hit.n, refreshed.n)
    assert.equal((await get(path, { headers: { 'cache-control': 'no-store' } })).cache, 'Bypass')
    await sleep(5)
    assert.equal((await get(path, { headers: { 'cache-control': 'max-age=0' } })).cache, 'Refresh')
    assert.equal((await get(path, { headers: { 'cache-control': 'max-age=30' } })).cache, 'Hit')
    const only = await get('/cc/json?t=never-stored', { headers: { 'cache-control': 'only-if-cached' } })
    assert.equal(only.status, 504)
    assert.equal(only.json.code, 'GH_ERR_CACHE_ONLY_IF_CACHED')
    assert.equal(hitsOf('/json?t=never-stored'), 0)
  })

  it('serves an entry for cache_ttl, then fetches again: a Miss once storage ended, a Refresh while storage_ttl keeps it', async () => {
    assert.deepEqual(await statuses('/short/json?t=ttl', 2), ['Miss', 'Hit'])
    assert.deepEqual(await statuses('/stale/json?t=ttl', 2), ['Miss', 'Hit'])
    await sleep(1100)
    const [short, stale] = [await get('/short/json?t=ttl'), await get('/stale/json?t=ttl')]
    assert.equal(short.cache, 'Miss')
    assert.equal(stale.cache, 'Refresh')
    const again = await get('/stale/json?t=ttl')
    assert.equal(again.cache, 'Hit')
    assert.equal(again.n, stale.n)
  })

  it('caches HEAD on its own, answering a hit with the length of the body and no body', async () => {
    const head1 = await gh.proxy('/cache/json?t=head', { method: 'HEAD' })
    const head2 = await gh.proxy('/cache/json?t=head', { method: 'HEAD' })
    assert.equal(head1.headers.get('x-cache-status'), 'Miss')
    assert.equal(head2.headers.get('x-cache-status'), 'Hit')
    assert.equal(head2.headers.get('content-length'), head1.headers.get('content-length'))
    assert.notEqual(head2.headers.get('content-length'), '0')
    assert.equal((await head2.arrayBuffer()).byteLength, 0)
    const getAfter = await get('/cache/json?t=head')
    assert.equal(getAfter.cache, 'Miss')
    assert.equal(String(getAfter.body.length), head1.headers.get('content-length'))
  })

  it('purges through the admin API as Kong: GET and DELETE /proxy-cache/{key}, the plugin-scoped form, and DELETE /proxy-cache', async () => {
    const first = await get('/cache/json?t=purge')
    const key = first.key!
    const shown = await gh.admin(`/proxy-cache/${key}`)
    assert.equal(shown.status, 200)
    const entry = (await shown.json()) as Record<string, unknown>
    assert.equal(entry.status, 200)
    assert.equal(entry.body, first.body.toString())
    assert.equal(entry.body_len, first.body.length)
    assert.equal(entry.ttl, 300)
    assert.equal(entry.version, 1)
    assert.equal((entry.headers as Record<string, string>)['content-type'], 'application/json')

    assert.equal((await gh.admin(`/proxy-cache/${key}`, { method: 'DELETE' })).status, 204)
    assert.equal((await gh.admin(`/proxy-cache/${key}`)).status, 404)
    assert.equal((await gh.admin(`/proxy-cache/${key}`, { method: 'DELETE' })).status, 404)
    assert.equal((await get('/cache/json?t=purge')).cache, 'Miss')

    const plugins = (await (await gh.admin('/plugins')).json()) as {
      data: { id: string; route: { id: string } | null }[]
    }
    const routes = (await (await gh.admin('/routes')).json()) as { data: { id: string; name: string }[] }
    const cacheRoute = routes.data.find((r) => r.name === 'cache')!.id
    const pluginId = plugins.data.find((p) => p.route?.id === cacheRoute)!.id
    const scoped = await gh.admin(`/proxy-cache/${pluginId}/caches/${key}`)
    assert.equal(scoped.status, 200)
    assert.equal((await gh.admin(`/proxy-cache/${pluginId}/caches/${key}`, { method: 'DELETE' })).status, 204)
    assert.equal((await gh.admin(`/proxy-cache/${crypto.randomUUID()}/caches/${key}`)).status, 404)

    assert.equal((await get('/cache/json?t=purge-all')).cache, 'Miss')
    assert.equal((await get('/cache/json?t=purge-all')).cache, 'Hit')
    assert.equal((await gh.admin('/proxy-cache', { method: 'DELETE' })).status, 204)
    assert.equal((await get('/cache/json?t=purge-all')).cache, 'Miss')
    const wrong = await gh.admin('/proxy-cache')
    assert.equal(wrong.status, 405)
    assert.equal(wrong.headers.get('allow'), 'DELETE')
  })

  it('caches bodies up to max_body_size and streams larger ones through uncached, byte for byte', async () => {
    assert.deepEqual(await statuses('/small/big?size=50000', 2), ['Miss', 'Hit'])
    // With a Content-Length the size is known at once; chunked, the capture lets go past the bound.
    assert.deepEqual(await statuses('/small/big?size=150000', 2), ['Bypass', 'Bypass'])
    const chunked = [
      await get('/small/big?size=150000&chunked=1'),
      await get('/small/big?size=150000&chunked=1'),
    ]
    assert.deepEqual(
      chunked.map((s) => s.cache),
      ['Miss', 'Miss'],
    )
    for (const s of chunked) assert.ok(s.body.equals(pattern(150_000)))
  })

  it('streams a large body unchanged while capturing one just under the default bound, and serves it whole', async () => {
    const big = 8 * 1024 * 1024
    const large = await get(`/cache/big?size=${big}&chunked=1`)
    assert.equal(large.cache, 'Miss')
    assert.ok(large.body.equals(pattern(big)))
    assert.equal((await get(`/cache/big?size=${big}&chunked=1`)).cache, 'Miss')
    const near = 1_000_000
    const miss = await get(`/cache/big?size=${near}&chunked=1`)
    const hit = await get(`/cache/big?size=${near}&chunked=1`)
    assert.deepEqual([miss.cache, hit.cache], ['Miss', 'Hit'])
    assert.ok(miss.body.equals(pattern(near)))
    assert.ok(hit.body.equals(pattern(near)))
  })

  it('passes each chunk on as it arrives while capturing (nothing waits for the whole body), then caches it', async () => {
    const res = await gh.proxy('/cache/slow')
    assert.equal(res.headers.get('x-cache-status'), 'Miss')
    const reader = res.body!.getReader()
    const first = await reader.read()
    assert.equal(Buffer.from(first.value!).toString(), 'first part;')
    releaseSlow()
    let rest = ''
    for (let r = await reader.read(); !r.done; r = await reader.read())
      rest += Buffer.from(r.value).toString()
    assert.equal(rest, 'second part')
    const hit = await get('/cache/slow')
    assert.equal(hit.cache, 'Hit')
    assert.equal(hit.body.toString(), 'first part;second part')
  })

  it('sends none of its headers when response_headers turns them off, and still caches', async () => {
    const first = await get('/quiet/json?t=quiet')
    const second = await get('/quiet/json?t=quiet')
    for (const s of [first, second]) assert.deepEqual([s.cache, s.key, s.age], [null, null, null])
    assert.equal(second.n, first.n)
  })
})
