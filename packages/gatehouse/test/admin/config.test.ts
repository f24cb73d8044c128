/**
 * `POST /config`, Kong's DB-less reload, against a real gateway and real upstreams: every accepted body
 * type (JSON, YAML; forms are refused) swaps the running configuration (the proxy follows it), an invalid
 * one is refused with every problem while the old one keeps serving, `check_hash` and the body limit hold.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { stringify } from 'yaml'
import { type GatehouseProcess, startGatehouse } from '../harness/gatehouse.ts'
import { startUpstream, type Upstream } from '../harness/upstream.ts'

interface Loaded {
  message: string
  config_hash: string
  entities: { services: number; routes: number; consumers: number; plugins: number }
}
interface Refused {
  message: string
  code: string
  statusCode: number
  flattened_errors: { path: string; message: string }[]
}

const MAX_BODY = 4096

/** An upstream that answers with its own name, so a test can tell which one the proxy reached. */
function named(name: string): Promise<Upstream> {
  return startUpstream((req, res) => {
    const body = JSON.stringify({ upstream: name, url: req.url })
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
    res.end(body)
  })
}

describe('POST /config replaces the running configuration', () => {
  let one: Upstream
  let two: Upstream
  let gh: GatehouseProcess
  /** One service in front of `upstream`, reached under `path`. */
  const config = (upstream: Upstream, path: string, name = 'svc') => ({
    _format_version: '3.0',
    admin: { max_body_size: MAX_BODY },
    services: [{ name, url: upstream.url, routes: [{ name: `${name}-route`, paths: [path] }] }],
  })
  const post = (body: string, type: string, query = '') =>
    gh.admin(`/config${query}`, { method: 'POST', headers: { 'content-type': type }, body })
  /** Which upstream `path` reaches through the proxy, or the status when none. */
  const reaches = async (path: string): Promise<string | number> => {
    const res = await gh.proxy(path)
    if (res.status !== 200) {
      await res.body?.cancel()
      return res.status
    }
    return ((await res.json()) as { upstream: string }).upstream
  }
  const runningHash = async () =>
    ((await (await gh.admin('/config')).json()) as { config_hash: string }).config_hash
  const serviceNames = async () =>
    ((await (await gh.admin('/services')).json()) as { data: { name: string }[] }).data.map((s) => s.name)

  before(async () => {
    one = await named('one')
    two = await named('two')
    gh = await startGatehouse({ config: config(one, '/first') })
  })
  after(async () => {
    await gh.stop()
    await one.close()
    await two.close()
  })

  it('shows the running configuration hash at GET /config, the same as in the started line', async () => {
    const started = await gh.waitForLog((l) => l.msg === 'gatehouse started')
    const res = await gh.admin('/config')
    assert.equal(res.status, 200)
    const body = (await res.json()) as { config_hash: string; entities: Loaded['entities'] }
    assert.match(body.config_hash, /^[0-9a-f]{64}$/)
    assert.equal(body.config_hash, started.config_hash)
    assert.deepEqual(body.entities, { services: 1, routes: 1, consumers: 0, plugins: 0 })
    assert.equal(await reaches('/first'), 'one')
  })

  it('loads a JSON body with 201, then the proxy and GET /services follow the new configuration', async () => {
    const res = await post(JSON.stringify(config(two, '/json', 'from-json')), 'application/json')
    assert.equal(res.status, 201)
    const body = (await res.json()) as Loaded
    assert.match(body.config_hash, /^[0-9a-f]{64}$/)
    assert.deepEqual(body.entities, { services: 1, routes: 1, consumers: 0, plugins: 0 })
    assert.equal(await reaches('/json/x'), 'two')
    assert.equal(await reaches('/first'), 404)
    assert.deepEqual(await serviceNames(), ['from-json'])
    assert.equal(await runningHash(), body.config_hash)
    const status = (await (await gh.admin('/status')).json()) as { configuration_hash: string }
    assert.equal(status.configuration_hash, body.config_hash)
  })

  it('loads a YAML body sent as application/x-yaml or text/yaml with 201', async () => {
    for (const [type, upstream, name] of [
      ['application/x-yaml', one, 'yaml-one'],
      ['text/yaml; charset=utf-8', two, 'yaml-two'],
    ] as const) {
      const res = await post(stringify(config(upstream, `/${name}`, name)), type)
      assert.equal(res.status, 201, type)
      await res.body?.cancel()
      assert.equal(await reaches(`/${name}`), upstream === one ? 'one' : 'two')
      assert.deepEqual(await serviceNames(), [name])
    }
  })

  it('loads YAML text wrapped as JSON {"config": "..."} with 201', async () => {
    const yaml = stringify(config(one, '/wrapped', 'wrapped'))
    const res = await post(JSON.stringify({ config: yaml }), 'application/json')
    assert.equal(res.status, 201)
    await res.body?.cancel()
    assert.equal(await reaches('/wrapped'), 'one')
    assert.deepEqual(await serviceNames(), ['wrapped'])
  })

  it("refuses a form, as Kong's curl -F config=@kong.yml sends it, with 415 and keeps the running configuration", async () => {
    // Any web page can post a form to the admin API (issue 10); test/admin/media-types.test.ts has the rest.
    const before = await runningHash()
    const form = new FormData()
    form.set('config', new Blob([stringify(config(two, '/form', 'form'))]), 'kong.yml')
    const res = await gh.admin('/config', { method: 'POST', body: form })
    assert.equal(res.status, 415)
    assert.equal(((await res.json()) as Refused).code, 'GH_ERR_ADMIN_UNSUPPORTED_MEDIA_TYPE')
    assert.equal(await reaches('/form'), 404)
    assert.equal(await runningHash(), before)
  })

  it('refuses an invalid configuration with 400 listing every problem, and keeps the old one serving', async () => {
    const good = await post(JSON.stringify(config(one, '/kept', 'kept')), 'application/json')
    assert.equal(good.status, 201)
    const hash = ((await good.json()) as Loaded).config_hash

    const bad = {
      _format_version: '3.0',
      services: [
        { name: 'a', url: one.url, routes: [{ name: 'r', paths: ['/a'], stirp_path: true }] },
        { name: 'b', host: 'b.internal', port: 99_999 },
      ],
      plugins: [{ name: 'no-such-plugin' }],
    }
    const res = await post(JSON.stringify(bad), 'application/json')
    assert.equal(res.status, 400)
    const body = (await res.json()) as Refused
    assert.equal(body.code, 'GH_ERR_CONFIG_INVALID')
    assert.equal(body.statusCode, 400)
    assert.equal(body.message, 'declarative config is invalid')
    const paths = body.flattened_errors.map((e) => e.path)
    for (const e of body.flattened_errors) {
      assert.equal(typeof e.path, 'string')
      assert.equal(typeof e.message, 'string')
    }
    assert.ok(paths.includes('services[0].routes[0].stirp_path'), JSON.stringify(body.flattened_errors))
    assert.match(
      body.flattened_errors.find((e) => e.path === 'services[0].routes[0].stirp_path')!.message,
      /strip_path/,
    )
    assert.ok(paths.includes('services[1].port'), JSON.stringify(body.flattened_errors))
    assert.ok(
      paths.some((p) => p.startsWith('plugins[0]')),
      JSON.stringify(body.flattened_errors),
    )

    assert.equal(await runningHash(), hash)
    assert.equal(await reaches('/kept'), 'one')
    assert.equal(await reaches('/a'), 404)
    assert.deepEqual(await serviceNames(), ['kept'])
  })

  it('refuses a YAML syntax error and a body that is not JSON with 400, without echoing the body', async () => {
    const yaml = await post('_format_version: "3.0"\nservices: [\n', 'application/x-yaml')
    assert.equal(yaml.status, 400)
    const yamlBody = (await yaml.json()) as Refused
    assert.equal(yamlBody.code, 'GH_ERR_CONFIG_UNREADABLE')
    assert.ok(yamlBody.flattened_errors.length > 0)

    // V8's own message would quote the text around the error: here, the token.
    const json = await post('{"_format_version": "3.0", "token": s3cr3t}', 'application/json')
    assert.equal(json.status, 400)
    const jsonBody = (await json.json()) as Refused
    assert.equal(jsonBody.code, 'GH_ERR_ADMIN_BAD_REQUEST')
    assert.match(jsonBody.message, /^request body is not valid JSON/)
    assert.doesNotMatch(jsonBody.message, /s3cr3t/)
  })

  it('answers 304 with ?check_hash=1 when the body is the running configuration, and loads it otherwise', async () => {
    const running = config(two, '/hashed', 'hashed')
    const loaded = await post(JSON.stringify(running), 'application/json')
    assert.equal(loaded.status, 201)
    const hash = ((await loaded.json()) as Loaded).config_hash

    const same = await post(JSON.stringify(running), 'application/json', '?check_hash=1')
    assert.equal(same.status, 304)
    assert.equal(await same.text(), '')
    const sameYaml = await post(stringify(running), 'application/x-yaml', '?check_hash=1')
    assert.equal(sameYaml.status, 304, 'the same document as YAML has the same hash')
    assert.equal(await runningHash(), hash)

    const without = await post(JSON.stringify(running), 'application/json')
    assert.equal(without.status, 201, 'without check_hash the same configuration is loaded again')
    await without.body?.cancel()

    const other = await post(
      JSON.stringify(config(one, '/other', 'other')),
      'application/json',
      '?check_hash=1',
    )
    assert.equal(other.status, 201)
    await other.body?.cancel()
    assert.equal(await reaches('/other'), 'one')
  })

  it('refuses a body over admin.max_body_size with 413, declared or streamed, and the connection stays usable', async () => {
    const before = await runningHash()
    const padding = `# ${'x'.repeat(MAX_BODY)}\n`
    const declared = await post(`${padding}${stringify(config(two, '/big', 'big'))}`, 'application/x-yaml')
    assert.equal(declared.status, 413)
    const body = (await declared.json()) as Refused
    assert.equal(body.code, 'GH_ERR_ADMIN_BODY_TOO_LARGE')
    assert.equal(body.message, `request body exceeds ${MAX_BODY} bytes (admin.max_body_size)`)

    // Chunked, with no Content-Length: the limit is found while reading, 2 MiB in.
    const chunk = new TextEncoder().encode(`# ${'y'.repeat(1022)}\n`)
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 2048; i++) controller.enqueue(chunk)
        controller.close()
      },
    })
    const streamed = await gh.admin('/config', {
      method: 'POST',
      headers: { 'content-type': 'application/x-yaml' },
      body: stream,
      duplex: 'half',
    } as RequestInit)
    assert.equal(streamed.status, 413)
    assert.equal(((await streamed.json()) as Refused).code, 'GH_ERR_ADMIN_BODY_TOO_LARGE')

    // The pooled keep-alive connection must still work (a destroyed one would reset here).
    for (let i = 0; i < 3; i++) assert.equal((await gh.admin('/status')).status, 200)
    assert.equal(await runningHash(), before)
  })

  it('answers other methods on /config with 405 and an Allow header', async () => {
    for (const method of ['PUT', 'PATCH', 'DELETE']) {
      const res = await gh.admin('/config', { method })
      assert.equal(res.status, 405, method)
      assert.equal(res.headers.get('allow'), 'GET, HEAD, POST')
      assert.equal(((await res.json()) as Refused).code, 'GH_ERR_ADMIN_METHOD_NOT_ALLOWED')
    }
    assert.equal((await gh.admin('/config', { method: 'HEAD' })).status, 200)
  })
})
