/**
 * What the benchmark needs outside the repository, installed only when missing:
 *
 * - wrk, nginx and HAProxy from Debian (`apt-get install`, as root or through sudo), without starting the
 *   distribution's services (a temporary policy-rc.d answering 101 while apt runs);
 * - Express Gateway 1.x from npm into a scratch directory outside the repository (PEERS_DIR, by default
 *   <tmpdir>/gatehouse-bench-peers), never into the repository's package.json. It is kept there between
 *   runs, so only the first run pays for the download.
 *
 * redis-server is not installed here: `gatehouse-ratelimit-redis` is measured only when it is on PATH
 * (as the Redis tests need it), and reported as not measured otherwise.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

/** The Express Gateway release measured (the last 1.x). */
export const EXPRESS_GATEWAY_VERSION = '1.16.11'

export function have(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0
}

/** The absolute path of `command` found on PATH, or null. */
export function onPath(command: string): string | null {
  const r = spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' })
  const path = r.status === 0 ? r.stdout.trim() : ''
  return path.startsWith('/') ? path : null
}

/** The command to run a Debian-installed tool: its name on PATH, else its /usr/sbin path, else null. */
function locate(command: string): string | null {
  if (have(command)) return command
  return existsSync(`/usr/sbin/${command}`) ? `/usr/sbin/${command}` : null
}

export interface Tools {
  nginx: string | null
  haproxy: string | null
}

/** wrk always; nginx and haproxy when asked for. Installs the missing ones from Debian. */
export function ensureTools(want: { nginx: boolean; haproxy: boolean }, say: (s: string) => void): Tools {
  const packages: [command: string, pkg: string, wanted: boolean][] = [
    ['wrk', 'wrk', true],
    ['nginx', 'nginx-light', want.nginx],
    ['haproxy', 'haproxy', want.haproxy],
  ]
  const missing = packages.filter(([command, , wanted]) => wanted && !locate(command)).map(([, pkg]) => pkg)
  if (missing.length > 0) {
    // policy-rc.d exit 101 = "do not start services": the packages must not launch an nginx on port 80 or a
    // haproxy of their own.
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
  } else {
    say(
      `present: ${packages
        .filter(([, , wanted]) => wanted)
        .map(([command]) => command)
        .join(', ')}`,
    )
  }
  for (const [command, , wanted] of packages) {
    if (wanted && !locate(command)) throw new Error(`${command} still missing after installation`)
  }
  const tools = {
    nginx: want.nginx ? locate('nginx') : null,
    haproxy: want.haproxy ? locate('haproxy') : null,
  }
  if (tools.haproxy) {
    // jwt_verify appeared in HAProxy 2.5.
    const version = /version (\d+)\.(\d+)/.exec(spawnSync(tools.haproxy, ['-v'], { encoding: 'utf8' }).stdout)
    const [major, minor] = [Number(version?.[1] ?? 0), Number(version?.[2] ?? 0)]
    if (major < 2 || (major === 2 && minor < 5))
      throw new Error(`HAProxy ${major}.${minor} has no jwt_verify (2.5 or later is needed)`)
  }
  return tools
}

/**
 * Express Gateway in `dir` (created if needed), installed with npm only when it is not there yet.
 * Returns the package directory (…/node_modules/express-gateway).
 */
export function ensureExpressGateway(dir: string, say: (s: string) => void): string {
  const pkg = join(dir, 'node_modules', 'express-gateway')
  const installed = () => {
    try {
      return (JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')) as { version: string }).version
    } catch {
      return null
    }
  }
  if (installed() === EXPRESS_GATEWAY_VERSION) {
    say(`express-gateway ${EXPRESS_GATEWAY_VERSION} present in ${dir}`)
    return pkg
  }
  mkdirSync(dir, { recursive: true })
  const manifest = join(dir, 'package.json')
  if (!existsSync(manifest)) writeFileSync(manifest, '{ "name": "gatehouse-bench-peers", "private": true }\n')
  say(`installing express-gateway@${EXPRESS_GATEWAY_VERSION} with npm in ${dir} (outside the repository)`)
  // Without the npm_* variables of an enclosing `npm run` (its --workspace would apply to this install too).
  const childEnv = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.toLowerCase().startsWith('npm_')),
  )
  const r = spawnSync(
    'npm',
    [
      'install',
      '--prefix',
      dir,
      '--no-audit',
      '--no-fund',
      '--loglevel=error',
      `express-gateway@${EXPRESS_GATEWAY_VERSION}`,
    ],
    { cwd: dir, env: childEnv, stdio: 'inherit' },
  )
  if (r.status !== 0 || installed() !== EXPRESS_GATEWAY_VERSION)
    throw new Error(`npm install express-gateway@${EXPRESS_GATEWAY_VERSION} in ${dir} failed`)
  return pkg
}
