/**
 * gRPC proxying through the real process (issue 13): a grpc-js server upstream (h2c) and a grpc-js
 * client through the gateway's plain listener (HTTP/2 with prior knowledge): unary and server-streaming
 * calls with metadata and trailers both ways, the route's plugins refusing as gRPC statuses
 * (UNAUTHENTICATED, RESOURCE_EXHAUSTED), a deadline that passes before the upstream answers
 * (DEADLINE_EXCEEDED, the upstream's call cancelled), a gRPC call on an http route, and the access log.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import * as grpc from '@grpc/grpc-js'
import { type GatehouseProcess, startGatehouse } from '../harness/gatehouse.ts'

const KEY = 'alice-grpc-key-0123456789'

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

async function startUpstream(): Promise<Upstream> {
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
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  )
  return { port, seen, cancelled, close: () => server.forceShutdown() }
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

  before(async () => {
    up = await startUpstream()
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
                name: 'limited',
                protocols: ['grpc'],
                headers: { 'x-route': ['limited'] },
                plugins: [{ name: 'rate-limiting', config: { minute: 1, policy: 'local' } }],
              },
            ],
          },
          { name: 'web', url: `http://127.0.0.1:${up.port}`, routes: [{ name: 'web', paths: ['/web.'] }] },
        ],
        consumers: [{ username: 'alice', keyauth_credentials: [{ key: KEY }] }],
      },
    })
    const Client = grpc.makeGenericClientConstructor(ECHO, 'Echo')
    client = new Client(gh.proxyUrl.replace('http://', ''), grpc.credentials.createInsecure())
  })

  after(() => {
    client?.close()
    up?.close()
  })

  it('proxies a unary call with its metadata to the upstream and its trailers back', async () => {
    const md = new grpc.Metadata()
    md.set('x-caller', 'test')
    const { err, value, trailers } = await unary(client, 'say', 'world', md)
    assert.equal(err, null)
    assert.equal(value, 'hello world')
    assert.deepEqual(trailers?.get('x-trailer'), ['from-upstream'])
    assert.deepEqual(up.seen.at(-1)?.get('x-caller'), ['test'])
    const line = await gh.waitForLog(
      (l) => l.msg === 'access' || (l.route === 'say' && typeof l.status === 'number'),
      5000,
    )
    assert.equal(line.status, 200)
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
    md.set('apikey', KEY)
    const ok = await unary(client, 'say', 'alice', md)
    assert.equal(ok.err, null)
    // internal-token: the upstream gets the gateway's token and the consumer, not the caller's key.
    const upstreamMd = up.seen.at(-1)!
    assert.deepEqual(upstreamMd.get('apikey'), [])
    assert.match(String(upstreamMd.get('authorization')[0]), /^Bearer ey/)
    assert.deepEqual(upstreamMd.get('x-consumer-username'), ['alice'])
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
    assert.deepEqual(up.cancelled, ['deadline-1'])
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
