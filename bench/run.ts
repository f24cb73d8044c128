/**
 * Gatehouse benchmark driver (`npm run bench`; never part of `npm test`).
 *
 * Measures, with wrk, in ONE run and on 127.0.0.1, what one proxy hop costs:
 *   direct           wrk → upstream (the baseline every ratio is taken against)
 *   gatehouse        wrk → Gatehouse → upstream (one service, one route `/`, no plugins, default settings,
 *                    so the access log is on, written to a file)
 *   gatehouse-nolog  the same with `logging: { access_log: false }`
 *   nginx            wrk → nginx (plain reverse proxy, upstream keep-alive pool, access_log off) → upstream
 *   node-floor       wrk → a bare node:http + undici proxy (floor-proxy.ts) → upstream: what any Node proxy
 *                    on Gatehouse's foundations costs, so Gatehouse's own cost can be read apart from it
 *
 * Why it is built this way:
 * - 2-core machine: wrk is pinned to CPU WRK_CPUS (0) and every server (upstream and system under test) to
 *   SERVER_CPUS (1) with taskset, so the load generator never steals the servers' CPU.
 * - Drift (thermal, other tenants) is spread evenly: each round measures every system once, round-robin,
 *   starting one system later each round; RUNS rounds, and the summary shows median and min–max.
 * - Before each measurement the machine must be quiet (other load < QUIET_PCT% of a core, waiting at most
 *   QUIET_WAIT s); a run during which others took ≥ DISTURBED_PCT% of a core is measured again (at most
 *   RETRY_DISTURBED times) and flagged if it stays noisy. Runs with HTTP or socket errors are flagged.
 * - Free ports are picked at start (bind port 0), never fixed ones. Every process started here is the leader
 *   of its own process group and is stopped on exit, error or Ctrl-C — only those.
 *
 * One file on purpose (over STYLE's 400 lines): it is the whole measurement procedure in the order it runs,
 * so a reader can check the method top to bottom; process handling and reporting live in lib/.
 *
 * Settings (environment): DURATION (10s), WARMUP (3s), RUNS (3), CONNECTIONS ("50"; several: "10 50 100"),
 * THREADS (1), SYSTEMS (all five), PIN (auto | off), WRK_CPUS (0), SERVER_CPUS (1), QUIET_PCT (15),
 * QUIET_WAIT (60), DISTURBED_PCT (25), RETRY_DISTURBED (1), KEEP_TMP (0). See bench/README.md.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { availableParallelism, cpus, tmpdir } from 'node:os'
import { delimiter, dirname, join, relative } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import {
  freePorts,
  groupTicks,
  httpStatus,
  killAllSync,
  machineBusyTicks,
  type Started,
  selfTicks,
  spawnGroup,
  stopAll,
  TICKS_PER_SECOND,
  waitPort,
  waitQuiet,
} from './lib/procs.ts'
import { errorCount, markdownTable, type Row, summarize, textTable, toTsv } from './lib/report.ts'

const BENCH_DIR = dirname(fileURLToPath(import.meta.url))
const ROOT = dirname(BENCH_DIR)
const ALL_SYSTEMS = ['direct', 'gatehouse', 'gatehouse-nolog', 'nginx', 'node-floor']

// --- settings ---
const env = process.env
/** A bad setting: say which, and stop before anything is started. */
function badSetting(message: string): never {
  console.error(`[bench] ${message}`)
  process.exit(2)
}
function positiveInt(name: string, fallback: number): number {
  const value = Number(env[name] ?? fallback)
  if (!Number.isInteger(value) || value < 0) badSetting(`${name} must be a whole number (got ${env[name]})`)
  return value
}
function duration(name: string, fallback: string): string {
  const value = env[name] ?? fallback
  if (!/^\d+[smh]?$/.test(value)) badSetting(`${name} must look like 10s, 2m or 30 (got ${value})`)
  return value
}
const DURATION = duration('DURATION', '10s')
const WARMUP = duration('WARMUP', '3s')
const RUNS = Math.max(1, positiveInt('RUNS', 3))
const THREADS = Math.max(1, positiveInt('THREADS', 1))
const CONNECTIONS = (env.CONNECTIONS ?? '50')
  .split(/[\s,]+/)
  .filter(Boolean)
  .map(Number)
const SYSTEMS = (env.SYSTEMS ?? ALL_SYSTEMS.join(' ')).split(/[\s,]+/).filter(Boolean)
const WRK_CPUS = env.WRK_CPUS ?? '0'
const SERVER_CPUS = env.SERVER_CPUS ?? '1'
const QUIET_PCT = positiveInt('QUIET_PCT', 15)
const QUIET_WAIT = positiveInt('QUIET_WAIT', 60)
const DISTURBED_PCT = positiveInt('DISTURBED_PCT', 25)
const RETRY_DISTURBED = positiveInt('RETRY_DISTURBED', 1)
const KEEP_TMP = env.KEEP_TMP === '1'
/** Scratch directory (configs, server logs, raw wrk output); removed after a clean run unless KEEP_TMP=1. */
let tmp = ''
for (const c of CONNECTIONS) {
  if (!Number.isInteger(c) || c < THREADS)
    badSetting(`CONNECTIONS must be whole numbers ≥ THREADS (${THREADS})`)
}
for (const s of SYSTEMS) {
  if (!ALL_SYSTEMS.includes(s))
    badSetting(`unknown system '${s}' in SYSTEMS (known: ${ALL_SYSTEMS.join(' ')})`)
}

const say = (text: string) => console.log(`[bench ${new Date().toTimeString().slice(0, 8)}] ${text}`)
/** A command line as a reader can paste it (from the repository root). */
const shellWords = (argv: string[]) =>
  argv
    .map((a) => (a.startsWith(`${ROOT}/`) ? relative(ROOT, a) : a))
    .map((a) => (/^[\w./:=,@%+-]+$/.test(a) ? a : `'${a.replaceAll("'", `'\\''`)}'`))
    .join(' ')

function have(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0
}

/** wrk and nginx from Debian, installed only when missing, without starting the distribution's nginx. */
function ensureTools(): { nginx: string } {
  const nginxPath = () => (have('nginx') ? 'nginx' : existsSync('/usr/sbin/nginx') ? '/usr/sbin/nginx' : null)
  const missing = [...(have('wrk') ? [] : ['wrk']), ...(nginxPath() ? [] : ['nginx-light'])]
  if (missing.length > 0) {
    // policy-rc.d exit 101 = "do not start services": the package must not launch an nginx on port 80.
    const script = `set -e
created=''
if [ ! -e /usr/sbin/policy-rc.d ]; then printf '#!/bin/sh\\nexit 101\\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; created=1; fi
trap '[ -z "$created" ] || rm -f /usr/sbin/policy-rc.d' EXIT
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends ${missing.join(' ')}`
    const root = process.getuid?.() === 0
    if (!root && !have('sudo'))
      throw new Error(`missing ${missing.join(', ')}; install them (apt-get) and retry`)
    say(`installing ${missing.join(' ')} (apt-get${root ? '' : ' via sudo'})`)
    const argv = root ? ['sh', '-c', script] : ['sudo', 'sh', '-c', script]
    const r = spawnSync(argv[0]!, argv.slice(1), { stdio: 'inherit' })
    if (r.status !== 0) throw new Error(`apt-get install ${missing.join(' ')} failed`)
  }
  const nginx = nginxPath()
  if (!have('wrk') || !nginx) throw new Error('wrk or nginx still missing after installation')
  if (missing.length === 0) say('wrk and nginx present')
  return { nginx }
}

function firstLine(argv: string[]): string {
  const r = spawnSync(argv[0]!, argv.slice(1), { cwd: ROOT, encoding: 'utf8' })
  return `${r.stdout ?? ''}${r.stderr ?? ''}`.split('\n')[0]!.trim()
}

// --- the systems under test ---
interface System {
  name: string
  port: number
  /** Process group whose CPU counts as the system's own (for `direct`, the upstream). */
  process: Started
}

interface Setup {
  tmp: string
  upstream: Started
  upstreamPort: number
  systems: System[]
  /** Server command lines, for the report. */
  commands: string[]
  gatehouseConfig: string
  pin: boolean
}

async function startAll(tmp: string, nginxBin: string, pin: boolean): Promise<Setup> {
  const pinned = (cpus: string, argv: string[]) => (pin ? ['taskset', '-c', cpus, ...argv] : argv)
  const commands: string[] = []
  const start = (name: string, argv: string[], extraEnv?: NodeJS.ProcessEnv) => {
    const full = pinned(SERVER_CPUS, argv)
    commands.push(`${name}: ${shellWords(full)}`)
    say(`starting ${name}`)
    return spawnGroup(name, full[0]!, full.slice(1), {
      cwd: ROOT,
      log: join(tmp, `${name}.log`),
      env: { ...process.env, ...extraEnv },
    })
  }
  const [upstreamPort, gh, ghAdmin, nolog, nologAdmin, nginxPort, floorPort] = (await freePorts(7)) as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ]
  const upstream = start('upstream', [process.execPath, join(BENCH_DIR, 'upstream.ts'), String(upstreamPort)])
  await waitPort(upstreamPort, upstream)
  const systems: System[] = []
  if (SYSTEMS.includes('direct')) systems.push({ name: 'direct', port: upstreamPort, process: upstream })

  // Gatehouse: the bin link if npm made one, else the package's own bin script (same file). Its
  // `#!/usr/bin/env node` must find Node 24: put this node's directory first on PATH.
  const link = join(ROOT, 'node_modules/.bin/gatehouse')
  const bin = existsSync(link) ? link : join(ROOT, 'packages/gatehouse/bin/gatehouse.js')
  const nodePath = {
    PATH: [dirname(process.execPath), join(ROOT, 'node_modules/.bin'), env.PATH].join(delimiter),
  }
  const service = {
    name: 'bench',
    url: `http://127.0.0.1:${upstreamPort}`,
    routes: [{ name: 'all', paths: ['/'], strip_path: false }],
  }
  const gatehouseConfig = JSON.stringify({ _format_version: '3.0', services: [service] })
  for (const [name, port, admin, config] of [
    ['gatehouse', gh, ghAdmin, gatehouseConfig],
    [
      'gatehouse-nolog',
      nolog,
      nologAdmin,
      JSON.stringify({ _format_version: '3.0', logging: { access_log: false }, services: [service] }),
    ],
  ] as const) {
    if (!SYSTEMS.includes(name)) continue
    const file = join(tmp, `${name}.json`)
    writeFileSync(file, `${config}\n`)
    const argv = [bin, 'start', '--config', file, '--proxy-listen', `127.0.0.1:${port}`]
    const p = start(name, [...argv, '--admin-listen', `127.0.0.1:${admin}`], nodePath)
    systems.push({ name, port, process: p })
  }

  if (SYSTEMS.includes('nginx')) {
    const dir = join(tmp, 'nginx')
    mkdirSync(join(dir, 'tmp'), { recursive: true })
    writeFileSync(
      join(dir, 'nginx.conf'),
      `# Plain reverse proxy: the floor of what one proxy hop costs on this machine.
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
    listen 127.0.0.1:${nginxPort};
    location / {
      proxy_pass http://bench_upstream;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
`,
    )
    const p = start('nginx', [
      nginxBin,
      '-p',
      dir,
      '-c',
      join(dir, 'nginx.conf'),
      '-e',
      join(dir, 'error.log'),
    ])
    systems.push({ name: 'nginx', port: nginxPort, process: p })
  }

  if (SYSTEMS.includes('node-floor')) {
    const argv = [
      process.execPath,
      join(BENCH_DIR, 'floor-proxy.ts'),
      String(floorPort),
      String(upstreamPort),
    ]
    systems.push({ name: 'node-floor', port: floorPort, process: start('node-floor', argv) })
  }

  // Every system must answer GET / with 200 before anything is measured.
  for (const s of systems) {
    await waitPort(s.port, s.process)
    const status = await httpStatus(s.port)
    if (status !== 200)
      throw new Error(`${s.name}: GET / answered ${status || 'nothing'}, expected 200; see ${tmp}`)
    say(`${s.name} ready on 127.0.0.1:${s.port} (GET / → 200)`)
  }
  // The two Gatehouse configurations must differ the way their names say (access lines are flushed ≤ 100 ms).
  await sleep(500)
  for (const s of systems.filter((x) => x.name.startsWith('gatehouse'))) {
    const logged = readFileSync(s.process.log, 'utf8').includes('"type":"access"')
    if (logged !== (s.name === 'gatehouse')) {
      say(
        `WARNING: ${s.name} ${logged ? 'wrote' : 'did not write'} an access-log line; check ${s.process.log}`,
      )
    }
  }
  return { tmp, upstream, upstreamPort, systems, commands, gatehouseConfig, pin }
}

// --- measuring ---
function wrkArgv(port: number, conns: number, length: string, pin: boolean): string[] {
  const argv = ['wrk', `-t${THREADS}`, `-c${conns}`, `-d${length}`, '--latency', '--timeout', '5s']
  argv.push('-s', join(BENCH_DIR, 'wrk-json.lua'), `http://127.0.0.1:${port}/`)
  return pin ? ['taskset', '-c', WRK_CPUS, ...argv] : argv
}

interface WrkResult {
  requests: number
  duration_us: number
  non2xx: number
  connect_err: number
  read_err: number
  write_err: number
  timeouts: number
  p50_us: number
  p90_us: number
  p99_us: number
}

async function runWrk(argv: string[], out: string): Promise<WrkResult> {
  const wrk = spawnGroup('wrk', argv[0]!, argv.slice(1), { cwd: ROOT, log: out })
  await wrk.exited
  const text = readFileSync(out, 'utf8')
  const json = /^WRKJSON (.*)$/m.exec(text)?.[1]
  if (!json) throw new Error(`wrk gave no result (exit ${wrk.child.exitCode}):\n${text}`)
  return JSON.parse(json) as WrkResult
}

async function measure(setup: Setup, s: System, conns: number, round: number): Promise<Row> {
  const tag = `r${round}-${s.name}-c${conns}`
  for (let attempt = 1; ; attempt++) {
    await waitQuiet(QUIET_PCT, QUIET_WAIT, say)
    await runWrk(wrkArgv(s.port, conns, WARMUP, setup.pin), join(setup.tmp, 'wrk', `${tag}.warmup.txt`))
    const pgids = [s.process.pid, setup.upstream.pid]
    const before = {
      t: performance.now(),
      busy: machineBusyTicks(),
      self: selfTicks(),
      groups: groupTicks(pgids),
    }
    const w = await runWrk(wrkArgv(s.port, conns, DURATION, setup.pin), join(setup.tmp, 'wrk', `${tag}.txt`))
    const after = {
      t: performance.now(),
      busy: machineBusyTicks(),
      self: selfTicks(),
      groups: groupTicks(pgids),
    }

    // CPU in % of one core over the run. wrk has exited and been reaped, so its CPU is in our children's.
    const pct = (ticks: number) =>
      Math.round((ticks * 100) / (((after.t - before.t) / 1000) * TICKS_PER_SECOND))
    const delta = (pgid: number) => (after.groups.get(pgid) ?? 0) - (before.groups.get(pgid) ?? 0)
    const sut = delta(s.process.pid)
    const up = s.process === setup.upstream ? 0 : delta(setup.upstream.pid)
    const wrk = after.self.reapedChildren - before.self.reapedChildren
    const self = after.self.self - before.self.self
    const other = Math.max(0, after.busy - before.busy - sut - up - wrk - self)
    const row: Row = {
      round,
      system: s.name,
      conns,
      rps: Math.round(w.requests / (w.duration_us / 1e6)),
      p50_ms: w.p50_us / 1000,
      p90_ms: w.p90_us / 1000,
      p99_ms: w.p99_us / 1000,
      requests: w.requests,
      non2xx: w.non2xx,
      connect_err: w.connect_err,
      read_err: w.read_err,
      write_err: w.write_err,
      timeouts: w.timeouts,
      sut_cpu_pct: pct(sut),
      upstream_cpu_pct: s.process === setup.upstream ? pct(sut) : pct(up),
      wrk_cpu_pct: pct(wrk),
      other_cpu_pct: pct(other),
      attempts: attempt,
    }
    say(
      `round ${round}/${RUNS} ${s.name} c=${conns}: ${row.rps.toLocaleString('en-US')} req/s, ` +
        `p50 ${row.p50_ms.toFixed(2)} ms, p99 ${row.p99_ms.toFixed(2)} ms — CPU % of a core: ` +
        `system ${row.sut_cpu_pct}, upstream ${row.upstream_cpu_pct}, wrk ${row.wrk_cpu_pct}, others ${row.other_cpu_pct}` +
        (errorCount(row) ? ` — ${errorCount(row)} ERRORS` : ''),
    )
    if (row.other_cpu_pct < DISTURBED_PCT || attempt > RETRY_DISTURBED) return row
    say(`others used ${row.other_cpu_pct}% of a core during that run; measuring it again`)
  }
}

// --- main ---
async function main(): Promise<number> {
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number)
  if (major < 22 || (major === 22 && minor < 18)) {
    throw new Error(
      `Node ${process.version} cannot run Gatehouse; use \`npm run bench\` (Node 24 from node_modules)`,
    )
  }
  const { nginx } = ensureTools()
  const pinWanted = (env.PIN ?? 'auto') !== 'off'
  const pin = pinWanted && have('taskset') && availableParallelism() >= 2
  if (pinWanted && !pin) say('WARNING: no CPU pinning (needs taskset and 2 CPUs); results will be noisier')

  tmp = mkdtempSync(join(tmpdir(), 'gatehouse-bench-'))
  mkdirSync(join(tmp, 'wrk'))
  const setup = await startAll(tmp, nginx, pin)

  const wrkCommands = CONNECTIONS.flatMap((c) =>
    setup.systems.map((s) => `wrk → ${s.name}: ${shellWords(wrkArgv(s.port, c, DURATION, pin))}`),
  )
  const allCommands = [
    '# from the repository root; servers started in this order, each in its own process group',
    ...setup.commands,
    `# each measured run is preceded by the same wrk command with -d${WARMUP} (warm-up, not recorded)`,
    ...wrkCommands,
  ]
  say(`commands:\n  ${allCommands.join('\n  ')}`)

  const rows: Row[] = []
  const n = setup.systems.length
  for (let round = 1; round <= RUNS; round++) {
    for (const conns of CONNECTIONS) {
      // Round-robin, starting one system later each round, so no system always goes first.
      for (let i = 0; i < n; i++)
        rows.push(await measure(setup, setup.systems[(round - 1 + i) % n]!, conns, round))
    }
  }
  await stopAll()

  // --- report ---
  const order = setup.systems.map((s) => s.name)
  const summaries = summarize(rows, order, CONNECTIONS, DISTURBED_PCT)
  const table = textTable(summaries)
  const git = firstLine(['git', 'rev-parse', '--short', 'HEAD'])
  const dirty = firstLine(['git', 'status', '--porcelain']) ? '+dirty' : ''
  const gatehouseVersion = (
    JSON.parse(readFileSync(join(ROOT, 'packages/gatehouse/package.json'), 'utf8')) as { version: string }
  ).version
  const environment = [
    `gatehouse ${gatehouseVersion} (${git}${dirty}), node ${process.version}, ${firstLine(['wrk', '-v']).split(' [')[0]},`,
    `${firstLine([nginx, '-v']).replace('nginx version: ', '')}, ${cpus()[0]?.model ?? '?'} × ${availableParallelism()},`,
    pin ? `wrk on CPU ${WRK_CPUS}, servers on CPU ${SERVER_CPUS} (taskset)` : 'no CPU pinning',
  ].join(' ')
  const settings = `DURATION=${DURATION} WARMUP=${WARMUP} RUNS=${RUNS} CONNECTIONS="${CONNECTIONS.join(' ')}" THREADS=${THREADS}`
  const flagged = summaries.filter((s) => s.notes.length > 0).length
  const stamp = new Date().toISOString().slice(0, 19).replaceAll(':', '-')
  const markdown = `# Gatehouse benchmark — ${stamp}

${settings}

${environment}

${markdownTable(summaries)}

req/s: median over ${RUNS} round(s), min–max across them; p50/p99: median of the rounds' wrk latency
percentiles. × direct: req/s relative to wrk → upstream with no proxy; × nginx (Gatehouse rows): relative to
the nginx reverse proxy. Notes flag rounds with HTTP/socket errors or a busy machine, and rows whose rounds
differ by more than 20%. Raw rows: \`${stamp}.tsv\` (CPU use per round, in % of one core).

## Commands

\`\`\`sh
${allCommands.join('\n')}
\`\`\`

Gatehouse configuration (\`gatehouse-nolog\` adds \`"logging":{"access_log":false}\`):

\`\`\`json
${setup.gatehouseConfig}
\`\`\`
`
  const resultsDir = join(BENCH_DIR, 'results')
  mkdirSync(resultsDir, { recursive: true })
  for (const name of [stamp, 'latest']) {
    writeFileSync(join(resultsDir, `${name}.tsv`), toTsv(rows))
    writeFileSync(join(resultsDir, `${name}.md`), markdown)
  }
  console.log(`\n${settings}\n${environment}\n\n${table}\n`)
  if (flagged > 0) console.log(`${flagged} row(s) flagged: see the notes column.`)
  say(`wrote bench/results/${stamp}.md and .tsv (also latest.md, latest.tsv)`)
  return rows.some((r) => errorCount(r) > 0) ? 1 : 0
}

// --- cleanup: whatever happens, stop exactly what was started ---
let stopping: Promise<void> | null = null
function shutdown(code: number, why?: string): Promise<void> {
  stopping ??= (async () => {
    if (why) console.error(`[bench] ${why}; stopping the processes it started`)
    await stopAll()
    if (tmp && code === 0 && !KEEP_TMP) rmSync(tmp, { recursive: true, force: true })
    else if (tmp) console.error(`[bench] logs and configs kept in ${tmp}`)
    process.exit(code)
  })()
  return stopping
}
for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
  ['SIGHUP', 129],
] as const) {
  process.on(signal, () => {
    if (stopping) {
      killAllSync() // a second Ctrl-C: do not wait any longer
      process.exit(code)
    }
    void shutdown(code, `got ${signal}`)
  })
}
process.on('exit', killAllSync)

main().then(
  (code) => shutdown(code),
  (err: unknown) => shutdown(1, `failed: ${err instanceof Error ? err.message : String(err)}`),
)
