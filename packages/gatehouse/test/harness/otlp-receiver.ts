/**
 * A small OTLP/HTTP trace receiver for tests: an http server on 127.0.0.1 port 0 that accepts
 * `POST /v1/traces` with the JSON encoding the exporter sends (Content-Type: application/json) and keeps
 * every span, flattened with its resource's attributes. Test support, not shipped behaviour.
 */
import assert from 'node:assert/strict'
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'

type AnyValue = {
  stringValue?: string
  intValue?: number | string
  boolValue?: boolean
  doubleValue?: number
}
interface KeyValue {
  key: string
  value: AnyValue
}

/** One received span. `kind`: 1 internal, 2 server, 3 client; `status.code`: 0 unset, 1 ok, 2 error. */
export interface ReceivedSpan {
  readonly traceId: string
  readonly spanId: string
  readonly parentSpanId: string
  readonly name: string
  readonly kind: number
  readonly attributes: Readonly<Record<string, string | number | boolean>>
  readonly status: { readonly code: number; readonly message: string }
  readonly resource: Readonly<Record<string, string | number | boolean>>
}

function flatten(list: readonly KeyValue[] | undefined): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {}
  for (const { key, value } of list ?? [])
    out[key] =
      value.stringValue ??
      (value.intValue !== undefined ? Number(value.intValue) : undefined) ??
      value.boolValue ??
      value.doubleValue ??
      ''
  return out
}

export class OtlpReceiver {
  readonly spans: ReceivedSpan[] = []
  /** The headers of each export request (the plugin's `headers` must arrive). */
  readonly requests: { readonly headers: IncomingHttpHeaders; readonly contentType: string }[] = []
  readonly server: Server = createServer((req, res) => {
    let body = ''
    req.setEncoding('utf8')
    req.on('data', (c: string) => {
      body += c
    })
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/traces') {
        res.writeHead(404).end()
        return
      }
      this.requests.push({ headers: req.headers, contentType: req.headers['content-type'] ?? '' })
      const doc = JSON.parse(body) as {
        resourceSpans: {
          resource?: { attributes?: KeyValue[] }
          scopeSpans: {
            spans: (Omit<ReceivedSpan, 'attributes' | 'resource' | 'status'> & {
              attributes?: KeyValue[]
              status?: { code?: number; message?: string }
            })[]
          }[]
        }[]
      }
      for (const rs of doc.resourceSpans) {
        const resource = flatten(rs.resource?.attributes)
        for (const ss of rs.scopeSpans)
          for (const s of ss.spans)
            this.spans.push({
              traceId: s.traceId,
              spanId: s.spanId,
              parentSpanId: s.parentSpanId ?? '',
              name: s.name,
              kind: s.kind,
              attributes: flatten(s.attributes),
              status: { code: s.status?.code ?? 0, message: s.status?.message ?? '' },
              resource,
            })
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
    })
  })

  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve))
    return this
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1/traces`
  }

  ofTrace(traceId: string): ReceivedSpan[] {
    return this.spans.filter((s) => s.traceId === traceId)
  }

  /** Waits until the trace has a span named `name`, and returns the trace's spans. */
  async waitForSpan(traceId: string, name: string): Promise<ReceivedSpan[]> {
    for (let i = 0; i < 400; i++) {
      if (this.ofTrace(traceId).some((s) => s.name === name)) return this.ofTrace(traceId)
      await sleep(25)
    }
    assert.fail(
      `no span '${name}' in trace ${traceId}; got: ${this.ofTrace(traceId)
        .map((s) => s.name)
        .join(', ')}`,
    )
  }

  close(): Promise<void> {
    this.server.closeAllConnections()
    return new Promise((resolve) => this.server.close(() => resolve()))
  }
}
