/**
 * Everything a request on one route needs, compiled when the configuration loads: the route and its
 * service, the upstream pool (or a composition's parts), the plugin chain and the metric children. A
 * request reads one object and parses nothing.
 */
import type { CompositionPlan } from '../composition/plan.ts'
import type { RouteEntity, ServiceEntity } from '../config/model.ts'
import type { RouteMetrics } from '../observability/metrics.ts'
import type { Upstream } from '../proxy/upstreams.ts'
import type { PluginChain } from './plugin-chain.ts'

export class RouteContext {
  readonly route: RouteEntity
  readonly service: ServiceEntity | null
  readonly upstream: Upstream | null
  /** The parts a composition route calls instead of forwarding (compose.ts); null on other routes. */
  readonly composition: CompositionPlan | null
  readonly chain: PluginChain
  readonly metrics: RouteMetrics
  /** Names for logs and metrics: the entity name, or its id when it has none. */
  readonly routeName: string
  readonly serviceName: string
  /** The access log's `"route":…,"service":…` members, written once here rather than on every line. */
  readonly logNames: string
  readonly acceptsHttp: boolean
  readonly acceptsHttps: boolean
  /** A ws/wss route: WebSocket handshakes only (plain for ws, TLS for wss). */
  readonly websocketOnly: boolean
  readonly acceptsWs: boolean
  readonly acceptsWss: boolean
  /** A grpc/grpcs route: gRPC calls over HTTP/2 only (h2c for grpc, TLS for grpcs), forwarded over HTTP/2. */
  readonly grpcOnly: boolean
  readonly acceptsGrpc: boolean
  readonly acceptsGrpcs: boolean
  /**
   * The route sends an internal token instead of the caller's credential (internal-token plugin, mode
   * mint or forward, without keep_public_credential): auth plugins then remove the credential from the
   * upstream request wherever they found it, as with their own hide_credentials.
   */
  readonly concealsCredentials: boolean

  constructor(
    route: RouteEntity,
    service: ServiceEntity | null,
    upstream: Upstream | null,
    composition: CompositionPlan | null,
    chain: PluginChain,
    metrics: RouteMetrics,
  ) {
    this.route = route
    this.service = service
    this.upstream = upstream
    this.composition = composition
    this.chain = chain
    this.metrics = metrics
    this.routeName = route.name ?? route.id
    this.serviceName = service ? (service.name ?? service.id) : ''
    this.logNames = `,"route":${JSON.stringify(this.routeName)},"service":${service ? JSON.stringify(this.serviceName) : 'null'}`
    this.acceptsHttp = route.protocols.includes('http')
    this.acceptsHttps = route.protocols.includes('https')
    this.acceptsWs = route.protocols.includes('ws')
    this.acceptsWss = route.protocols.includes('wss')
    this.acceptsGrpc = route.protocols.includes('grpc')
    this.acceptsGrpcs = route.protocols.includes('grpcs')
    this.grpcOnly = this.acceptsGrpc || this.acceptsGrpcs
    this.websocketOnly = !this.acceptsHttp && !this.acceptsHttps && (this.acceptsWs || this.acceptsWss)
    this.concealsCredentials = chain.steps.some((step) => {
      if (step.name !== 'internal-token' || step.instance === null) return false
      const config = step.instance.entity.config as { mode?: string; keep_public_credential?: boolean }
      return config.mode !== 'headers' && config.keep_public_credential !== true
    })
  }
}
