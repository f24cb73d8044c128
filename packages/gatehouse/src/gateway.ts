/**
 * The running gateway: proxy, admin and status listeners around the current runtime. Owns reloads (one
 * at a time; the new runtime is built fully before a single assignment swaps it in), readiness, and
 * graceful shutdown (stop accepting, let in-flight requests finish up to proxy.shutdown_timeout, then
 * close). Over 400 lines because it is the one owner of every listener's and service's life (start,
 * reload, readiness, drain); the work itself lives in the modules it calls.
 */
import { randomUUID } from 'node:crypto'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import type { AdminContext, ServerStats, WorkerStats } from './admin/context.ts'
import { createAdminServer } from './admin/server.ts'
import { createStatusServer } from './admin/status-server.ts'
import { type LoadOptions, loadConfigObject, loadConfigText } from './config/load.ts'
import type { GatewayConfig } from './config/model.ts'
import { restartOnlyChanges } from './config/restart-only.ts'
import type { EntityWrites } from './db-mode/source.ts'
import { ConfigError } from './errors/errors.ts'
import type { IdentityHost } from './identity/host.ts'
import { ProviderKeys } from './identity/keys/provider-keys.ts'
import { InternalKeyRing } from './internal-tokens/key-ring.ts'
import { RedisPeerKeys } from './internal-tokens/peer-keys.ts'
import type { AccessLog } from './observability/access-log.ts'
import { LiveStats, SecondSampler } from './observability/live-stats.ts'
import type { Logger } from './observability/logger.ts'
import { BUILTIN_ROUTES, GatewayMetrics } from './observability/metrics.ts'
import { checkReadiness, type Dependency, type Readiness } from './observability/readiness.ts'
import { handleRequest, type MountedIdentity, type PipelineContext } from './pipeline/pipeline.ts'
import { GatewayRuntime, preparePlugins } from './pipeline/runtime.ts'
import type { WebSockets } from './pipeline/websocket.ts'
import type { PluginRegistry } from './plugins/registry.ts'
import { type CertificateSet, loadCertificates } from './proxy/certificates.ts'
import { http2Sessions } from './proxy/h2-sessions.ts'
import { closePriorKnowledgeSessions } from './proxy/h2c.ts'
import { createProxyServer, listen } from './proxy/server.ts'
import { type TlsProxyListener, tlsListenerFor } from './proxy/tls.ts'
import { checkUpstreamTls } from './proxy/upstream-tls.ts'
import { UpstreamRegistry } from './proxy/upstreams.ts'
import { TunnelSet } from './proxy/websocket-tunnel.ts'
import { acquireRedis } from './redis/connections.ts'
import { RedisPing } from './redis/ping.ts'
import { VERSION } from './version.ts'

export interface GatewayOptions {
  /** The first configuration; its plugins prepared (`await preparePlugins(config, registry)`). */
  readonly config: GatewayConfig
  readonly registry: PluginRegistry
  readonly logger: Logger
  /** Where access-log lines go; null or absent turns the access log off. */
  readonly accessLog?: AccessLog | null
  /** HOST:PORT, or `off` for no plain-HTTP listener. */
  readonly proxyListen: string
  /** Overrides proxy.tls.listen (`--proxy-tls-listen`, GATEHOUSE_PROXY_TLS_LISTEN). */
  readonly proxyTlsListen?: string | undefined
  /** Folder relative certificate paths are read from: the configuration file's. Default: the cwd. */
  readonly baseDir?: string | undefined
  readonly adminListen: string
  /** HOST:PORT of the status listener, or `off` (the default). */
  readonly statusListen?: string | undefined
  /** Overrides admin.token from the file (GATEHOUSE_ADMIN_TOKEN). */
  readonly adminToken?: string | undefined
  readonly env?: NodeJS.ProcessEnv
  /**
   * `node` (default): one process does everything. With several workers (cluster/): the `primary`
   * serves the admin and status listeners and owns reloads, but no proxy traffic; each `worker` serves
   * the proxy listeners only and applies what the primary sends.
   */
  readonly role?: 'node' | 'primary' | 'worker'
  /** A worker: listens on its own SO_REUSEPORT socket of the port the primary reserved (cluster/ports.ts). */
  readonly reusePort?: boolean | undefined
  /** The primary: delivers a configuration just swapped in to every worker, before the reload returns. */
  readonly afterReload?: ((config: GatewayConfig, source: string) => Promise<void>) | undefined
  /** The primary: the workers' connections, requests and memory, for /status. */
  readonly workerStats?: (() => Promise<readonly WorkerStats[]>) | undefined
  /** The primary: runs a proxy-cache administration step in every worker. */
  readonly workerCaches?: AdminContext['workerCaches']
}

export class Gateway implements PipelineContext {
  runtime: GatewayRuntime
  draining = false
  cutting = false
  readonly logger: Logger
  readonly #accessLog: AccessLog | null
  readonly metrics = new GatewayMetrics()
  readonly websockets: WebSockets = {
    tunnels: new TunnelSet(),
    connections: this.metrics.websocketConnections,
    handshakes: this.metrics.websocketHandshakes,
  }
  readonly unmatchedMetrics = this.metrics.unmatched
  readonly jwksMetrics = this.metrics.internalJwks
  /** DB mode: where admin writes go (db-mode/source.ts, set by main.ts); null in DB-less mode. */
  entityWrites: EntityWrites | null = null
  /** Set by the identity provider when it serves on this listener (identity/mount.ts). */
  identity: MountedIdentity | null = null
  #identityHost: IdentityHost | null = null
  readonly upstreams: UpstreamRegistry
  /** Signs internal tokens; lives across reloads (a reload reconfigures it). */
  readonly internalKeys: InternalKeyRing
  /** The built-in provider's public keys, in process for the routes that trust it (issue 10). */
  readonly providerKeys = new ProviderKeys()
  readonly nodeId = randomUUID()
  readonly startedAt = Date.now()
  /** When the running configuration was swapped in. */
  configLoadedAt = Date.now()
  /**
   * The node's traffic second by second for GET /stats/stream: this process's series, plus (the primary)
   * what each worker sends (cluster/worker.ts). Null in a worker.
   */
  readonly liveStats: LiveStats | null
  proxyAddress = ''
  /** The HTTPS listener's address; '' when there is none. */
  proxyTlsAddress = ''
  adminAddress = ''
  /** The status listener's address; '' when it is off. */
  statusAddress = ''
  /** DB mode: a trivial query on the entities' store (set by main.ts); null in DB-less mode. */
  storePing: (() => Promise<void>) | null = null

  readonly #options: GatewayOptions
  readonly #proxy: Server
  /** The HTTPS listener (proxy.tls), null when the configuration has none. */
  readonly #tls: TlsProxyListener | null = null
  /** The admin listener; null in a worker (the primary has it). */
  readonly #admin: Server | null
  /** The status listener (admin.status_listen), null when it is off. */
  readonly #status: Server | null
  readonly #redisPing: RedisPing
  readonly #sockets = new Set<Socket>()
  #inflight = 0
  #totalRequests = 0
  #loading = false
  #drained: (() => void) | null = null
  readonly onFinished = (): void => {
    this.#inflight--
    if (this.#inflight === 0 && this.#drained) this.#drained()
  }
  /** Both proxy listeners' request handler. */
  readonly #onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    this.#inflight++
    this.#totalRequests++
    handleRequest(this, req, res)
  }

  constructor(options: GatewayOptions) {
    this.#options = options
    this.logger = options.logger
    this.#accessLog = options.accessLog ?? null
    checkListeners(options)
    // The HTTPS listener's certificates are read first: a problem stops the start before anything runs.
    const tls = tlsListenerFor(options.config, this.#baseDir, this.#onRequest)
    this.upstreams = new UpstreamRegistry({
      logger: options.logger.child({ component: 'upstreams' }),
      metrics: this.metrics.registry,
      baseDir: this.#baseDir,
    })
    this.internalKeys = new InternalKeyRing(
      options.config.settings.internal_tokens,
      options.logger.child({ component: 'internal-tokens' }),
    )
    this.runtime = this.#build(options.config)
    this.metrics.setConfigHash(options.config.hash)
    if ((options.role ?? 'node') !== 'worker') {
      const sampler = new SecondSampler(this.metrics)
      this.liveStats = new LiveStats(() => sampler.take())
      this.liveStats.start()
    } else this.liveStats = null
    const proxy = options.config.settings.proxy
    this.#proxy = createProxyServer(
      {
        keepAliveTimeout: proxy.keepalive_timeout,
        headersTimeout: proxy.headers_timeout,
        maxHeaderSize: proxy.max_header_size,
        h2c: proxy.h2c,
      },
      this.#onRequest,
    )
    const track = (socket: Socket) => {
      this.#sockets.add(socket)
      this.metrics.connections.inc()
      socket.once('close', () => {
        this.#sockets.delete(socket)
        this.metrics.connections.dec()
      })
    }
    this.#proxy.on('connection', track)
    if (tls !== null) {
      this.#tls = tls.listener
      this.#tls.server.on('connection', track)
      logTlsNotices(this.logger, options.config.source, tls.notices)
    }
    const role = options.role ?? 'node'
    this.#admin =
      role === 'worker'
        ? null
        : createAdminServer(() => this.#adminContext(), {
            settings: () => {
              const current = this.runtime.config.settings.admin
              return {
                token: options.adminToken ?? current.token,
                maxBodySize: current.max_body_size,
                allowedHosts: current.allowed_hosts,
                allowedOrigins: current.allowed_origins,
                console: current.console,
              }
            },
            logger: options.logger.child({ component: 'admin' }),
            consoleDir: (options.env ?? process.env).GATEHOUSE_CONSOLE_DIR || undefined,
          })
    this.#status =
      role === 'worker' || (options.statusListen ?? 'off') === 'off'
        ? null
        : createStatusServer(() => this.#adminContext(), {
            allowedHosts: () => this.runtime.config.settings.admin.allowed_hosts,
            logger: options.logger.child({ component: 'status' }),
          })
    this.#redisPing = new RedisPing(options.logger.child({ component: 'readiness' }))
  }

  /** The access logger while the running configuration enables it (a reload can switch it). */
  get accessLog(): AccessLog | null {
    return this.runtime.config.settings.logging.access_log ? this.#accessLog : null
  }

  async listen(): Promise<{ proxy: string; proxyTls: string; admin: string; status: string }> {
    // The primary of several workers leaves the proxy listeners to them.
    if (this.#options.role !== 'primary') {
      const options = { reusePort: this.#options.reusePort === true }
      if (this.#options.proxyListen !== 'off')
        this.proxyAddress = await listen(this.#proxy, this.#options.proxyListen, options)
      if (this.#tls !== null)
        this.proxyTlsAddress = await listen(this.#tls.server, this.proxyTlsListen, options)
    }
    if (this.#admin !== null) this.adminAddress = await listen(this.#admin, this.#options.adminListen)
    if (this.#status !== null) this.statusAddress = await listen(this.#status, this.#options.statusListen!)
    return {
      proxy: this.proxyAddress,
      proxyTls: this.proxyTlsAddress,
      admin: this.adminAddress,
      status: this.statusAddress,
    }
  }

  /** Where the HTTPS listener listens (flag or environment, else the file). */
  get proxyTlsListen(): string {
    return this.#options.proxyTlsListen ?? this.#options.config.settings.proxy.tls!.listen
  }

  /** The primary: the addresses its workers bound (port 0 resolved), for /status and the started line. */
  setProxyAddresses(proxy: string, proxyTls: string): void {
    this.proxyAddress = proxy
    this.proxyTlsAddress = proxyTls
  }

  /**
   * Whether this node should get traffic: not shutting down, and the store (DB mode or the identity
   * provider) and the configuration's Redis, when there are, answering within a second.
   */
  readiness(): Promise<Readiness> {
    return checkReadiness(this.draining, this.#dependencies())
  }

  /** Whether the store answers; true when none is configured. */
  async storeReachable(): Promise<boolean> {
    const store = this.#dependencies().filter((d) => d.name === 'store')
    return (await checkReadiness(false, store)).ready
  }

  #dependencies(): Dependency[] {
    const dependencies: Dependency[] = []
    // DB mode's store and the identity provider's are the same database (one storage section).
    const store = this.storePing ?? this.#identityHost?.store
    if (store)
      dependencies.push({ name: 'store', check: typeof store === 'function' ? store : () => store.ping() })
    const redis = this.runtime.config.settings.redis
    if (redis) dependencies.push({ name: 'redis', check: () => this.#redisPing.ping(redis) })
    return dependencies
  }

  /**
   * Creates the first internal-token signing key and starts its rotation schedule (before `listen`).
   * With Redis configured, the nodes exchange their public keys so every JWKS lists every node's.
   */
  async startInternalTokens(): Promise<void> {
    const redis = this.runtime.config.settings.redis
    // A worker's ring is the primary's, which does the exchanging.
    if (redis !== null && redis !== undefined && this.#options.role !== 'worker') {
      const logger = this.logger.child({ component: 'internal-tokens' })
      this.internalKeys.sharePublicKeys(new RedisPeerKeys(acquireRedis(redis, logger), this.nodeId, logger))
    }
    this.internalKeys.followRevocations(redis ?? null)
    await this.internalKeys.start()
  }

  /** Starts the built-in identity provider when the configuration enables it (before `listen`). */
  async startIdentity(): Promise<void> {
    if (this.#identityHost !== null) return
    const host = await this.#openIdentity(this.runtime.config)
    this.#identityHost = host
    this.identity = host?.mount ?? null
  }

  /** Loads a configuration (text or parsed object) and swaps it in; throws ConfigError and keeps the old one. */
  reload(document: string | object, source: string): Promise<GatewayConfig> {
    return this.reloadWith(
      (options) =>
        typeof document === 'string'
          ? loadConfigText(document, source, options)
          : loadConfigObject(document, source, options),
      source,
    )
  }

  /** As `reload`, with the configuration `load` makes (DB mode's comes from the store: db-mode/source.ts). */
  async reloadWith(
    load: (options: LoadOptions) => GatewayConfig | Promise<GatewayConfig>,
    source: string,
  ): Promise<GatewayConfig> {
    if (this.#loading) throw new Error('a configuration is already being loaded')
    this.#loading = true
    try {
      const options = { registry: this.#options.registry, env: this.#options.env ?? process.env }
      let config: GatewayConfig
      let runtime: GatewayRuntime
      let identityStarted: IdentityHost | null = null
      let certificates: CertificateSet | null = null
      try {
        config = await load(options)
        await preparePlugins(config, this.#options.registry)
        runtime = this.#build(config)
        certificates = this.#loadCertificates(config)
        // The identity provider's new instance is ready before anything is swapped in.
        if (config.settings.identity.enabled && this.#identityHost !== null)
          await this.#identityHost.reload(config.settings)
        else identityStarted = await this.#openIdentity(config)
      } catch (err) {
        this.metrics.configReloads.labels('failure').inc()
        // Logged here, so SIGHUP and POST /config leave the same trace.
        if (err instanceof ConfigError)
          this.logger.error(
            { source, errors: err.issues },
            'reload rejected; keeping the running configuration',
          )
        throw err
      }
      const previous = this.runtime
      this.runtime = runtime
      this.configLoadedAt = Date.now()
      // New handshakes get the new certificates; open connections keep theirs.
      if (certificates !== null) this.#tls?.setCertificates(certificates)
      const identityStopped = config.settings.identity.enabled ? null : this.#identityHost
      if (identityStarted !== null || identityStopped !== null) {
        this.#identityHost = identityStarted
        this.identity = identityStarted?.mount ?? null
      }
      await this.internalKeys.configure(config.settings.internal_tokens)
      this.internalKeys.followRevocations(config.settings.redis ?? null)
      this.metrics.setConfigHash(config.hash)
      this.metrics.configReloads.labels('success').inc()
      // Every worker serves the new configuration before this reload is acknowledged.
      await this.#options.afterReload?.(config, source)
      const restartOnly = restartOnlyChanges(previous.config, config)
      if (restartOnly.length > 0)
        this.logger.warn({ settings: restartOnly }, 'settings changed that apply at the next restart')
      this.logger.info(
        { source, config_hash: config.hash, services: config.services.length, routes: config.routes.length },
        'configuration loaded',
      )
      logNotices(this.logger, config)
      // Old pools finish their in-flight requests before closing; the runtime's plugins likewise.
      void this.upstreams.retain(this.runtime.upstreamKeys)
      void previous
        .close()
        .catch((err: unknown) => this.logger.warn({ err }, 'closing the previous runtime failed'))
      if (identityStopped !== null) {
        await identityStopped.close()
        this.logger.info({ source }, 'identity provider stopped')
      }
      return config
    } finally {
      this.#loading = false
    }
  }

  /**
   * Stops accepting, lets in-flight requests finish (bounded), then closes everything. `alsoWaitFor`:
   * the primary of several workers passes their drain, so its status listener answers 503 until the
   * last worker is done.
   */
  async shutdown(reason: string, alsoWaitFor?: Promise<void>): Promise<void> {
    if (this.draining) return
    this.draining = true
    const timeout = this.runtime.config.settings.proxy.shutdown_timeout
    this.logger.info({ reason, inflight: this.#inflight, timeout_ms: timeout }, 'shutting down')
    this.#proxy.close()
    closePriorKnowledgeSessions(this.#proxy)
    http2Sessions.closeAll()
    this.#tls?.server.close()
    // Open WebSockets get a close frame 1001 (Going Away) each way, and end as their peers answer.
    this.websockets.tunnels.closeAll('gateway shutting down')
    this.#admin?.close()
    // Open /stats/stream responses end now (an `end` event), so none holds the admin listener open.
    this.liveStats?.stop()
    // The status listener stays open while draining: /status/ready answers 503 until the end.
    this.#proxy.closeIdleConnections()
    this.#admin?.closeIdleConnections()
    // Keep-alive connections become idle after their last response; close them as they do.
    const sweeper = setInterval(() => {
      this.#proxy.closeIdleConnections()
      this.#tls?.closeIdleConnections()
    }, 50)
    const timedOut = !(await this.#whenDrained(timeout))
    clearInterval(sweeper)
    if (timedOut) {
      this.logger.warn({ inflight: this.#inflight }, 'shutdown timeout reached; closing remaining requests')
      this.cutting = true
    }
    this.#proxy.closeAllConnections()
    this.#admin?.closeAllConnections()
    for (const socket of this.#sockets) socket.destroy()
    // A cut request finishes (is logged, its upstream exchange aborted) when its socket's close event runs,
    // a turn of the event loop later; without this wait the process exits first and its line is lost.
    // Bounded, should a socket never report its close.
    if (timedOut) await this.#whenDrained(1000)
    await (timedOut ? this.upstreams.destroyAll() : this.upstreams.closeAll())
    await this.runtime.close()
    this.internalKeys.stop()
    await this.#identityHost?.close()
    await alsoWaitFor
    if (this.#status !== null) {
      this.#status.close()
      this.#status.closeAllConnections()
    }
    await this.#redisPing.close()
    this.metrics.stop()
    this.logger.info({ reason }, 'stopped')
  }

  /** This process's connections, requests and memory; in the primary, with every worker's. */
  async serverStats(): Promise<ServerStats> {
    const mem = process.memoryUsage()
    const own = {
      connections_active: this.#sockets.size,
      total_requests: this.#totalRequests,
      rss_bytes: mem.rss,
      heap_used_bytes: mem.heapUsed,
    }
    if (this.#options.workerStats === undefined) return own
    const workers = await this.#options.workerStats()
    const sum = (key: keyof typeof own) => workers.reduce((total, w) => total + w[key], own[key])
    return {
      connections_active: sum('connections_active'),
      total_requests: sum('total_requests'),
      rss_bytes: sum('rss_bytes'),
      heap_used_bytes: sum('heap_used_bytes'),
      workers,
    }
  }

  /** The identity provider of `config` (its store opened), or null when the config does not enable it. */
  async #openIdentity(config: GatewayConfig): Promise<IdentityHost | null> {
    if (!config.settings.identity.enabled) return null
    // Loaded here, not at the top: the provider (oidc-provider, WebAuthn, mail, QR codes) is about 700
    // modules, a second of every start, worker start and CLI command that has no identity section.
    const { IdentityHost } = await import('./identity/host.ts')
    return IdentityHost.start(config.settings, {
      logger: this.logger,
      metrics: this.metrics.forRoute('', BUILTIN_ROUTES.identityProvider),
      trustedProxies: () => this.runtime.trustedProxies,
      providerKeys: this.providerKeys,
    })
  }

  /** Resolves true once no request is in flight, or false after `ms`. */
  #whenDrained(ms: number): Promise<boolean> {
    if (this.#inflight === 0) return Promise.resolve(true)
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#drained = null
        resolve(false)
      }, ms)
      this.#drained = () => {
        clearTimeout(timer)
        this.#drained = null
        resolve(true)
      }
    })
  }

  get #baseDir(): string {
    return this.#options.baseDir ?? process.cwd()
  }

  /** The certificates of `config` for the running HTTPS listener (ConfigError when unusable); null without one. */
  #loadCertificates(config: GatewayConfig): CertificateSet | null {
    const tls = config.settings.proxy.tls
    if (this.#tls === null || tls === undefined) return null
    const loaded = loadCertificates(tls, this.#baseDir, config.source)
    logTlsNotices(this.logger, config.source, loaded.notices)
    return loaded.set
  }

  #build(config: GatewayConfig): GatewayRuntime {
    checkUpstreamTls(config, this.#baseDir)
    return new GatewayRuntime(config, {
      registry: this.#options.registry,
      upstreams: this.upstreams,
      metrics: this.metrics,
      logger: this.logger,
      internalKeys: this.internalKeys,
      providerKeys: this.providerKeys,
    })
  }

  #adminContext() {
    return {
      version: VERSION,
      nodeId: this.nodeId,
      startedAt: this.startedAt,
      registry: this.#options.registry,
      metrics: this.metrics,
      proxyAddress: this.proxyAddress,
      adminAddress: this.adminAddress,
      statusAddress: this.statusAddress,
      internalKeys: this.internalKeys,
      identity: () => this.#identityHost,
      upstreams: this.upstreams,
      config: () => this.runtime.config,
      configLoadedAt: () => this.configLoadedAt,
      liveStats: this.liveStats,
      runtime: () => this.runtime,
      readiness: () => this.readiness(),
      storeReachable: () => this.storeReachable(),
      busy: () => this.#loading,
      serverStats: () => this.serverStats(),
      workerCaches: this.#options.workerCaches,
      reload: (doc: string | object, source: string) => this.reload(doc, source),
      entityWrites: this.entityWrites,
    }
  }
}

/** The proxy listens somewhere, and `--proxy-tls-listen` has certificates to serve. */
function checkListeners(options: GatewayOptions): void {
  const tls = options.config.settings.proxy.tls
  if (tls === undefined && options.proxyTlsListen !== undefined)
    throw new ConfigError(options.config.source, [
      { path: 'proxy.tls', message: 'required for --proxy-tls-listen (HTTPS needs its certificates)' },
    ])
  if (tls === undefined && options.proxyListen === 'off')
    throw new ConfigError(options.config.source, [
      {
        path: 'proxy.listen',
        message: 'is off and there is no proxy.tls: the proxy would not listen at all',
      },
    ])
}

/** Warnings about the proxy's certificates (expired, a name not covered), one line each. */
function logTlsNotices(logger: Logger, source: string, notices: readonly string[]): void {
  for (const notice of notices) logger.warn({ source, notice }, 'configuration notice')
}

/** Warnings a configuration carries (a generated secret, say), one line each. */
export function logNotices(logger: Logger, config: GatewayConfig): void {
  for (const notice of config.notices) logger.warn({ source: config.source, notice }, 'configuration notice')
}
