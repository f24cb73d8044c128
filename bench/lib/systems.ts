/**
 * The systems the benchmark can measure, and how each one is configured and started (bench/run.ts decides
 * which, starts them all at once and measures them in interleaved rounds).
 *
 * Without authentication (they are sent the baseline token pool, so every request has the same size):
 *   direct, gatehouse, gatehouse-nolog, nginx, node-floor — see bench/README.md.
 * Verifying a JWT on every request (each sent the pool of its own algorithm):
 *   gatehouse-jwt-<alg>      Gatehouse's Kong-format jwt plugin on the service (claims_to_verify [exp],
 *                            key_claim_name iss) and one consumer whose jwt_secret has key = the issuer;
 *                            default settings, so the access log is on
 *   haproxy-<alg>            HAProxy (2.5+) http_auth_bearer + jwt_verify and ACLs on alg, signature, iss,
 *                            aud and exp, 401 otherwise; nbthread 1
 *   express-gateway-<alg>    Express Gateway 1.x jwt policy (passport-jwt / jsonwebtoken: signature, iss,
 *                            aud, exp) then proxy policy; one Node process
 * with <alg> one of hs256, rs256, es256.
 * Gatehouse's built-in identity provider (lib/identity.ts):
 *   identity-token           client_credentials token issuance at the provider's token endpoint
 *   gatehouse-oidc           the route `/` protected by openid-connect with the provider's tokens (the
 *                            provider in the same process, the default deployment)
 * Identity propagation (issue 5; lib/passport.ts):
 *   gatehouse-passport-rs256 gatehouse-jwt-rs256 plus the internal-token plugin: the caller's profile from
 *                            /users/{sub} (cached), an internal ES256 token (cached) replacing its token
 * Scale-out (issue 7; lib/scale-out.ts):
 *   gatehouse-ratelimit-local / -redis   gatehouse plus rate-limiting on the service, policy local / redis
 *                            (a redis-server started for the run)
 *   gatehouse-2nodes         two Gatehouse processes with gatehouse's configuration, loaded at once
 * Every core (issue 11; lib/workers.ts):
 *   gatehouse-workers2       gatehouse's configuration started with `--workers 2`: one node, a primary and
 *                            two worker processes sharing the proxy port, the whole tree on the server CPU
 * Every other Gatehouse node is started with GATEHOUSE_WORKERS=1, so it stays one worker whatever
 * `gatehouse start`'s default (`auto`: one per available CPU) and whether or not the servers are pinned.
 * Group names select several at once: gatehouse-jwt, haproxy, express-gateway, identity, passport,
 * scale-out, workers.
 * Over STYLE's 400 lines because each peer's configuration file (nginx, HAProxy, Express Gateway) is spelt
 * out here, beside the one Gatehouse configuration it is compared with.
 */
import { spawnSync } from 'node:child_process'
import { cpSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  type IdentityRole,
  identitySections,
  makeProvider,
  openIdConnectPlugin,
  type Provider,
  type ProviderPool,
  providerPool,
  writeTokenRequest,
} from './identity.ts'
import { internalTokenPlugin, internalTokensSection, PASSPORT_SYSTEM } from './passport.ts'
import type { Started } from './procs.ts'
import {
  type Listening,
  type RateLimitPolicy,
  rateLimitingPlugin,
  redisSection,
  startRedis,
} from './scale-out.ts'
import { ALGS, type Alg, AUDIENCE, ISSUER, type Tokens } from './tokens.ts'
import { WORKERS_SYSTEM, workersArgs, workersEnv } from './workers.ts'

export type Kind = 'direct' | 'gatehouse' | 'nginx' | 'node-floor' | 'haproxy' | 'express-gateway'

export interface SystemDef {
  name: string
  kind: Kind
  /** The algorithm it verifies on every request with the bench's own tokens; null: none of those. */
  alg: Alg | null
  /** The identity provider: `issue` measures its token endpoint; `verify`, a route taking its tokens. */
  identity: IdentityRole | null
  /** Gatehouse with the internal-token plugin after jwt: enrichment and a minted internal token (issue 5). */
  internalToken?: boolean
  /** Gatehouse with rate-limiting on the service, counting with this policy (issue 7). */
  rateLimit?: RateLimitPolicy
  /** Gatehouse processes with the same configuration, loaded at once (issue 7). Default 1. */
  nodes?: number
  /** Worker processes of each Gatehouse node (`gatehouse start --workers N`, issue 11). Default 1. */
  workers?: number
}

const plain = (name: string, kind: Kind): SystemDef => ({ name, kind, alg: null, identity: null })
const perAlg = (prefix: string, kind: Kind): SystemDef[] =>
  ALGS.map((alg) => ({ name: `${prefix}-${alg.toLowerCase()}`, kind, alg, identity: null }))

/** Every system, in the order they are reported. */
export const ALL_SYSTEMS: SystemDef[] = [
  plain('direct', 'direct'),
  plain('gatehouse', 'gatehouse'),
  plain('gatehouse-nolog', 'gatehouse'),
  plain('nginx', 'nginx'),
  plain('node-floor', 'node-floor'),
  ...perAlg('gatehouse-jwt', 'gatehouse'),
  ...perAlg('haproxy', 'haproxy'),
  ...perAlg('express-gateway', 'express-gateway'),
  { name: 'identity-token', kind: 'gatehouse', alg: null, identity: 'issue' },
  { name: 'gatehouse-oidc', kind: 'gatehouse', alg: null, identity: 'verify' },
  { name: PASSPORT_SYSTEM, kind: 'gatehouse', alg: 'RS256', identity: null, internalToken: true },
  { name: 'gatehouse-ratelimit-local', kind: 'gatehouse', alg: null, identity: null, rateLimit: 'local' },
  { name: 'gatehouse-ratelimit-redis', kind: 'gatehouse', alg: null, identity: null, rateLimit: 'redis' },
  { name: 'gatehouse-2nodes', kind: 'gatehouse', alg: null, identity: null, nodes: 2 },
  { name: WORKERS_SYSTEM, kind: 'gatehouse', alg: null, identity: null, workers: 2 },
]

/** Names that stand for several systems in SYSTEMS. */
export const GROUPS: Record<string, string[]> = {
  'gatehouse-jwt': ALGS.map((a) => `gatehouse-jwt-${a.toLowerCase()}`),
  haproxy: ALGS.map((a) => `haproxy-${a.toLowerCase()}`),
  'express-gateway': ALGS.map((a) => `express-gateway-${a.toLowerCase()}`),
  identity: ['identity-token', 'gatehouse-oidc'],
  passport: [PASSPORT_SYSTEM],
  'scale-out': ['gatehouse-ratelimit-local', 'gatehouse-ratelimit-redis', 'gatehouse-2nodes'],
  workers: [WORKERS_SYSTEM],
}

/** Free ports a system takes: a proxy and an admin listener per Gatehouse node, and its Redis server. */
export function portsOf(def: SystemDef): number {
  return 2 * (def.nodes ?? 1) + (def.rateLimit === 'redis' ? 1 : 0)
}

/** The systems named in `names` (system or group names), in report order; throws on an unknown name. */
export function selectSystems(names: string[]): SystemDef[] {
  const wanted = new Set<string>()
  for (const n of names) {
    const members = GROUPS[n] ?? (ALL_SYSTEMS.some((s) => s.name === n) ? [n] : null)
    if (!members) {
      const known = [...ALL_SYSTEMS.map((s) => s.name), ...Object.keys(GROUPS)].join(' ')
      throw new Error(`unknown system '${n}' in SYSTEMS (known: ${known})`)
    }
    for (const m of members) wanted.add(m)
  }
  return ALL_SYSTEMS.filter((s) => wanted.has(s.name))
}

export interface StartContext {
  tmp: string
  upstreamPort: number
  tokens: Tokens
  /** Gatehouse's bin script and the environment it needs (Node 24 first on PATH). */
  gatehouse: {
    bin: string
    /** Runs the bin with this node and these flags when not empty (CPU_PROF), else by its shebang. */
    node: readonly string[]
    env: NodeJS.ProcessEnv
  }
  nginx: string | null
  haproxy: string | null
  /** Express Gateway's package directory (outside the repository). */
  expressGateway: string | null
  /**
   * Starts a server pinned to the server CPUs, in its own process group, and records its command line
   * (with `shownEnv` written in front of it, as a reader would type it).
   */
  start(
    name: string,
    argv: string[],
    options?: { env?: NodeJS.ProcessEnv; cwd?: string; shownEnv?: Record<string, string> },
  ): Started
  port(): Promise<number>
  /** gatehouse-oidc: how many provider-issued tokens its pool holds. */
  providerPoolSize: number
  /** redis-server on PATH (gatehouse-ratelimit-redis), or null. */
  redisServer: string | null
}

export interface RunningSystem {
  def: SystemDef
  name: string
  port: number
  /** Process group whose CPU counts as the system's own (for `direct`, the upstream). */
  process: Started
  /** Its configuration as a reader may see it (secrets replaced), for the report. */
  config: { lang: string; text: string } | null
  /**
   * identity-token and gatehouse-oidc: the provider it runs; identity-token also the TOKEN_REQUEST file of
   * wrk-token-request.lua, gatehouse-oidc the pool of provider-issued tokens (issued by the pre-run check).
   */
  provider?: { provider: Provider; tokenRequest?: string; pool?: ProviderPool }
  /**
   * gatehouse-2nodes: every node, this one (`port`, `process`) first. wrk loads them all at once, and all
   * their CPU is the system's. Absent for one node.
   */
  nodes?: Listening[]
  /** gatehouse-ratelimit-redis: the Redis server its counters live in; its CPU is the system's too. */
  redis?: Listening
  /** Gatehouse: the admin listener's port (of the first node). */
  adminPort?: number
}

const REDACTED = '<HS256 secret of this run>'

/** Writes `def`'s configuration and starts it; it is then being started (run.ts waits for its port). */
export async function startSystem(
  def: SystemDef,
  ctx: StartContext,
  upstream: Started,
): Promise<RunningSystem> {
  const dir = join(ctx.tmp, def.name)
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const running = (port: number, process: Started, config: RunningSystem['config']): RunningSystem => ({
    def,
    name: def.name,
    port,
    process,
    config,
  })
  switch (def.kind) {
    case 'direct':
      return running(ctx.upstreamPort, upstream, null)
    case 'gatehouse': {
      const [port, admin] = [await ctx.port(), await ctx.port()]
      // The issuer URL names the proxy port, so the provider is made once the port is known.
      const provider = def.identity ? makeProvider(port, def.identity) : null
      // Redis first, so the gateway's first request (the pre-run check) finds it listening.
      const redis = def.rateLimit === 'redis' ? await startRedis(ctx, def.name, dir) : undefined
      const { json, shown } = gatehouseConfig(def, ctx, provider, join(dir, 'gatehouse.db'), redis?.port)
      const file = join(dir, 'gatehouse.json')
      writeFileSync(file, json, { mode: 0o600 })
      const node = (name: string, proxyPort: number, adminPort: number) => {
        const argv = [...ctx.gatehouse.node, ctx.gatehouse.bin, 'start', '--config', file]
        argv.push('--proxy-listen', `127.0.0.1:${proxyPort}`, '--admin-listen', `127.0.0.1:${adminPort}`)
        return ctx.start(name, [...argv, ...workersArgs(def)], {
          env: { ...ctx.gatehouse.env, ...workersEnv(def) },
          shownEnv: workersEnv(def),
        })
      }
      const system = running(port, node(def.name, port, admin), { lang: 'json', text: shown })
      system.adminPort = admin
      if (redis) system.redis = redis
      if ((def.nodes ?? 1) > 1) {
        system.nodes = [{ port, process: system.process }]
        for (let i = 2; i <= def.nodes!; i++) {
          const [more, moreAdmin] = [await ctx.port(), await ctx.port()]
          system.nodes.push({ port: more, process: node(`${def.name}-node${i}`, more, moreAdmin) })
        }
      }
      if (provider && def.identity === 'issue') {
        const tokenRequest = join(dir, 'token-request.txt')
        writeTokenRequest(provider, tokenRequest)
        system.provider = { provider, tokenRequest }
      } else if (provider) {
        const pool = providerPool(provider, join(dir, 'provider-tokens.txt'), ctx.providerPoolSize)
        system.provider = { provider, pool }
      }
      return system
    }
    case 'nginx': {
      const port = await ctx.port()
      mkdirSync(join(dir, 'tmp'))
      const conf = nginxConfig(dir, port, ctx.upstreamPort)
      writeFileSync(join(dir, 'nginx.conf'), conf)
      const argv = [ctx.nginx!, '-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')]
      return running(port, ctx.start(def.name, argv), { lang: 'nginx', text: conf })
    }
    case 'node-floor': {
      const port = await ctx.port()
      const script = join(import.meta.dirname, '..', 'floor-proxy.ts')
      const argv = [process.execPath, script, String(port), String(ctx.upstreamPort)]
      return running(port, ctx.start(def.name, argv), null)
    }
    case 'haproxy': {
      const port = await ctx.port()
      const conf = haproxyConfig(def.alg!, port, ctx)
      const file = join(dir, 'haproxy.cfg')
      writeFileSync(file, conf, { mode: 0o600 }) // it holds the HMAC secret
      // A syntax or key-loading problem is reported here, with HAProxy's own words.
      const check = spawnSync(ctx.haproxy!, ['-c', '-q', '-f', file], { encoding: 'utf8' })
      if (check.status !== 0)
        throw new Error(`haproxy -c rejected ${file}: ${`${check.stdout}${check.stderr}`.trim()}`)
      const shown = conf.replaceAll(ctx.tokens.secret, REDACTED)
      return running(port, ctx.start(def.name, [ctx.haproxy!, '-db', '-f', file]), {
        lang: 'haproxy',
        text: shown,
      })
    }
    case 'express-gateway': {
      const port = await ctx.port()
      const configDir = join(dir, 'config')
      const yaml = expressGatewayConfig(def.alg!, port, ctx, configDir)
      // No admin: section, so the admin API is not started; http_proxy would divert the proxy policy.
      const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'error', NODE_ENV: 'production' }
      for (const name of ['http_proxy', 'HTTP_PROXY', 'https_proxy', 'HTTPS_PROXY']) delete env[name]
      const argv = [
        process.execPath,
        '-e',
        'require(process.argv[1])().load(process.argv[2]).run()',
        ctx.expressGateway!,
        configDir,
      ]
      return running(port, ctx.start(def.name, argv, { env, cwd: dir }), { lang: 'yaml', text: yaml })
    }
  }
}

/**
 * gatehouse: one service, one route `/`, no plugins. gatehouse-nolog: the same, access log off.
 * gatehouse-jwt-<alg>: the same plus the jwt plugin on the service and one consumer whose jwt_secret has
 * key = the tokens' issuer (the default key_claim_name is iss), the algorithm, and the secret or public key.
 * identity-token: the identity provider (SQLite in `dbPath`) and no service. gatehouse-oidc: the provider,
 * and the route with the openid-connect plugin (issuer = that provider, audience = its resource).
 * gatehouse-passport-rs256: gatehouse-jwt-rs256's plus the internal-token plugin and `internal_tokens`.
 * gatehouse-ratelimit-<policy>: gatehouse's plus rate-limiting on the service (and `redis`, the run's
 * server on `redisPort`). gatehouse-2nodes: exactly gatehouse's, one file for both nodes. gatehouse-workers2:
 * exactly gatehouse's (the worker count is on the command line).
 */
function gatehouseConfig(
  def: SystemDef,
  ctx: StartContext,
  provider: Provider | null,
  dbPath: string,
  redisPort: number | undefined,
): { json: string; shown: string } {
  const service: Record<string, unknown> = {
    name: 'bench',
    url: `http://127.0.0.1:${ctx.upstreamPort}`,
    routes: [{ name: 'all', paths: ['/'], strip_path: false }],
  }
  const config: Record<string, unknown> = { _format_version: '3.0' }
  if (def.name === 'gatehouse-nolog') config['logging'] = { access_log: false }
  if (provider) Object.assign(config, identitySections(provider, dbPath))
  if (def.identity !== 'issue') config['services'] = [service]
  if (provider && def.identity === 'verify')
    (service['routes'] as Record<string, unknown>[])[0]!['plugins'] = [openIdConnectPlugin(provider)]
  if (def.rateLimit) service['plugins'] = [rateLimitingPlugin(def.rateLimit)]
  if (redisPort !== undefined) config['redis'] = redisSection(redisPort)
  if (def.alg) {
    const jwt = { name: 'jwt', config: { claims_to_verify: ['exp'] } }
    service['plugins'] = def.internalToken ? [jwt, internalTokenPlugin(ctx.upstreamPort)] : [jwt]
    if (def.internalToken) config['internal_tokens'] = internalTokensSection()
    const secret =
      def.alg === 'HS256'
        ? { key: ISSUER, algorithm: 'HS256', secret: ctx.tokens.secret }
        : { key: ISSUER, algorithm: def.alg, rsa_public_key: ctx.tokens.publicKeyPem[def.alg] }
    config['consumers'] = [{ username: 'bench', jwt_secrets: [secret] }]
  }
  const json = JSON.stringify(config)
  let shown = json.replaceAll(ctx.tokens.secret, REDACTED)
  if (provider) {
    shown = shown
      .replaceAll(provider.rootSecret, '<identity secret of this run>')
      .replaceAll(provider.clientSecret, '<client secret of this run>')
  }
  return { json: `${json}\n`, shown }
}

function nginxConfig(dir: string, port: number, upstreamPort: number): string {
  return `# Plain reverse proxy: the floor of what one proxy hop costs on this machine.
worker_processes 1;              # one core for the server side, like Gatehouse (one process)
daemon off;                      # stay in the foreground so the recorded PID is the master
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/tmp/body;
  proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi;
  scgi_temp_path ${dir}/tmp/scgi;
  keepalive_requests 10000000;   # the default 1000 would force client reconnects mid-run; the others don't
  upstream bench_upstream {
    server 127.0.0.1:${upstreamPort};
    keepalive 128;
    keepalive_requests 10000000;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://bench_upstream;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
`
}

/**
 * HAProxy verifying the bearer token itself: header alg pinned to the expected one, signature (jwt_verify:
 * the HMAC secret text, or the path of the PEM public key, loaded at parse time), iss, aud and exp; any
 * failure is a 401. One thread, like the single-process Node systems and nginx's single worker.
 */
function haproxyConfig(alg: Alg, port: number, ctx: StartContext): string {
  const key = alg === 'HS256' ? ctx.tokens.secret : ctx.tokens.publicKeyFile[alg]
  return `global
  nbthread 1
  maxconn 4096                 # x2 FDs must fit the usual 20000 nofile limit

defaults
  mode http
  option http-keep-alive
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  timeout http-keep-alive 60s

frontend bench
  bind 127.0.0.1:${port}
  http-request set-var(txn.bearer) http_auth_bearer
  http-request deny deny_status 401 unless { var(txn.bearer) -m found }
  http-request deny deny_status 401 unless { var(txn.bearer),jwt_header_query('$.alg') -m str ${alg} }
  http-request deny deny_status 401 unless { var(txn.bearer),jwt_verify("${alg}","${key}") -m int 1 }
  http-request deny deny_status 401 unless { var(txn.bearer),jwt_payload_query('$.iss') -m str ${ISSUER} }
  http-request deny deny_status 401 unless { var(txn.bearer),jwt_payload_query('$.aud') -m str ${AUDIENCE} }
  http-request set-var(txn.exp) var(txn.bearer),jwt_payload_query('$.exp','int')
  http-request set-var(txn.now) date
  http-request deny deny_status 401 unless { var(txn.exp),sub(txn.now) -m int gt 0 }
  default_backend upstream

backend upstream
  server up1 127.0.0.1:${ctx.upstreamPort}
`
}

/**
 * Express Gateway: the jwt policy (issuer, audience; checkCredentialExistence off, so no consumer lookup —
 * the same work as the others) then the proxy policy. Its schema lets `algorithms` name only HS* and RS*;
 * for ES256 it is left out, and jsonwebtoken then allows only the public-key algorithms for a PEM public key
 * (RS*, PS*, ES*), of which an EC key verifies only ES*: an HS256 or RS256 token is still refused.
 * Writes gateway.config.yml and system.config.yml in `configDir`; returns the former.
 */
function expressGatewayConfig(alg: Alg, port: number, ctx: StartContext, configDir: string): string {
  const keyFile = alg === 'HS256' ? ctx.tokens.secretFile : ctx.tokens.publicKeyFile[alg]
  const algorithms = alg === 'ES256' ? '' : `\n              algorithms: [${alg}]`
  mkdirSync(join(configDir, 'models'), { recursive: true })
  const models = join(ctx.expressGateway!, 'lib', 'config', 'models')
  for (const f of readdirSync(models)) cpSync(join(models, f), join(configDir, 'models', f))
  const gateway = `http:
  hostname: 127.0.0.1
  port: ${port}
apiEndpoints:
  api:
    host: '*'
    paths: ['/', '/*']
serviceEndpoints:
  upstream:
    url: 'http://127.0.0.1:${ctx.upstreamPort}'
policies: [jwt, proxy]
pipelines:
  bench:
    apiEndpoints: [api]
    policies:
      - jwt:
          - action:
              secretOrPublicKeyFile: '${keyFile}'
              checkCredentialExistence: false
              issuer: '${ISSUER}'
              audience: '${AUDIENCE}'${algorithms}
      - proxy:
          - action:
              serviceEndpoint: upstream
`
  writeFileSync(join(configDir, 'gateway.config.yml'), gateway)
  writeFileSync(
    join(configDir, 'system.config.yml'),
    `db:
  redis:
    emulate: true
    namespace: EG
crypto:
  cipherKey: bench-only-cipher-key
  algorithm: aes256
  saltRounds: 10
session:
  secret: bench-only-session-secret
  resave: false
  saveUninitialized: false
accessTokens:
  timeToExpiry: 7200000
refreshTokens:
  timeToExpiry: 7200000
authorizationCodes:
  timeToExpiry: 300000
`,
  )
  return gateway
}
