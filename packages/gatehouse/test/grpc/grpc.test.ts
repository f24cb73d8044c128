/**
 * gRPC proxying through the real process (issue 13): a grpc-js server upstream (h2c) and a grpc-js
 * client through the gateway's plain listener (HTTP/2 with prior knowledge): unary and server-streaming
 * calls with metadata and trailers both ways, the route's plugins refusing as gRPC statuses
 * (UNAUTHENTICATED, PERMISSION_DENIED, RESOURCE_EXHAUSTED), a deadline that passes before the upstream
 * answers (DEADLINE_EXCEEDED from the gateway itself, against an upstream that ignores grpc-timeout, and
 * the upstream's stream cancelled), a client that cancels, grpcs to a TLS upstream, a gRPC call on an
 * http route, and the access log.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { connect as connectH2, createServer as createH2Server } from 'node:http2'
import { after, before, describe, it } from 'node:test'
import * as grpc from '@grpc/grpc-js'
import { type GatehouseProcess, startGatehouse } from '../harness/gatehouse.ts'
import { OtlpReceiver } from '../harness/otlp-receiver.ts'
import { trackServer } from '../harness/resources.ts'
import { Pki } from '../tls/support.ts'

const KEY = 'alice-grpc-key-0123456789'
const BOB_KEY = 'bob-grpc-key-0123456789'

const text = {
  requestSerialize: (s: string) => Buffer.from(s),
  requestDeserialize: (b: Buffer) => b.toString(),
  responseSerialize: (s: string) => Buffer.from(s),
  responseDeserialize: (b: Buffer) => b.toString(),
}

/** A hand-written service definition: no .proto needed, messages are UTF-8 strings. */
const ECHO: grpc.ServiceDefinition = {
  say: { path: '/test.Echo/Say', requestStream: false, responseStream: false, ...text },
  count: { path: '/test.Echo/Count', requestStream: false, responseStream: true, ...text },
  slow: { path: '/test.Echo/Slow', requestStream: false, responseStream: false, ...text },
} as never

interface Upstream {
  port: number
  seen: grpc.Metadata[]
  cancelled: string[]
  close(): void
}

async function startUpstream(credentials = grpc.ServerCredentials.createInsecure()): Promise<Upstream> {
  const seen: grpc.Metadata[] = []
  const cancelled: string[] = []
  const server = new grpc.Server()
  server.addService(ECHO, {
    say: (call: grpc.ServerUnaryCall<string, string>, done: grpc.sendUnaryData<string>) => {
      seen.push(call.metadata)
      call.sendMetadata(new grpc.Metadata({}))
      const trailer = new grpc.Metadata()
      trailer.set('x-trailer', 'from-upstream')
      done(null, `hello ${call.request}`, trailer)
    },
    count: (call: grpc.ServerWritableStream<string, string>) => {
      const n = Number(call.request)
      for (let i = 1; i <= n; i++) call.write(String(i))
      call.end()
    },
    slow: (call: grpc.ServerUnaryCall<string, string>, done: grpc.sendUnaryData<string>) => {
      const timer = setTimeout(() => done(null, 'late'), 5000)
      call.on('cancelled', () => {
        clearTimeout(timer)
        cancelled.push(call.request)
      })
    },
  })
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', credentials, (err, p) => (err ? reject(err) : resolve(p))),
  )
  return { port, seen, cancelled, close: () => server.forceShutdown() }
}

/**
 * An HTTP/2 upstream that takes every stream and never answers, ignoring grpc-timeout (grpc-js servers
 * enforce it themselves, which would hide whether the gateway does): it records the streams that were
 * closed under it.
 */
async function startSilentUpstream() {
  const closed: string[] = []
  const server = trackServer('silent h2 upstream', createH2Server())
  server.on('stream', (stream, headers) => {
    stream.on('close', () => closed.push(String(headers[':path'])))
    stream.on('error', () => {})
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { port: (server.address() as { port: number }).port, closed, close: () => server.close() }
}

type Call = (
  request: string,
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  done: (err: grpc.ServiceError | null, value?: string) => void,
) => grpc.ClientUnaryCall

function unary(
  client: grpc.Client,
  method: string,
  request: string,
  metadata = new grpc.Metadata(),
  options: grpc.CallOptions = {},
) {
  return new Promise<{ err: grpc.ServiceError | null; value?: string; trailers?: grpc.Metadata }>(
    (resolve) => {
      let trailers: grpc.Metadata | undefined
      const call = (client as unknown as Record<string, Call>)[method]!.call(
        client,
        request,
        metadata,
        options,
        (err, value) =>
          setImmediate(() =>
            resolve({ err, ...(value !== undefined ? { value } : {}), ...(trailers ? { trailers } : {}) }),
          ),
      )
      call.on('status', (status: grpc.StatusObject) => {
        trailers = status.metadata
      })
    },
  )
}

describe('gRPC proxying', () => {
  let up: Upstream
  let gh: GatehouseProcess
  let client: grpc.Client
  let silent: Awaited<ReturnType<typeof startSilentUpstream>>
  let secure: Upstream
  const receiver = new OtlpReceiver()
  const pki = new Pki()
  const ca = pki.issue('ca', { subject: '/CN=grpc test CA', isCa: true })
  const leaf = pki.issue('upstream', { subject: '/CN=localhost', san: ['DNS:localhost'], ca })

  before(async () => {
    up = await startUpstream()
    await receiver.listen()
    silent = await startSilentUpstream()
    secure = await startUpstream(
      grpc.ServerCredentials.createSsl(null, [
        { cert_chain: readFileSync(leaf.cert), private_key: readFileSync(leaf.key) },
      ]),
    )
    gh = await startGatehouse({
      config: {
        _format_version: '3.0',
        services: [
          {
            name: 'echo',
            url: `grpc://127.0.0.1:${up.port}`,
            routes: [
              {
                name: 'say',
                protocols: ['grpc'],
                paths: ['/test.Echo/Say', '/test.Echo/Count', '/test.Echo/Slow'],
              },
              {
                name: 'private',
                protocols: ['grpc'],
                headers: { 'x-route': ['private'] },
                plugins: [{ name: 'key-auth' }, { name: 'internal-token', config: { audience: 'echo' } }],
              },
              {
                name: 'traced',
                protocols: ['grpc'],
                headers: { 'x-route': ['traced'] },
                plugins: [
                  {
                    name: 'opentelemetry',
                    config: { traces_endpoint: receiver.url, queue: { max_coalescing_delay: 0.1 } },
                  },
                ],
              },
              {
                name: 'admins-only',
                protocols: ['grpc'],
                headers: { 'x-route': ['admins'] },
                plugins: [{ name: 'key-auth' }, { name: 'acl', config: { allow: ['admins'] } }],
              },
              {
                name: 'limited',
                protocols: ['grpc'],
                headers: { 'x-route': ['limited'] },
                plugins: [{ name: 'rate-limiting', config: { minute: 1, policy: 'local' } }],
              },
            ],
          },
          {
            name: 'silent',
            url: `grpc://127.0.0.1:${silent.port}`,
            routes: [{ name: 'silent', protocols: ['grpc'], headers: { 'x-route': ['silent'] } }],
          },
          {
            name: 'secure',
            url: `grpcs://localhost:${secure.port}`,
            ca_certificates: [pki.relative(ca.cert)],
            tls_verify: true,
            routes: [{ name: 'secure', protocols: ['grpc'], headers: { 'x-route': ['secure'] } }],
          },
          { name: 'web', url: `http://127.0.0.1:${up.port}`, routes: [{ name: 'web', paths: ['/web.'] }] },
        ],
        consumers: [
          { username: 'alice', keyauth_credentials: [{ key: KEY }] },
          { username: 'bob', keyauth_credentials: [{ key: BOB_KEY }], acls: [{ group: 'admins' }] },
        ],
      },
    })
    const Client = grpc.makeGenericClientConstructor(ECHO, 'Echo')
    client = new Client(gh.proxyUrl.replace('http://', ''), grpc.credentials.createInsecure())
  })

  after(() => {
    client?.close()
    up?.close()
    silent?.close()
    secure?.close()
    void receiver.close()
    pki.remove()
  })

  it('proxies a unary call with its metadata to the upstream and its trailers back', async () => {
    const md = new grpc.Metadata()
    md.set('x-caller', 'test')
    const { err, value, trailers } = await unary(client, 'say', 'world', md)
    assert.equal(err, null)
    assert.equal(value, 'hello world')
    assert.deepEqual(trailers?.get('x-trailer'), ['from-upstream'])
    assert.deepEqual(up.seen.at(-1)?.get('x-caller'), ['test'])
    const line = await gh.waitForLog((l) => l.type === 'access' && l.route === 'say', 5000)
    assert.equal(line.status, 200)
    // The call's own outcome, from the upstream's trailers: what a gRPC operator reads.
    assert.equal(line.grpc_status, 0)
  })

  it('streams a server-streaming call', async () => {
    const call = (
      client as unknown as Record<string, (r: string) => grpc.ClientReadableStream<string>>
    ).count!.call(client, '5')
    const got: string[] = []
    for await (const message of call) got.push(message as string)
    assert.deepEqual(got, ['1', '2', '3', '4', '5'])
  })

  it('refuses a call without a key as UNAUTHENTICATED, with the gateway error code', async () => {
    const md = new grpc.Metadata()
    md.set('x-route', 'private')
    const { err } = await unary(client, 'say', 'x', md)
    assert.equal(err?.code, grpc.status.UNAUTHENTICATED)
    assert.equal(err?.details, 'No API key found in request')
    assert.deepEqual(err?.metadata.get('x-gatehouse-error'), ['GH_ERR_AUTH_CREDENTIALS_MISSING'])
    const refused = await gh.waitForLog(
      (l) => l.type === 'access' && l.error_code === 'GH_ERR_AUTH_CREDENTIALS_MISSING',
      5000,
    )
    assert.equal(refused.status, 401)
    assert.equal(refused.grpc_status, grpc.status.UNAUTHENTICATED)
    md.set('apikey', KEY)
    const ok = await unary(client, 'say', 'alice', md)
    assert.equal(ok.err, null)
    // internal-token: the upstream gets the gateway's token and the consumer, not the caller's key.
    const upstreamMd = up.seen.at(-1)!
    assert.deepEqual(upstreamMd.get('apikey'), [])
    assert.match(String(upstreamMd.get('authorization')[0]), /^Bearer ey/)
    assert.deepEqual(upstreamMd.get('x-consumer-username'), ['alice'])
  })

  it('traces a call: a CLIENT span for the upstream call, whose context the upstream receives', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736'
    const md = new grpc.Metadata()
    md.set('x-route', 'traced')
    md.set('traceparent', `00-${traceId}-00f067aa0ba902b7-01`)
    assert.equal((await unary(client, 'say', 'traced', md)).value, 'hello traced')
    const spans = await receiver.waitForSpan(traceId, 'upstream echo')
    const call = spans.find((sp) => sp.name === 'upstream echo')!
    assert.equal(call.kind, 3, 'CLIENT')
    assert.equal(call.attributes['rpc.grpc.status_code'], 0)
    assert.equal(call.attributes['url.full'], `grpc://127.0.0.1:${up.port}/test.Echo/Say`)
    const sent = String(up.seen.at(-1)!.get('traceparent')[0])
    assert.equal(sent, `00-${traceId}-${call.spanId}-01`)
  })

  it('refuses a consumer outside the ACL group as PERMISSION_DENIED', async () => {
    const md = new grpc.Metadata()
    md.set('x-route', 'admins')
    md.set('apikey', KEY)
    const { err } = await unary(client, 'say', 'x', md)
    assert.equal(err?.code, grpc.status.PERMISSION_DENIED)
    assert.deepEqual(err?.metadata.get('x-gatehouse-error'), ['GH_ERR_AUTH_ACCESS_DENIED'])
    md.set('apikey', BOB_KEY)
    assert.equal((await unary(client, 'say', 'bob', md)).value, 'hello bob')
  })

  it('answers DEADLINE_EXCEEDED itself when the upstream ignores the deadline, and cancels its stream', async () => {
    const md = new grpc.Metadata()
    md.set('x-route', 'silent')
    const { err } = await unary(client, 'say', 'x', md, { deadline: Date.now() + 400 })
    assert.equal(err?.code, grpc.status.DEADLINE_EXCEEDED)
    // Closed by the gateway: the silent upstream never answers and never times out by itself.
    for (let i = 0; i < 60 && !silent.closed.includes('/test.Echo/Say'); i++)
      await new Promise((r) => setTimeout(r, 50))
    assert.deepEqual(silent.closed, ['/test.Echo/Say'])
  })

  it("answers a passed deadline with the gateway's own DEADLINE_EXCEEDED, logged as the call's grpc_status", async () => {
    // grpc-js cancels at its own deadline too, so which side ends the call first is a race; a client that
    // leaves the deadline to the server (only grpc-timeout) hears the gateway's answer every time.
    const session = connectH2(gh.proxyUrl)
    try {
      const stream = session.request({
        ':method': 'POST',
        ':path': '/test.Echo/Say',
        'content-type': 'application/grpc',
        te: 'trailers',
        'grpc-timeout': '300m',
        'x-route': 'silent',
      })
      stream.end(Buffer.from([0, 0, 0, 0, 1, 0x78]))
      const trailers = await new Promise<Record<string, unknown>>((resolve, reject) => {
        let head: Record<string, unknown> = {}
        stream.on('response', (h) => {
          head = h
        })
        stream.on('trailers', (t) => resolve(t))
        stream.on('end', () => resolve(head))
        stream.on('error', reject)
        stream.resume()
      })
      assert.equal(trailers['grpc-status'], String(grpc.status.DEADLINE_EXCEEDED))
    } finally {
      session.close()
    }
    const line = await gh.waitForLog(
      (l) => l.type === 'access' && l.error_code === 'GH_ERR_GRPC_DEADLINE_EXCEEDED',
      5000,
    )
    assert.equal(line.grpc_status, grpc.status.DEADLINE_EXCEEDED)
  })

  it('cancels the upstream call when the client cancels', async () => {
    const call = (client as unknown as Record<string, Call>).slow!.call(
      client,
      'client-cancel',
      new grpc.Metadata(),
      {},
      () => {},
    )
    await new Promise((r) => setTimeout(r, 300))
    call.cancel()
    for (let i = 0; i < 60 && !up.cancelled.includes('client-cancel'); i++)
      await new Promise((r) => setTimeout(r, 50))
    assert.ok(up.cancelled.includes('client-cancel'), JSON.stringify(up.cancelled))
    // Logged as nginx logs a client that left: 499.
    await gh.waitForLog((l) => l.type === 'access' && l.path === '/test.Echo/Slow' && l.status === 499)
  })

  it('calls a grpcs upstream over TLS, verifying its certificate', async () => {
    const md = new grpc.Metadata()
    md.set('x-route', 'secure')
    const { err, value } = await unary(client, 'say', 'over tls', md)
    assert.equal(err, null)
    assert.equal(value, 'hello over tls')
    assert.equal(secure.seen.length, 1)
  })

  it('refuses past the rate limit as RESOURCE_EXHAUSTED', async () => {
    const md = new grpc.Metadata()
    md.set('x-route', 'limited')
    assert.equal((await unary(client, 'say', 'a', md)).err, null)
    const { err } = await unary(client, 'say', 'b', md)
    assert.equal(err?.code, grpc.status.RESOURCE_EXHAUSTED)
  })

  it('honours the deadline: DEADLINE_EXCEEDED, and the upstream call is cancelled', async () => {
    const { err } = await unary(client, 'slow', 'deadline-1', new grpc.Metadata(), {
      deadline: Date.now() + 300,
    })
    assert.equal(err?.code, grpc.status.DEADLINE_EXCEEDED)
    for (let i = 0; i < 50 && !up.cancelled.includes('deadline-1'); i++)
      await new Promise((r) => setTimeout(r, 50))
    assert.ok(up.cancelled.includes('deadline-1'), JSON.stringify(up.cancelled))
  })

  it('refuses a gRPC call on an http route as NOT_FOUND with GH_ERR_GRPC_ROUTE_REQUIRED', async () => {
    const Web = grpc.makeGenericClientConstructor(
      { say: { ...(ECHO.say as object), path: '/web.Echo/Say' } } as never,
      'Web',
    )
    const web = new Web(gh.proxyUrl.replace('http://', ''), grpc.credentials.createInsecure())
    const { err } = await unary(web, 'say', 'x')
    web.close()
    assert.equal(err?.code, grpc.status.NOT_FOUND)
    assert.deepEqual(err?.metadata.get('x-gatehouse-error'), ['GH_ERR_GRPC_ROUTE_REQUIRED'])
  })

  it('answers HTTP/1.1 on the same plain listener', async () => {
    const res = await fetch(`${gh.proxyUrl}/nothing`)
    assert.equal(res.status, 404)
    assert.equal(res.headers.get('x-gatehouse-error'), 'GH_ERR_ROUTE_NOT_FOUND')
  })
})
