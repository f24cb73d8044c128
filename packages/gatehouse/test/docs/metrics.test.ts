/**
 * docs/metrics.md stays true (STYLE principle 7): the real process, after a request of each kind (proxied
 * through a balanced upstream, 404, the internal-token JWKS, the identity provider), is scraped, and every
 * family in /metrics must be in the document with its type and exactly its labels, every family the
 * document lists must be in /metrics, every `route` label value the gateway makes up itself must be
 * documented, and so must every field of the access log.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { DOCS_DIR } from '../../scripts/docs/render.ts'
import { BUILTIN_ROUTES } from '../../src/observability/metrics.ts'
import type { GatehouseProcess } from '../harness/gatehouse.ts'
import { startUpstream, type Upstream } from '../harness/upstream.ts'
import { startIdentityGateway } from '../identity/support/gateway.ts'

interface Documented {
  readonly type: string
  readonly labels: readonly string[]
  readonly linuxOnly: boolean
}

/** The rows `| \`name\` | type | labels | meaning |` of docs/metrics.md. */
function documentedFamilies(doc: string): Map<string, Documented> {
  const families = new Map<string, Documented>()
  const row = /^\| `([a-z_:][a-z0-9_:]*)` \| (counter|gauge|histogram|summary) \| ([^|]*) \| (.*) \|$/
  for (const line of doc.split('\n')) {
    const m = row.exec(line)
    if (m === null) continue
    assert.ok(!families.has(m[1]!), `${m[1]} is listed twice in docs/metrics.md`)
    const labels = [...m[3]!.matchAll(/`([a-zA-Z_]\w*)`/g)].map((l) => l[1]!).sort()
    families.set(m[1]!, { type: m[2]!, labels, linuxOnly: m[4]!.includes('(Linux only)') })
  }
  return families
}

interface Scraped {
  readonly type: string
  /** The label names of each sample (without a histogram's `le`), as sorted lists. */
  readonly labelSets: Set<string>
  /** Every value of the `route` label. */
  readonly routes: Set<string>
}

function scrapedFamilies(text: string): Map<string, Scraped> {
  const families = new Map<string, Scraped>()
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line)
    if (type !== null) {
      families.set(type[1]!, { type: type[2]!, labelSets: new Set(), routes: new Set() })
      continue
    }
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? \S+$/.exec(line)
    if (sample === null) continue
    const name = sample[1]!
    const family =
      families.get(name) ?? families.get(name.replace(/_(bucket|sum|count)$/, '')) ?? assert.fail(line)
    const labels = [...(sample[2] ?? '').matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g)]
    family.labelSets.add(
      labels
        .map((l) => l[1]!)
        .filter((l) => l !== 'le')
        .sort()
        .join(','),
    )
    for (const l of labels) if (l[1] === 'route') family.routes.add(l[2]!)
  }
  return families
}

describe('docs/metrics.md', () => {
  let upstream: Upstream
  let gh: GatehouseProcess
  let issuer: string
  let doc: string
  let scraped: Map<string, Scraped>

  before(async () => {
    doc = readFileSync(new URL('metrics.md', DOCS_DIR), 'utf8')
    upstream = await startUpstream()
    ;({ gh, issuer } = await startIdentityGateway({
      rest: {
        upstreams: [{ name: 'shop-upstream', targets: [{ target: `127.0.0.1:${upstream.port}` }] }],
        services: [
          { name: 'shop', host: 'shop-upstream', routes: [{ name: 'catalog', paths: ['/catalog'] }] },
        ],
        // Kong's families too (docs/metrics.md lists them): every option on.
        plugins: [
          {
            name: 'prometheus',
            config: {
              per_consumer: true,
              status_code_metrics: true,
              latency_metrics: true,
              bandwidth_metrics: true,
              upstream_health_metrics: true,
            },
          },
        ],
      },
    }))
    const requests: [string, number][] = [
      [`${gh.proxyUrl}/catalog/items`, 200],
      [`${gh.proxyUrl}/nowhere`, 404],
      [`${gh.proxyUrl}/.well-known/gatehouse/jwks.json`, 200],
      [`${issuer}/.well-known/openid-configuration`, 200],
    ]
    for (const [url, status] of requests) {
      const res = await fetch(url)
      assert.equal(res.status, status, url)
      await res.arrayBuffer()
    }
    // The event-loop gauges are sampled every 5 s: wait for their first values, so their labels show too.
    const deadline = Date.now() + 20_000
    for (;;) {
      const text = await (await gh.admin('/metrics')).text()
      scraped = scrapedFamilies(text)
      const ready = ['gatehouse_event_loop_utilization', 'gatehouse_http_requests_total'].every(
        (name) => (scraped.get(name)?.labelSets.size ?? 0) > 0,
      )
      const counted = scraped.get('gatehouse_http_requests_total')?.routes.size ?? 0
      if ((ready && counted === 4) || Date.now() > deadline) break
      await sleep(250)
    }
  })
  after(async () => {
    await gh?.stop()
    await upstream?.close()
  })

  it('documents every family /metrics exposes, with its type and exactly its labels', () => {
    const documented = documentedFamilies(doc)
    const problems: string[] = []
    for (const [name, family] of scraped) {
      const d = documented.get(name)
      if (d === undefined) {
        problems.push(`${name} (${family.type}) is not in docs/metrics.md`)
        continue
      }
      if (d.type !== family.type) problems.push(`${name} is a ${family.type}, documented as a ${d.type}`)
      for (const set of family.labelSets)
        if (set !== d.labels.join(','))
          problems.push(`${name} has labels {${set}}, documented as {${d.labels.join(',')}}`)
    }
    assert.deepEqual(problems, [])
  })

  it('lists no family /metrics does not expose', () => {
    const documented = documentedFamilies(doc)
    assert.ok(documented.has('gatehouse_http_requests_total'), 'the tables of docs/metrics.md are read')
    const gone = [...documented]
      .filter(([name, d]) => !scraped.has(name) && !(d.linuxOnly && process.platform !== 'linux'))
      .map(([name]) => name)
    assert.deepEqual(gone, [], 'documented in docs/metrics.md, absent from /metrics')
  })

  it('has samples for the families of each kind of request, so their labels were checked', () => {
    for (const name of [
      'gatehouse_http_requests_total',
      'gatehouse_request_duration_seconds',
      'gatehouse_upstream_duration_seconds',
      'gatehouse_upstream_target_health',
      'gatehouse_event_loop_utilization',
      'gatehouse_event_loop_lag_seconds',
    ])
      assert.ok((scraped.get(name)?.labelSets.size ?? 0) > 0, `${name} has samples`)
  })

  it('documents every field of the access lines those requests wrote', () => {
    const table = doc.slice(doc.indexOf('## The access log'))
    const fields = new Set(gh.accessLines().flatMap((l) => Object.keys(l)))
    assert.ok(fields.has('bytes_sent') && fields.has('error_code'), [...fields].join(', '))
    const missing = [...fields].filter((f) => !new RegExp(`^\\| [^|]*\`${f}\``, 'm').test(table))
    assert.deepEqual(missing, [], "access-log fields not in docs/metrics.md's table")
  })

  it("documents every route label the gateway gives requests that are not a route's", () => {
    const routes = scraped.get('gatehouse_http_requests_total')!.routes
    assert.deepEqual([...routes].sort(), ['', ...Object.values(BUILTIN_ROUTES), 'catalog'].sort())
    for (const value of Object.values(BUILTIN_ROUTES))
      assert.ok(doc.includes(`| \`${value}\` |`), `route="${value}" is in docs/metrics.md's table`)
  })
})
