/**
 * Gatehouse benchmark driver (`npm run bench`; never part of `npm test`).
 *
 * Measures, with wrk, in ONE run and on 127.0.0.1, what one proxy hop costs and what verifying a JWT on
 * every request costs (the systems are defined in lib/systems.ts):
 *   direct           wrk → upstream (the baseline every ratio is taken against)
 *   gatehouse        wrk → Gatehouse → upstream (one service, one route `/`, no plugins, default settings,
 *                    so the access log is on, written to a file)
 *   gatehouse-nolog  the same with `logging: { access_log: false }`
 *   nginx            wrk → nginx (plain reverse proxy, upstream keep-alive pool, access_log off) → upstream
 *   node-floor       wrk → a bare node:http + undici proxy (floor-proxy.ts) → upstream: what any Node proxy
 *                    on Gatehouse's foundations costs, so Gatehouse's own cost can be read apart from it
 *   gatehouse-jwt-{hs256,rs256,es256}    Gatehouse with the Kong-format jwt plugin (access log on)
 *   haproxy-{hs256,rs256,es256}          HAProxy jwt_verify (alg, signature, iss, aud, exp), one thread
 *   express-gateway-{hs256,rs256,es256}  Express Gateway 1.x jwt policy
 *   identity-token   Gatehouse's identity provider: POST <issuer>/token, client_credentials with HTTP Basic
 *                    client authentication (wrk-token-request.lua); token issuances per second (2xx only)
 *   gatehouse-oidc   the route `/` protected by openid-connect, with tokens issued by the provider running in
 *                    the same Gatehouse process (lib/identity.ts)
 *   gatehouse-passport-rs256  gatehouse-jwt-rs256 plus the internal-token plugin: the caller's profile from
 *                    the upstream's /users/{sub} (cached), an internal ES256 token minted (cached) for the
 *                    upstream in place of the caller's token (lib/passport.ts)
 *   gatehouse-ratelimit-local / gatehouse-ratelimit-redis  gatehouse plus rate-limiting on the service with
 *                    limits never reached, counting in memory / in a redis-server started for the run (skipped,
 *                    and reported as not measured, when redis-server is not on PATH) (lib/scale-out.ts)
 *   gatehouse-2nodes two Gatehouse processes with gatehouse's configuration; one wrk per node at once, each
 *                    with half of the connections, results added
 *   gatehouse-workers2  gatehouse's configuration started with `--workers 2` (a primary and two workers
 *                    sharing the port, the whole tree pinned to the server CPU; lib/workers.ts)
 * Every proxied request carries a bearer token from a pool of distinct valid JWTs made for this run
 * (lib/tokens.ts, sent in rotation by wrk-tokens.lua): the JWT systems get their algorithm's pool,
 * gatehouse-oidc a pool issued by its provider (OIDC_POOL), the others the BASELINE_TOKENS pool, so request
 * sizes match. A second table sets Gatehouse beside HAProxy and Express Gateway per algorithm, against the
 * targets of issue 3; a third shows the identity provider's figures (issue 4); a fourth sets the identity
 * propagation pipeline beside plain jwt, HAProxy and Express Gateway against the targets of issue 5; the
 * scale-out tables (issue 7) set rate limiting (local, redis) and two nodes beside plain gatehouse, with
 * the CPU time per request (on 2 cores the servers share one, so two nodes cannot add throughput: CPU per
 * request shows what a second node costs); the issue 11 tables set Gatehouse's own cost against its targets
 * (req/s and p99 against node-floor, HAProxy) and two workers beside one (CPU per request of the whole
 * process tree, memory per process). Every row's CPU time per request is that of the system's whole
 * process tree (lib/proc-tree.ts), in the first table too.
 *
 * Why it is built this way:
 * - 2-core machine: wrk is pinned to CPU WRK_CPUS (0) and every server (upstream and system under test) to
 *   SERVER_CPUS (1) with taskset, so the load generator never steals the servers' CPU.
 * - Drift (thermal, other tenants) is spread evenly: each round measures every system once, round-robin,
 *   starting one system later each round; RUNS rounds, and the summary shows median and min–max.
 * - Nothing is measured unless every selected system passes its pre-run check (no-auth systems: 200; JWT
 *   systems: no token → 401, valid → 200, bad signature → 401, expired → 401; identity-token: a JWT for the
 *   resource → 200, a wrong client secret → 401; gatehouse-oidc: provider token → 200, none → 401, token for
 *   another audience → 401; gatehouse-passport-rs256: the JWT cases, and the token the upstream received is
 *   an internal token that verifies with the gateway's JWKS, for the caller, with the caller's profile;
 *   rate-limiting systems: the X-RateLimit-Limit-Second header, and with redis the counter in Redis;
 *   gatehouse-2nodes: 200 from each node); otherwise the run stops with the reasons and each failing
 *   system's log.
 * - Before each measurement the machine must be quiet (other load < QUIET_PCT% of a core, waiting at most
 *   QUIET_WAIT s); a run during which others took ≥ DISTURBED_PCT% of a core is measured again (at most
 *   RETRY_DISTURBED times) and flagged if it stays noisy. Runs with HTTP or socket errors are flagged.
 * - Free ports are picked at start (bind port 0), never fixed ones. Every process started here is the leader
 *   of its own process group and is stopped on exit, error or Ctrl-C — only those.
 *
 * One file on purpose (over STYLE's 400 lines): it is the whole measurement procedure in the order it runs,
 * so a reader can check the method top to bottom; systems, tokens, installs, process handling and reporting
 * live in lib/.
 *
 * Settings (environment): DURATION (10s), WARMUP (3s), RUNS (3), PAIRED_RUNS (0: issue 11's pairs loaded at
 * the same time, lib/paired.ts), CONNECTIONS ("50"; several: "10 50 100"),
 * THREADS (1), SYSTEMS (all; group names gatehouse-jwt, haproxy, express-gateway, identity, passport,
 * scale-out, workers),
 * BASELINE_TOKENS (RS256 | HS256 | ES256 | none), TOKEN_POOL (1000), OIDC_POOL (200), PEERS_DIR
 * (<tmpdir>/gatehouse-bench-peers), PIN (auto | off), WRK_CPUS (0), SERVER_CPUS (1), QUIET_PCT (15),
 * QUIET_WAIT (60), DISTURBED_PCT (25), RETRY_DISTURBED (1), KEEP_TMP (0), CPU_PROF (a directory: CPU
 * profiles of the Gatehouse processes). See bench/README.md.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { availableParallelism, cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import {
  BENCH_DIR,
  badSetting,
  duration,
  firstLine,
  gatehouseCommand,
  onShutdown,
  pinnedStarter,
  positiveInt,
  ROOT,
  requireNode,
  say,
  seconds,
} from './lib/driver.ts'
import { checkTokenEndpoint, PROVIDER_TOKEN_TTL_S } from './lib/identity.ts'
import { EXPRESS_GATEWAY_VERSION, ensureExpressGateway, ensureTools, have, onPath } from './lib/install.ts'
import {
  PAIRED_NOTE,
  type PairedRound,
  pairedMarkdown,
  pairedRows,
  pairedText,
  pairsToMeasure,
} from './lib/paired.ts'
import {
  checkInternalToken,
  ENRICH_TTL_S,
  INTERNAL_AUDIENCE,
  INTERNAL_REUSE_UNTIL_REMAINING,
  INTERNAL_TTL_S,
} from './lib/passport.ts'
import { snapshot, treeMemory, treeOf } from './lib/proc-tree.ts'
import {
  freePorts,
  httpStatus,
  logTail,
  machineBusyTicks,
  type Started,
  selfTicks,
  stopAll,
  TICKS_PER_SECOND,
  waitPort,
  waitQuiet,
} from './lib/procs.ts'
import {
  errorCount,
  identityMarkdownTable,
  identityRows,
  identityTextTable,
  jwtComparison,
  jwtMarkdownTable,
  jwtTextTable,
  markdownTable,
  type Row,
  summarize,
  TARGETS,
  targetsMet,
  textTable,
  toTsv,
} from './lib/report.ts'
import {
  PROPAGATION_TARGETS,
  propagationMarkdownTable,
  propagationRows,
  propagationTargetsMet,
  propagationTextTable,
} from './lib/report-propagation.ts'
import { scaleOutMarkdown, scaleOutRows, scaleOutText } from './lib/report-scale-out.ts'
import {
  issue11Markdown,
  issue11Text,
  ownCostRows,
  ownCostVerdict,
  workersRows,
} from './lib/report-workers.ts'
import {
  checkNodes,
  checkRateLimit,
  type Listening,
  RATE_LIMIT_BY,
  RATE_LIMIT_SECOND,
} from './lib/scale-out.ts'
import {
  ALL_SYSTEMS,
  portsOf,
  type RunningSystem,
  type StartContext,
  type SystemDef,
  selectSystems,
  startSystem,
} from './lib/systems.ts'
import { ALGS, type Alg, makeTokens, type Tokens } from './lib/tokens.ts'
import { checkWorkers } from './lib/workers.ts'
import { okOf, runWrk, showWrk, type WrkCommand, type WrkResult } from './lib/wrk.ts'

// --- settings ---
const env = process.env
const DURATION = duration('DURATION', '10s')
const WARMUP = duration('WARMUP', '3s')
const RUNS = Math.max(1, positiveInt('RUNS', 3))
/** Rounds of issue 11's pairs loaded at the same time (lib/paired.ts), after the others; 0: none. */
const PAIRED_RUNS = env.PAIRED_RUNS === '0' ? 0 : positiveInt('PAIRED_RUNS', 0)
const THREADS = Math.max(1, positiveInt('THREADS', 1))
const CONNECTIONS = (env.CONNECTIONS ?? '50')
  .split(/[\s,]+/)
  .filter(Boolean)
  .map(Number)
const SELECTED = (() => {
  try {
    return selectSystems(
      (env.SYSTEMS ?? ALL_SYSTEMS.map((s) => s.name).join(' ')).split(/[\s,]+/).filter(Boolean),
    )
  } catch (err) {
    return badSetting((err as Error).message)
  }
})()
/** redis-server on PATH; without it gatehouse-ratelimit-redis is left out and reported as not measured. */
const REDIS_SERVER = onPath('redis-server')
/** Selected systems that cannot be measured here, and why (shown in the report, never silently dropped). */
const SKIPPED = new Map<string, string>(
  SELECTED.filter((d) => d.rateLimit === 'redis' && REDIS_SERVER === null).map((d) => [
    d.name,
    'redis-server missing',
  ]),
)
const SYSTEMS: SystemDef[] = SELECTED.filter((d) => !SKIPPED.has(d.name))
const BASELINE_TOKENS = (env.BASELINE_TOKENS ?? 'RS256').toUpperCase()
const TOKEN_POOL = positiveInt('TOKEN_POOL', 1000)
/** gatehouse-oidc: tokens issued by the provider before measuring, sent in rotation. */
const OIDC_POOL = positiveInt('OIDC_POOL', 200)
/** Tokens live an hour; pools are signed again once half of that is over (a long run never sends expired ones). */
const TOKEN_TTL_S = 3600
const PEERS_DIR = env.PEERS_DIR ?? join(tmpdir(), 'gatehouse-bench-peers')
const WRK_CPUS = env.WRK_CPUS ?? '0'
const SERVER_CPUS = env.SERVER_CPUS ?? '1'
const QUIET_PCT = positiveInt('QUIET_PCT', 15)
const QUIET_WAIT = positiveInt('QUIET_WAIT', 60)
const DISTURBED_PCT = positiveInt('DISTURBED_PCT', 25)
const RETRY_DISTURBED = positiveInt('RETRY_DISTURBED', 1)
const KEEP_TMP = env.KEEP_TMP === '1'
/** Scratch directory (tokens, configs, server logs, raw wrk output); removed after a clean run unless KEEP_TMP=1. */
let tmp = ''
/** Nodes of the system with the most (each node's wrk needs at least THREADS connections). */
const MAX_NODES = Math.max(1, ...SYSTEMS.map((d) => d.nodes ?? 1))
for (const c of CONNECTIONS) {
  if (!Number.isInteger(c) || c < THREADS * MAX_NODES)
    badSetting(
      `CONNECTIONS must be whole numbers ≥ THREADS (${THREADS})${MAX_NODES > 1 ? ` × ${MAX_NODES} nodes` : ''}`,
    )
}
if (SYSTEMS.length === 0)
  badSetting(
    SKIPPED.size > 0
      ? `nothing to measure: ${[...SKIPPED].map(([name, why]) => `${name} not measured: ${why}`).join('; ')}`
      : 'SYSTEMS names no system',
  )
if (BASELINE_TOKENS !== 'NONE' && !(ALGS as readonly string[]).includes(BASELINE_TOKENS))
  badSetting(`BASELINE_TOKENS must be one of ${ALGS.join(', ')} or none (got ${env.BASELINE_TOKENS})`)
if (TOKEN_POOL < 1) badSetting('TOKEN_POOL must be at least 1')
if (OIDC_POOL < 1) badSetting('OIDC_POOL must be at least 1')
/** The bench token pool a system's requests carry: its own algorithm's, else the baseline (null: none). */
const poolOf = (s: RunningSystem): Alg | null =>
  s.def.identity ? null : (s.def.alg ?? (BASELINE_TOKENS === 'NONE' ? null : (BASELINE_TOKENS as Alg)))

/**
 * What wrk sends a system: the Lua script, the path, the environment the script reads, and a label for the
 * TSV's `tokens` column. identity-token: the client_credentials request (TOKEN_REQUEST file) to the token
 * endpoint; gatehouse-oidc: its provider-issued pool; the others: their bench token pool, or none.
 */
function loadOf(
  s: RunningSystem,
  tokens: Tokens,
): {
  script: string
  path: string
  env: Record<string, string>
  label: string
} {
  if (s.provider?.tokenRequest) {
    return {
      script: 'wrk-token-request.lua',
      path: new URL(s.provider.provider.tokenEndpoint).pathname,
      env: { TOKEN_REQUEST: s.provider.tokenRequest },
      label: 'client_credentials',
    }
  }
  if (s.provider?.pool) {
    const pool = s.provider.pool
    return { script: 'wrk-tokens.lua', path: '/', env: { TOKENS: pool.file }, label: `provider-${pool.alg}` }
  }
  const pool = poolOf(s)
  return pool
    ? { script: 'wrk-tokens.lua', path: '/', env: { TOKENS: tokens.poolFile[pool] }, label: pool }
    : { script: 'wrk-json.lua', path: '/', env: {}, label: 'none' }
}

// --- the systems under test ---
/** A system's gateway processes and their ports: its nodes, or the one process. */
const nodesOf = (s: RunningSystem): Listening[] => s.nodes ?? [{ port: s.port, process: s.process }]
/** Every process group whose CPU is the system's: its nodes and its Redis server. */
const groupsOf = (s: RunningSystem): Started[] => [
  ...nodesOf(s).map((n) => n.process),
  ...(s.redis ? [s.redis.process] : []),
]

interface Setup {
  tmp: string
  upstream: Started
  upstreamPort: number
  systems: RunningSystem[]
  tokens: Tokens
  /** Server command lines, for the report. */
  commands: string[]
  /** Each system's pre-run check, for the report. */
  checks: string[]
  pin: boolean
}

/**
 * The pre-run check: the system answers on its port, and GET / answers 200 to a valid token (no-auth
 * systems: to their baseline token) and — JWT systems — 401 to no token, a bad signature and an expired
 * token. Returns what it saw, and whether that was right.
 */
async function preRunCheck(s: RunningSystem, tokens: Tokens): Promise<{ ok: boolean; detail: string }> {
  for (const node of nodesOf(s)) await waitPort(node.port, node.process, 60_000)
  if (s.provider?.tokenRequest) return checkTokenEndpoint(s.provider.provider)
  let issued = ''
  if (s.provider?.pool) {
    const pool = s.provider.pool
    say(
      `${s.name}: issuing ${pool.size} access tokens with client_credentials at ${s.provider.provider.issuer}`,
    )
    const t0 = performance.now()
    await pool.refresh()
    const ms = Math.round(performance.now() - t0)
    issued = `${pool.size} ${pool.alg} tokens issued by the provider in ${ms} ms, lifetime ${pool.lifetime} s; `
  }
  const pool = poolOf(s)
  const cases: [name: string, token: string | undefined, expected: number][] = s.provider?.pool
    ? [
        ['missing', undefined, 401],
        ['good', s.provider.pool.good, 200],
        ['other-audience', s.provider.pool.otherAudience, 401],
      ]
    : s.def.alg
      ? [
          ['missing', undefined, 401],
          ['good', tokens.checks[s.def.alg].good, 200],
          ['badsig', tokens.checks[s.def.alg].badsig, 401],
          ['expired', tokens.checks[s.def.alg].expired, 401],
        ]
      : [['good', pool ? tokens.checks[pool].good : undefined, 200]]
  let ok = true
  const seen: string[] = []
  for (const [name, token, expected] of cases) {
    const status = await httpStatus(s.port, token)
    ok &&= status === expected
    seen.push(`${name} → ${status || 'no answer'}${status === expected ? '' : ` (expected ${expected})`}`)
  }
  if (ok && s.def.internalToken) {
    const propagated = await checkInternalToken(s.port, tokens.checks[s.def.alg!].good)
    ok = propagated.ok
    seen.push(propagated.detail)
  }
  const baseline = pool ? tokens.checks[pool].good : undefined
  if (ok && s.def.rateLimit) {
    const limited = await checkRateLimit(s.port, baseline, s.redis)
    ok = limited.ok
    seen.push(limited.detail)
  }
  if (ok && s.nodes) {
    const each = await checkNodes(s.nodes, baseline)
    ok = each.ok
    seen.push(each.detail)
  }
  if (ok && (s.def.workers ?? 1) > 1) {
    const tree = await checkWorkers(s.process.pid, s.def.workers!)
    ok = tree.ok
    seen.push(tree.detail)
  }
  return { ok, detail: issued + seen.join(', ') }
}

async function startAll(
  tmp: string,
  tools: { nginx: string | null; haproxy: string | null },
  expressGateway: string | null,
  tokens: Tokens,
  pin: boolean,
): Promise<Setup> {
  const commands: string[] = []
  const start = pinnedStarter(tmp, pin, SERVER_CPUS, commands)
  // All ports at once (distinct): the upstream's, and each system's (two per Gatehouse node, and Redis).
  const ports = await freePorts(1 + SYSTEMS.reduce((n, d) => n + portsOf(d), 0))
  const upstreamPort = ports.shift()!
  const upstream = start('upstream', [process.execPath, join(BENCH_DIR, 'upstream.ts'), String(upstreamPort)])
  await waitPort(upstreamPort, upstream)

  const ctx: StartContext = {
    tmp,
    upstreamPort,
    tokens,
    gatehouse: gatehouseCommand(),
    nginx: tools.nginx,
    haproxy: tools.haproxy,
    expressGateway,
    start,
    port: async () => ports.shift()!,
    providerPoolSize: OIDC_POOL,
    redisServer: REDIS_SERVER,
  }

  // Start everything, then check everything: a failure is reported with all the others, before measuring.
  const failures = new Map<string, string>()
  const fail = (name: string, why: string, log: string | null) => {
    const tail = log ? logTail(log) : ''
    failures.set(
      name,
      `${why}${tail ? `\n      ${log}:\n        ${tail.split('\n').join('\n        ')}` : ''}`,
    )
  }
  const systems: RunningSystem[] = []
  for (const def of SYSTEMS) {
    try {
      systems.push(await startSystem(def, ctx, upstream))
    } catch (err) {
      fail(def.name, `did not start: ${(err as Error).message}`, null)
    }
  }
  const checks: string[] = []
  for (const s of systems) {
    try {
      const { ok, detail } = await preRunCheck(s, tokens)
      checks.push(`${s.name}: ${detail}`)
      if (ok) say(`${s.name} ready on 127.0.0.1:${s.port} (${detail})`)
      else fail(s.name, `failed the pre-run check: ${detail}`, s.process.log)
    } catch (err) {
      const why = (err as Error).message
      fail(s.name, why.startsWith(`${s.name} `) ? why.slice(s.name.length + 1) : why, s.process.log)
    }
  }
  if (failures.size > 0) {
    for (const [name, why] of failures) say(`NOT READY ${name}: ${why}`)
    const ok = SYSTEMS.filter((d) => !failures.has(d.name)).map((d) => d.name)
    throw new Error(
      `${failures.size} system(s) failed before measuring, so nothing was measured (see above). ` +
        `To measure the others: SYSTEMS="${ok.join(' ')}"`,
    )
  }
  // Gatehouse's access log: on in every Gatehouse system but gatehouse-nolog (lines are flushed ≤ 100 ms).
  await sleep(500)
  for (const s of systems.filter((x) => x.def.kind === 'gatehouse')) {
    for (const { process } of nodesOf(s)) {
      const logged = readFileSync(process.log, 'utf8').includes('"type":"access"')
      if (logged !== (s.name !== 'gatehouse-nolog')) {
        say(
          `WARNING: ${process.name} ${logged ? 'wrote' : 'did not write'} an access-log line; check ${process.log}`,
        )
      }
    }
  }
  return { tmp, upstream, upstreamPort, systems, tokens, commands, checks, pin }
}

// --- measuring ---
/**
 * The wrk commands loading a system: one, or one per node run at the same time, the connections shared
 * out as evenly as they go (50 → 25 + 25). wrk cannot spread one run over several hosts, and two wrk
 * processes measured together, their results added, are as honest as a balancer in front would be
 * without adding its cost.
 */
function wrkCommands(setup: Setup, s: RunningSystem, conns: number, length: string): WrkCommand[] {
  const load = loadOf(s, setup.tokens)
  const nodes = nodesOf(s)
  return nodes.map((node, i) => {
    const share = Math.floor(conns / nodes.length) + (i < conns % nodes.length ? 1 : 0)
    const argv = ['wrk', `-t${THREADS}`, `-c${share}`, `-d${length}`, '--latency', '--timeout', '5s']
    argv.push('-s', join(BENCH_DIR, load.script), `http://127.0.0.1:${node.port}${load.path}`)
    return { argv: setup.pin ? ['taskset', '-c', WRK_CPUS, ...argv] : argv, env: load.env }
  })
}

/** Runs a system's wrk commands at the same time (raw output in `<out>.txt`, or `<out>.node<N>.txt`). */
function runLoad(commands: WrkCommand[], out: string): Promise<WrkResult[]> {
  return Promise.all(
    commands.map((w, i) => runWrk(w, commands.length > 1 ? `${out}.node${i + 1}.txt` : `${out}.txt`)),
  )
}

/**
 * One paired round (lib/paired.ts): both systems loaded at the same time, warm-up included, and each one's
 * successful requests and process-tree CPU over the same seconds.
 */
async function measurePair(
  setup: Setup,
  system: RunningSystem,
  reference: RunningSystem,
  conns: number,
  round: number,
): Promise<PairedRound> {
  const tag = `paired${round}-${system.name}-${reference.name}-c${conns}`
  await waitQuiet(QUIET_PCT, QUIET_WAIT, say)
  const both = (length: string, out: string) =>
    Promise.all([
      runLoad(wrkCommands(setup, system, conns, length), join(setup.tmp, 'wrk', `${out}.${system.name}`)),
      runLoad(
        wrkCommands(setup, reference, conns, length),
        join(setup.tmp, 'wrk', `${out}.${reference.name}`),
      ),
    ])
  await both(WARMUP, `${tag}.warmup`)
  const before = snapshot()
  const [mine, theirs] = await both(DURATION, tag)
  const after = snapshot()
  const ticks = (s: RunningSystem) =>
    groupsOf(s).reduce(
      (n, g) =>
        n +
        treeOf(after, g.pid).reduce((t, p) => t + p.ticks, 0) -
        treeOf(before, g.pid).reduce((t, p) => t + p.ticks, 0),
      0,
    )
  const side = (s: RunningSystem, results: WrkResult[]) => ({
    system: s.name,
    ok: results.reduce((n, w) => n + okOf(w), 0),
    ticks: ticks(s),
  })
  const pair = { round, conns, system: side(system, mine), reference: side(reference, theirs) }
  const us = (p: typeof pair.system) => (p.ok > 0 ? ((p.ticks / TICKS_PER_SECOND) * 1e6) / p.ok : 0)
  say(
    `paired round ${round}/${PAIRED_RUNS} c=${conns}: ${system.name} ${pair.system.ok} requests, ` +
      `${us(pair.system).toFixed(1)} µs CPU/req; ${reference.name} ${pair.reference.ok} requests, ` +
      `${us(pair.reference).toFixed(1)} µs CPU/req`,
  )
  return pair
}

async function measure(setup: Setup, s: RunningSystem, conns: number, round: number): Promise<Row> {
  const tag = `r${round}-${s.name}-c${conns}`
  const nodes = nodesOf(s)
  for (let attempt = 1; ; attempt++) {
    if (Date.now() - setup.tokens.signedAt > (TOKEN_TTL_S * 1000) / 2) {
      say('signing new token pools (half of the tokens’ lifetime is over)')
      await setup.tokens.refresh()
    }
    const providerPool = s.provider?.pool
    if (providerPool && Date.now() - providerPool.issuedAt > (providerPool.lifetime * 1000) / 2) {
      say(`${s.name}: issuing a new provider token pool (half of the tokens’ lifetime is over)`)
      await providerPool.refresh()
    }
    await waitQuiet(QUIET_PCT, QUIET_WAIT, say)
    await runLoad(wrkCommands(setup, s, conns, WARMUP), join(setup.tmp, 'wrk', `${tag}.warmup`))
    const before = { t: performance.now(), busy: machineBusyTicks(), self: selfTicks(), procs: snapshot() }
    const results = await runLoad(wrkCommands(setup, s, conns, DURATION), join(setup.tmp, 'wrk', tag))
    const after = { t: performance.now(), busy: machineBusyTicks(), self: selfTicks(), procs: snapshot() }

    // CPU in % of one core over the run. wrk has exited and been reaped, so its CPU is in our children's.
    const pct = (ticks: number) =>
      Math.round((ticks * 100) / (((after.t - before.t) / 1000) * TICKS_PER_SECOND))
    // Each server's CPU is its whole process tree's (lib/proc-tree.ts): a node's primary and workers.
    const ticks = (procs: typeof before.procs, root: number) =>
      treeOf(procs, root).reduce((n, p) => n + p.ticks, 0)
    const delta = (root: number) => ticks(after.procs, root) - ticks(before.procs, root)
    // The system's CPU is all of its processes': every node, and its Redis server.
    const nodeTicks = nodes.map((n) => delta(n.process.pid))
    const redisTicks = s.redis ? delta(s.redis.process.pid) : 0
    const sut = nodeTicks.reduce((a, b) => a + b, 0) + redisTicks
    const up = s.process === setup.upstream ? 0 : delta(setup.upstream.pid)
    const wrk = after.self.reapedChildren - before.self.reapedChildren
    const self = after.self.self - before.self.self
    const other = Math.max(0, after.busy - before.busy - sut - up - wrk - self)
    // Several nodes: counts add up, each node's req/s over its own wrk's duration; latency percentiles
    // cannot be merged, so the slower node's are kept. Any error flags the row.
    const sum = (f: (w: WrkResult) => number) => results.reduce((n, w) => n + f(w), 0)
    const slowest = (f: (w: WrkResult) => number) => Math.max(...results.map(f))
    const nodeRps = results.map((w) => okOf(w) / (w.duration_us / 1e6))
    const ok = sum(okOf)
    const usPerReq = (t: number) => (ok > 0 ? Math.round(((t / TICKS_PER_SECOND) * 1e7) / ok) / 10 : 0)
    // Each process of the system on its own (workers, nginx's master and worker), and memory after the run.
    const roots = groupsOf(s).map((g) => g.pid)
    const procs = roots.flatMap((root) => treeOf(after.procs, root))
    const ticksBefore = new Map(
      roots.flatMap((root) => treeOf(before.procs, root)).map((p) => [p.pid, p.ticks]),
    )
    const procCpu = procs.map((p) => pct(p.ticks - (ticksBefore.get(p.pid) ?? 0)))
    const rssKb = roots.flatMap((root) => treeMemory(root)).map((p) => p.rssKb)
    const row: Row = {
      round,
      system: s.name,
      conns,
      tokens: loadOf(s, setup.tokens).label,
      rps: Math.round(nodeRps.reduce((a, b) => a + b, 0)),
      p50_ms: slowest((w) => w.p50_us) / 1000,
      p90_ms: slowest((w) => w.p90_us) / 1000,
      p99_ms: slowest((w) => w.p99_us) / 1000,
      requests: sum((w) => w.requests),
      non2xx: sum((w) => w.requests - okOf(w)),
      connect_err: sum((w) => w.connect_err),
      read_err: sum((w) => w.read_err),
      write_err: sum((w) => w.write_err),
      timeouts: sum((w) => w.timeouts),
      sut_cpu_pct: pct(sut),
      upstream_cpu_pct: s.process === setup.upstream ? pct(sut) : pct(up),
      wrk_cpu_pct: pct(wrk),
      other_cpu_pct: pct(other),
      attempts: attempt,
      cpu_us_per_req: usPerReq(sut),
      server_cpu_us_per_req: usPerReq(sut + up),
      redis_cpu_pct: s.redis ? pct(redisTicks) : null,
      node_rps: nodes.length > 1 ? nodeRps.map(Math.round).join('+') : '',
      node_cpu_pct: nodes.length > 1 ? nodeTicks.map(pct).join('+') : '',
      proc_cpu_pct: procCpu.length > 1 ? procCpu.join('+') : '',
      rss_mb: Math.round(rssKb.reduce((a, b) => a + b, 0) / 1024),
      proc_rss_mb: rssKb.length > 1 ? rssKb.map((kb) => Math.round(kb / 1024)).join('+') : '',
    }
    say(
      `round ${round}/${RUNS} ${s.name} c=${conns}: ${row.rps.toLocaleString('en-US')} req/s` +
        (row.node_rps ? ` (nodes ${row.node_rps.replaceAll('+', ' + ')})` : '') +
        `, p50 ${row.p50_ms.toFixed(2)} ms, p99 ${row.p99_ms.toFixed(2)} ms — CPU % of a core: ` +
        `system ${row.sut_cpu_pct}` +
        (row.node_cpu_pct ? ` (nodes ${row.node_cpu_pct.replaceAll('+', ' + ')})` : '') +
        (row.proc_cpu_pct ? ` (processes ${row.proc_cpu_pct.replaceAll('+', ' + ')})` : '') +
        (row.redis_cpu_pct !== null ? ` (of which Redis ${row.redis_cpu_pct})` : '') +
        `, upstream ${row.upstream_cpu_pct}, wrk ${row.wrk_cpu_pct}, others ${row.other_cpu_pct}` +
        ` — ${row.cpu_us_per_req} µs system CPU per request` +
        (errorCount(row) ? ` — ${errorCount(row)} ERRORS` : ''),
    )
    if (row.other_cpu_pct < DISTURBED_PCT || attempt > RETRY_DISTURBED) return row
    say(`others used ${row.other_cpu_pct}% of a core during that run; measuring it again`)
  }
}

/** Under the Identity provider table (Markdown report). */
const IDP_NOTE = `Medians of the rows of the first table. Token issuance (\`identity-token\`):
\`POST /auth/token\` with \`grant_type=client_credentials&resource=…\` and HTTP Basic client authentication,
counting 2xx answers only;
each one reads the client from SQLite, checks the secret's keyed hash and signs an ES256 JWT access token
(JWT access tokens are not stored). Request with a provider token (\`gatehouse-oidc\`): the route \`/\` with
the openid-connect plugin (ES256 signature, iss, aud, exp, typ verified once per token, then remembered
until the token could first fail a check, as the jwt plugin does), the provider in the same process, ${OIDC_POOL} provider-issued tokens (lifetime
${PROVIDER_TOKEN_TTL_S} s) sent in rotation. × gatehouse: its req/s over plain \`gatehouse\`'s (no
authentication, same access log) in the same run; in brackets the lowest and highest ratio round by round.`

/** Seconds between two signatures of one user's internal token (the gateway's reuse window). */
const REMINT_S = INTERNAL_TTL_S * (1 - INTERNAL_REUSE_UNTIL_REMAINING)
/** Under the Identity propagation table (Markdown report). */
const PROPAGATION_NOTE = `Medians of the rows of the first table: same rounds, and the same RS256 pool of ${TOKEN_POOL}
distinct users (\`sub\` user-N) sent in rotation to all four. \`gatehouse-passport-rs256\` is
\`gatehouse-jwt-rs256\`'s configuration plus the internal-token plugin on the service: it verifies the caller's
RS256 token (jwt plugin, verified tokens cached), takes the caller's \`country\` and \`customer_type\` from the
user-info service (\`GET /users/{sub}\` on the bench upstream, asked once per subject and cached ${ENRICH_TTL_S} s,
longer than the run, so after the first warm-up every measured request finds its subject cached) and sends the
upstream an internal ES256 token (aud \`${INTERNAL_AUDIENCE}\`) in place of the caller's Authorization header.
Minted tokens keep the gateway defaults (ttl ${INTERNAL_TTL_S} s, reused until ${INTERNAL_REUSE_UNTIL_REMAINING * 100}% of
their life is left): each user's token is signed again every ${REMINT_S} s, about
${Math.round(TOKEN_POOL / REMINT_S)} ES256 signatures a second for the whole pool, and all the other requests
take it from the cache. HAProxy and Express Gateway only verify the token (no enrichment, no new token).
passport ÷ this: gatehouse-passport-rs256's req/s over the row's, and in brackets the lowest and highest
ratio taken round by round. Targets (issue 5): ≥ 0.90× gatehouse-jwt-rs256 and ≥ 1.0× haproxy-rs256; none
against Express Gateway.`

/** Under the Scale-out tables (Markdown report). */
const SCALE_OUT_NOTE = `Medians of the rows of the first table (same rounds). Rate limiting: plain \`gatehouse\`'s
configuration plus Kong's rate-limiting plugin on the service, \`second: ${RATE_LIMIT_SECOND}\`,
\`limit_by: ${RATE_LIMIT_BY}\` (every wrk connection is 127.0.0.1: one counter per second, the same key for
every request), \`fault_tolerant: false\` (a request Redis fails to count would be a 500 and flag the row), so
no request is refused and what is measured is the counting: \`local\` in the process's memory, \`redis\` one
Lua script per request (read, check, INCRBY, PEXPIRE on a new counter) in a redis-server started for the run
on the server CPU (no persistence), over one connection; Redis sharing the gateway's core, every request also
costs the switches to Redis and back, which a Redis on its own machine would not add to the gateway's core
(its network round trip adds latency instead). µs CPU/req: the system's CPU time over the measured run
divided by its successful requests — Gatehouse's process and, for \`redis\`, the Redis server's (its part in
"of which Redis"); "server" adds the upstream's. On a CPU-bound core, µs per request rather than req/s is the
cost that carries over to a bigger machine. Nodes: \`gatehouse-2nodes\` is two Gatehouse processes with plain
\`gatehouse\`'s configuration, each pinned to the same server CPU as everything else; two wrk processes run at
the same time, one per node with half of the connections, and their successful answers add up (p50/p99: the
slower node's). On this 2-core machine the servers share one core, so two nodes cannot serve more than one:
req/s ÷ 1 node near 1.0 and CPU/req ÷ 1 node near 1.0 would mean a second node adds no work per request.
Above 1.0 is the cost of two processes on one core — the core switching between them, each event loop
waking for fewer requests at a time, two connection pools to the upstream — most of which a node on a core
of its own does not pay. Ratios divide medians; in brackets the lowest and highest ratio taken round by
round.`

/** Under the issue 11 tables (Markdown report). */
const ISSUE11_NOTE = `Own cost: medians of the rows of the first table (same rounds); each value divides the
system's median req/s (or p99) by its reference's, and in brackets are the lowest and highest ratio taken
round by round. Workers: \`gatehouse-workers2\` is plain \`gatehouse\`'s configuration started with
\`gatehouse start --workers 2\` (a primary and two worker processes sharing the proxy port); every other
Gatehouse node runs with \`GATEHOUSE_WORKERS=1\`. The primary runs under taskset like every server and its
workers inherit the affinity, so the whole tree shares the one server CPU (each process's Cpus_allowed_list
is in the pre-run check). On this 2-core machine two workers therefore cannot serve more than one: read
CPU/req ÷ 1 worker, the CPU time per request of the whole process tree (primary and workers: utime + stime
from /proc, divided by the successful requests) against one worker's. Near 1.0 a second worker adds no work
per request, and on a machine with a core per worker the workers' throughput adds up; above 1.0 is the
cost of the cluster on one core (the primary, two event loops waking for fewer requests each, two
connection pools to the upstream). CPU % per process: the primary first, then the workers. RSS: resident
memory of each process just after the run (shared pages counted in each process).`

// --- main ---
async function main(): Promise<number> {
  requireNode('bench')
  const kinds = new Set(SYSTEMS.map((s) => s.kind))
  const tools = ensureTools({ nginx: kinds.has('nginx'), haproxy: kinds.has('haproxy') }, say)
  const expressGateway = kinds.has('express-gateway') ? ensureExpressGateway(PEERS_DIR, say) : null
  const pinWanted = (env.PIN ?? 'auto') !== 'off'
  const pin = pinWanted && have('taskset') && availableParallelism() >= 2
  if (pinWanted && !pin) say('WARNING: no CPU pinning (needs taskset and 2 CPUs); results will be noisier')

  for (const [name, why] of SKIPPED)
    say(`WARNING: ${name} not measured: ${why} (Debian: apt-get install redis-server)`)

  tmp = mkdtempSync(join(tmpdir(), 'gatehouse-bench-'))
  mkdirSync(join(tmp, 'wrk'))
  say(`signing ${TOKEN_POOL} tokens per algorithm (${ALGS.join(', ')}) in ${join(tmp, 'tokens')}`)
  const tokens = await makeTokens(join(tmp, 'tokens'), TOKEN_POOL, TOKEN_TTL_S)
  const setup = await startAll(tmp, tools, expressGateway, tokens, pin)

  const wrkLines = CONNECTIONS.flatMap((c) =>
    setup.systems.flatMap((s) => {
      // Several nodes: one wrk per node, run at the same time.
      const commands = wrkCommands(setup, s, c, DURATION)
      const label = (i: number) => (commands.length > 1 ? `${s.name} node ${i + 1}` : s.name)
      return commands.map((w, i) => `wrk → ${label(i)}: ${showWrk(w)}`)
    }),
  )
  const allCommands = [
    '# from the repository root; servers started in this order, each in its own process group',
    ...setup.commands,
    `# each measured run is preceded by the same wrk command with -d${WARMUP} (warm-up, not recorded)`,
    ...wrkLines,
  ]
  say(`commands:\n  ${allCommands.join('\n  ')}`)
  const n = setup.systems.length
  const pairedRounds = PAIRED_RUNS * pairsToMeasure(setup.systems.map((s) => s.name)).length
  const minutes =
    ((RUNS * n + pairedRounds) * CONNECTIONS.length * (seconds(WARMUP) + seconds(DURATION) + 1.5)) / 60
  say(
    `measuring ${n} systems × ${CONNECTIONS.length} connection count(s) × ${RUNS} round(s)` +
      (pairedRounds > 0 ? ` and ${pairedRounds} paired round(s)` : '') +
      `: ≈ ${minutes < 2 ? `${Math.round(minutes * 60)} s` : `${Math.round(minutes)} min`}`,
  )

  const rows: Row[] = []
  for (let round = 1; round <= RUNS; round++) {
    for (const conns of CONNECTIONS) {
      // Round-robin, starting one system later each round, so no system always goes first.
      for (let i = 0; i < n; i++)
        rows.push(await measure(setup, setup.systems[(round - 1 + i) % n]!, conns, round))
    }
  }
  const paired: PairedRound[] = []
  const pairs = pairsToMeasure(setup.systems.map((s) => s.name))
  if (PAIRED_RUNS > 0 && pairs.length === 0) say('PAIRED_RUNS: no issue 11 pair among the systems measured')
  for (let round = 1; round <= PAIRED_RUNS; round++) {
    for (const conns of CONNECTIONS) {
      for (const pair of pairs) {
        const byName = (name: string) => setup.systems.find((s) => s.name === name)!
        paired.push(await measurePair(setup, byName(pair.system), byName(pair.reference), conns, round))
      }
    }
  }
  await stopAll()

  // --- report ---
  const pairedTable = pairedRows(paired, TICKS_PER_SECOND)
  const order = setup.systems.map((s) => s.name)
  const summaries = summarize(rows, order, CONNECTIONS, DISTURBED_PCT)
  const jwt = jwtComparison(summaries, rows, CONNECTIONS)
  const idp = identityRows(summaries, rows, CONNECTIONS)
  const propagation = propagationRows(summaries, rows, CONNECTIONS)
  const propagationTally = propagationTargetsMet(propagation)
  const scaleOut = scaleOutRows(summaries, rows, CONNECTIONS, SKIPPED)
  const ownCost = ownCostRows(summaries, rows, CONNECTIONS)
  const workers = workersRows(summaries, rows, CONNECTIONS)
  const ownCostLine = ownCostVerdict(ownCost)
  const tally = targetsMet(jwt)
  const git = firstLine(['git', 'rev-parse', '--short', 'HEAD'])
  const dirty = firstLine(['git', 'status', '--porcelain']) ? '+dirty' : ''
  const gatehouseVersion = (
    JSON.parse(readFileSync(join(ROOT, 'packages/gatehouse/package.json'), 'utf8')) as { version: string }
  ).version
  const environment = [
    `gatehouse ${gatehouseVersion} (${git}${dirty}), node ${process.version}, ${firstLine(['wrk', '-v']).split(' [')[0]}`,
    ...(tools.nginx ? [firstLine([tools.nginx, '-v']).replace('nginx version: ', '')] : []),
    ...(tools.haproxy ? [`HAProxy ${firstLine([tools.haproxy, '-v']).split(' ')[2] ?? '?'}`] : []),
    ...(expressGateway ? [`express-gateway ${EXPRESS_GATEWAY_VERSION} (on node ${process.version})`] : []),
    `${cpus()[0]?.model ?? '?'} × ${availableParallelism()}`,
    pin ? `wrk on CPU ${WRK_CPUS}, servers on CPU ${SERVER_CPUS} (taskset)` : 'no CPU pinning',
  ].join(', ')
  const settings =
    `DURATION=${DURATION} WARMUP=${WARMUP} RUNS=${RUNS} ${PAIRED_RUNS > 0 ? `PAIRED_RUNS=${PAIRED_RUNS} ` : ''}CONNECTIONS="${CONNECTIONS.join(' ')}" THREADS=${THREADS} ` +
    `BASELINE_TOKENS=${BASELINE_TOKENS === 'NONE' ? 'none' : BASELINE_TOKENS} TOKEN_POOL=${TOKEN_POOL}` +
    (SYSTEMS.some((d) => d.identity === 'verify') ? ` OIDC_POOL=${OIDC_POOL}` : '')
  const flagged = summaries.filter((s) => s.notes.length > 0).length
  const verdictLine =
    jwt.length === 0
      ? ''
      : `Targets (issue 3): ${tally.met} met, ${tally.missed} not met` +
        (tally.unmeasured ? `, ${tally.unmeasured} not judged (a system was not measured)` : '') +
        ` — RS256 ≥ ${TARGETS.RS256.haproxy?.toFixed(1)}× HAProxy, ES256 ≥ ${TARGETS.ES256.haproxy?.toFixed(1)}× HAProxy, ` +
        `≥ ${TARGETS.HS256.expressGateway}× Express Gateway for every algorithm.`
  const propagationVerdict =
    `Targets (issue 5): ${propagationTally.met} met, ${propagationTally.missed} not met` +
    (propagationTally.unmeasured
      ? `, ${propagationTally.unmeasured} not judged (a system was not measured)`
      : '') +
    ` — gatehouse-passport-rs256 ≥ ${PROPAGATION_TARGETS['gatehouse-jwt-rs256'].toFixed(2)}× gatehouse-jwt-rs256` +
    ` and ≥ ${PROPAGATION_TARGETS['haproxy-rs256'].toFixed(1)}× haproxy-rs256.`
  const stamp = new Date().toISOString().slice(0, 19).replaceAll(':', '-')
  const configs = setup.systems
    .filter((s) => s.config)
    .map(
      (s) =>
        `<details><summary>${s.name}</summary>\n\n\`\`\`${s.config!.lang}\n${s.config!.text.trimEnd()}\n\`\`\`\n\n</details>`,
    )
  const jwtSection =
    jwt.length === 0
      ? ''
      : `
## JWT verification

${jwtMarkdownTable(jwt)}

${verdictLine}

Median req/s of \`gatehouse-jwt-<alg>\`, \`haproxy-<alg>\` and \`express-gateway-<alg>\` from the table above
(same rounds, same token pool of ${TOKEN_POOL} distinct tokens per algorithm, sent in rotation); the ratios
divide those medians, and in brackets are the lowest and highest ratio taken round by round. Gatehouse: Kong-format jwt plugin (alg pinned by the credential, signature, exp,
consumer by \`iss\`), access log on. HAProxy 2.6: \`jwt_verify\` plus ACLs on alg, signature, iss, aud and
exp, \`nbthread 1\`. Express Gateway 1.x: jwt policy (signature, iss, aud, exp; algorithms pinned to HS256 /
RS256, by the key type for ES256), no consumer lookup.
`
  const idpSection =
    idp.length === 0
      ? ''
      : `
## Identity provider

${identityMarkdownTable(idp)}

${IDP_NOTE}
`
  const propagationSection =
    propagation.length === 0
      ? ''
      : `
## Identity propagation (issue 5)

${propagationMarkdownTable(propagation)}

${propagationVerdict}

${PROPAGATION_NOTE}
`
  const scaleOutSection =
    scaleOut.length === 0
      ? ''
      : `
## Scale-out (issue 7)

${scaleOutMarkdown(scaleOut)}

${SCALE_OUT_NOTE}
`
  const issue11Section =
    ownCost.length === 0 && workers.length === 0
      ? ''
      : `
## Own cost and every core (issue 11)

${issue11Markdown(ownCost, workers)}

${ownCostLine ? `${ownCostLine}\n\n` : ''}${ISSUE11_NOTE}
${pairedTable.length === 0 ? '' : `\n### Own cost, paired rounds\n\n${pairedMarkdown(pairedTable)}\n\n${PAIRED_NOTE}\n`}`
  const skippedLine =
    SKIPPED.size === 0
      ? ''
      : `\nNot measured: ${[...SKIPPED].map(([name, why]) => `\`${name}\` (${why})`).join(', ')}.\n`
  const markdown = `# Gatehouse benchmark — ${stamp}

${settings}

${environment}

${markdownTable(summaries)}

req/s: median over ${RUNS} round(s), min–max across them; µs CPU/req: median of the system's CPU time (its
whole process tree, from /proc: a Gatehouse primary and its workers, nginx's master and worker; \`direct\`:
the upstream) per successful request; p50/p99: median of the rounds' wrk latency percentiles. × direct: req/s
relative to wrk → upstream with no proxy; × nginx (Gatehouse rows): relative to the nginx reverse proxy;
× node-floor and p99 × node-floor (Gatehouse rows): req/s and p99 relative to the bare Node proxy's. Notes flag rounds with HTTP/socket errors or a busy machine, and rows whose rounds
differ by more than 20%. Every request carries a bearer token (\`tokens\` column of the TSV): the JWT systems
their algorithm's pool, the others the ${BASELINE_TOKENS === 'NONE' ? 'no token' : `${BASELINE_TOKENS} pool`}.
Raw rows: \`${stamp}.tsv\` (CPU use per round, in % of one core, and CPU time per request).
${skippedLine}${jwtSection}${idpSection}${propagationSection}${scaleOutSection}${issue11Section}
## Pre-run checks

${setup.checks.map((c) => `- ${c}`).join('\n')}

## Commands

\`\`\`sh
${allCommands.join('\n')}
\`\`\`

## Configurations

${configs.join('\n\n')}
`
  const resultsDir = join(BENCH_DIR, 'results')
  mkdirSync(resultsDir, { recursive: true })
  for (const name of [stamp, 'latest']) {
    writeFileSync(join(resultsDir, `${name}.tsv`), toTsv(rows))
    writeFileSync(join(resultsDir, `${name}.md`), markdown)
  }
  console.log(`\n${settings}\n${environment}\n\n${textTable(summaries)}\n`)
  if (jwt.length > 0) console.log(`JWT verification\n\n${jwtTextTable(jwt)}\n\n${verdictLine}\n`)
  if (idp.length > 0) console.log(`Identity provider\n\n${identityTextTable(idp)}\n`)
  if (propagation.length > 0)
    console.log(
      `Identity propagation (issue 5)\n\n${propagationTextTable(propagation)}\n\n${propagationVerdict}\n`,
    )
  if (scaleOut.length > 0) console.log(`Scale-out (issue 7)\n\n${scaleOutText(scaleOut)}\n`)
  if (ownCost.length > 0 || workers.length > 0)
    console.log(
      `Own cost and every core (issue 11)\n\n${issue11Text(ownCost, workers)}\n${ownCostLine ? `\n${ownCostLine}\n` : ''}`,
    )
  if (pairedTable.length > 0)
    console.log(`Own cost, paired rounds (issue 11)\n\n${pairedText(pairedTable)}\n`)
  for (const [name, why] of SKIPPED) console.log(`${name} not measured: ${why}.`)
  if (flagged > 0) console.log(`${flagged} row(s) flagged: see the notes column.`)
  say(`wrote bench/results/${stamp}.md and .tsv (also latest.md, latest.tsv)`)
  return rows.some((r) => errorCount(r) > 0) ? 1 : 0
}

// --- cleanup: whatever happens, stop exactly what was started ---
const shutdown = onShutdown(() => tmp, KEEP_TMP)

main().then(
  (code) => shutdown(code),
  (err: unknown) => shutdown(1, `failed: ${err instanceof Error ? err.message : String(err)}`),
)
