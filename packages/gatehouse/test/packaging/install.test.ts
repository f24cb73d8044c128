/**
 * "Installable outside this repository", done as a user does it: `npm run pack` makes the two tarballs,
 * `npm install` puts them into an empty directory (no workspace, no registry copy of our packages), and
 * from there `npx gatehouse --version` answers, the gateway starts through its bin from a kong.yml with
 * the identity provider on and two workers, proxies a request whose internal token a small service
 * verifies with the installed gatehouse-sdk, serves the admin console and the login page, and a
 * TypeScript user's imports of both packages type-check against the shipped declarations.
 *
 * GATEHOUSE_TEST_NODE22 names a Node 22 binary (22.19 or newer) to run the installed gateway under as
 * well: there node:crypto has no argon2 and passwords are hashed by @node-rs/argon2, which a basic-auth
 * consumer's password (hashed at load, checked per request) exercises. An older Node (the system's) gets
 * the bin's refusal. The install reuses npm's cache (--prefer-offline).
 */
import assert from 'node:assert/strict'
import { type SpawnSyncReturns, spawnSync } from 'node:child_process'
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import pkg from '../../package.json' with { type: 'json' }
import { GatehouseProcess } from '../harness/gatehouse.ts'
import { spawnTracked } from '../harness/resources.ts'

const repo = fileURLToPath(new URL('../../../../', import.meta.url))
const NODE22 = process.env.GATEHOUSE_TEST_NODE22
const SYSTEM_NODE = '/usr/bin/node'
const API_KEY = 'shop-key-0123456789abcdef'
const BASIC = { username: 'ann', password: 'ann-password-0123456789' }
const SECRET = 'packaging-test-secret-0123456789abcdefghijkl'

/** The service behind the gateway: trusts a request only with an internal token gatehouse-sdk verifies. */
const SERVICE = `
import { createServer } from 'node:http'
import { createVerifier } from 'gatehouse-sdk'
import { authenticate } from 'gatehouse-sdk/http'

const verifier = createVerifier({
  issuer: 'https://gatehouse.internal', audience: 'orders', jwksUrl: process.env.JWKS_URL,
})
const guard = authenticate(verifier)
const server = createServer(guard.protect((req, res) => {
  res.setHeader('content-type', 'application/json')
  res.end(JSON.stringify({ subject: req.identity.subject, kind: req.identity.kind, audience: req.identity.audience }))
}))
server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ port: server.address().port })))
`

/** A TypeScript user's file: both packages' declarations must resolve through their published exports. */
const TS_USER = `
import { createVerifier, type Identity, VerificationError } from 'gatehouse-sdk'
import { authenticate } from 'gatehouse-sdk/http'
import { loadConfigObject, type GatewayPlugin } from 'gatehouse-gateway'

const verifier = createVerifier({ issuer: 'https://gatehouse.internal', audience: 'orders', jwksUrl: 'https://x/jwks' })
export const subject = async (token: string): Promise<string> => ((await verifier.verify(token)) satisfies Identity).subject
export const guard = authenticate(verifier)
export const isRefusal = (e: unknown): boolean => e instanceof VerificationError
export const load = loadConfigObject
export type Plugin = GatewayPlugin
// @ts-expect-error: a misspelt option is a type error, which proves the declarations are the real ones
createVerifier({ issuer: 'https://gatehouse.internal', audiance: 'orders', jwksUrl: 'https://x/jwks' })
`

function check(result: SpawnSyncReturns<string>, what: string): string {
  assert.equal(result.status, 0, `${what} failed (${result.status}):\n${result.stderr}\n${result.stdout}`)
  return result.stdout
}

/** npm as the test's own run uses it (npm_execpath), on the Node running this test. */
function npm(args: string[], cwd: string): string {
  const cli = process.env.npm_execpath
  const result = cli
    ? spawnSync(process.execPath, [cli, ...args], { cwd, encoding: 'utf8', timeout: 180_000 })
    : spawnSync('npm', args, { cwd, encoding: 'utf8', timeout: 180_000 })
  return check(result, `npm ${args.join(' ')}`)
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

describe('installed from the npm tarballs into an empty directory', () => {
  const temp = mkdtempSync(join(tmpdir(), 'gatehouse-packaging-'))
  const app = join(temp, 'app')
  const installed = join(app, 'node_modules', 'gatehouse-gateway')
  // The installed bin runs on the first `node` on PATH: this test's.
  const env = { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH}` }
  let tarballs: string[] = []
  after(() => rmSync(temp, { recursive: true, force: true }))

  before(() => {
    const packed = spawnSync(
      process.execPath,
      [join(repo, 'scripts', 'pack.ts'), '--out', join(temp, 'tarballs')],
      {
        encoding: 'utf8',
        timeout: 180_000,
      },
    )
    tarballs = check(packed, 'npm run pack').trim().split('\n')
    assert.deepEqual(
      tarballs.map((t) => t.slice(t.lastIndexOf('/') + 1)),
      [`gatehouse-gateway-${pkg.version}.tgz`, `gatehouse-sdk-${pkg.version}.tgz`],
    )
    mkdirSync(app)
    npm(['init', '-y'], app)
    npm(['install', '--prefer-offline', '--no-audit', '--no-fund', ...tarballs], app)
  })

  it('ships compiled JavaScript, declarations, README and LICENSE, and no sources or tests', () => {
    const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8'))
    assert.deepEqual(manifest.exports['.'], { types: './dist/index.d.ts', default: './dist/index.js' })
    assert.equal(manifest.bin.gatehouse, 'bin/gatehouse.js')
    assert.equal(manifest.scripts, undefined)
    assert.equal(manifest.dependencies['@gatehouse/console'], undefined, 'a workspace-only package')
    assert.ok(existsSync(join(app, 'node_modules', 'better-sqlite3')))
    for (const dir of [installed, join(app, 'node_modules', 'gatehouse-sdk')]) {
      const files = readdirSync(dir, { recursive: true }) as string[]
      assert.ok(files.includes('README.md') && files.includes('LICENSE'), dir)
      assert.deepEqual(
        files.filter((f) => /(^|\/)src\/|\.test\.|test-fixtures|(?<!\.d)\.ts$/.test(f)),
        [],
        `${dir} carries sources or tests`,
      )
    }
    assert.ok(existsSync(join(installed, 'dist', 'console', 'manifest.json')), 'the console is bundled')
  })

  it('answers `npx gatehouse --version`', () => {
    const out = check(
      spawnSync(process.execPath, [npxCli(), '--no-install', 'gatehouse', '--version'], {
        cwd: app,
        env,
        encoding: 'utf8',
        timeout: 30_000,
      }),
      'npx gatehouse --version',
    )
    assert.match(out, new RegExp(`\\b${pkg.version.replaceAll('.', '\\.')}\\b`))
  })

  it('type-checks a TypeScript user of both packages against the shipped declarations', () => {
    writeFileSync(join(app, 'user.ts'), TS_USER)
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          module: 'nodenext',
          target: 'es2022',
          noEmit: true,
          skipLibCheck: true,
          types: ['node'],
          typeRoots: [join(repo, 'node_modules', '@types')],
        },
        files: ['user.ts'],
      }),
    )
    const tsc = join(dirname(fileURLToPath(import.meta.resolve('typescript/package.json'))), 'bin', 'tsc')
    check(spawnSync(process.execPath, [tsc, '-p', app], { encoding: 'utf8', timeout: 60_000 }), 'tsc')
  })

  for (const [name, node] of [
    [process.version, process.execPath],
    ['GATEHOUSE_TEST_NODE22', NODE22 ?? ''],
  ] as const)
    it(`runs the gateway through its bin on ${name}`, {
      skip: !existsSync(node) && 'no Node 22 binary here; GATEHOUSE_TEST_NODE22=/path/to/node runs it',
    }, async () => {
      const version = spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim()
      // The installed bin runs on the first `node` on PATH: the one under test.
      const env = { ...process.env, PATH: `${dirname(node)}:${process.env.PATH}` }
      const proxyPort = await freePort()
      const base = `http://127.0.0.1:${proxyPort}`
      writeFileSync(join(app, 'service.mjs'), SERVICE)
      const service = spawnTracked('sdk service', node, [join(app, 'service.mjs')], {
        cwd: app,
        env: { ...env, JWKS_URL: `${base}/.well-known/gatehouse/jwks.json` },
        stdio: ['ignore', 'pipe', 'inherit'],
      })
      const servicePort = await new Promise<number>((resolve, reject) => {
        service.once('exit', (code) => reject(new Error(`the service exited with ${code}`)))
        service.stdout!.setEncoding('utf8').once('data', (line: string) => resolve(JSON.parse(line).port))
      })
      writeFileSync(join(app, 'kong.yml'), kongYml(base, servicePort))

      const child = spawnTracked(
        'installed gatehouse',
        node,
        [
          join(app, 'node_modules', '.bin', 'gatehouse'),
          'start',
          '--config',
          'kong.yml',
          '--proxy-listen',
          `127.0.0.1:${proxyPort}`,
          '--admin-listen',
          '127.0.0.1:0',
          '--workers',
          '2',
        ],
        { cwd: app, env: { ...env, GATEHOUSE_LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'pipe'] },
      )
      const gh = new GatehouseProcess(child, app, join(app, 'kong.yml'))
      const started = await Promise.race([
        gh.waitForLog((l) => l.msg === 'gatehouse started', 60_000),
        gh.exited.then(({ code }) =>
          assert.fail(`gatehouse exited with ${code}\n${gh.stderr}\n${gh.stdout}`),
        ),
      ])
      const admin = `http://${started.admin as string}`
      assert.equal(started.node, version)
      // node:crypto's argon2 arrived in 24.7; before it @node-rs/argon2 hashes the same way.
      const [major = 0, minor = 0] = version.slice(1).split('.').map(Number)
      assert.equal(
        started.argon2,
        major > 24 || (major === 24 && minor >= 7) ? 'node:crypto' : '@node-rs/argon2',
      )

      // A proxied request: key-auth at the edge, an internal token the installed SDK verifies upstream.
      const refused = await fetch(`${base}/orders/1`)
      assert.equal(refused.status, 401)
      const res = await fetch(`${base}/orders/1`, { headers: { apikey: API_KEY } })
      const body = await res.text()
      assert.equal(res.status, 200, body)
      assert.deepEqual(JSON.parse(body), { subject: 'shop', kind: 'client', audience: ['orders'] })

      // basic-auth: the password was hashed with argon2id when the file was loaded, and is checked on the
      // thread pool per request; a wrong one is refused.
      const basic = (password: string) => ({
        authorization: `Basic ${Buffer.from(`${BASIC.username}:${password}`).toString('base64')}`,
      })
      const wrong = await fetch(`${base}/basic/1`, { headers: basic(`${BASIC.password}x`) })
      assert.equal(wrong.status, 401, await wrong.text())
      const signedIn = await fetch(`${base}/basic/1`, { headers: basic(BASIC.password) })
      const signedInBody = await signedIn.text()
      assert.equal(signedIn.status, 200, signedInBody)
      assert.deepEqual(JSON.parse(signedInBody), { subject: 'ann', kind: 'user', audience: ['orders'] })

      // The console's built files, bundled into the package, served by the admin listener.
      const consolePage = await fetch(`${admin}/console/`)
      const html = await consolePage.text()
      assert.equal(consolePage.status, 200, html)
      const script = /<script[^>]+src="([^"]+\.js)"/.exec(html)?.[1]
      assert.ok(script, html)
      const asset = await fetch(new URL(script, `${admin}/console/`))
      assert.equal(asset.status, 200)
      assert.match(asset.headers.get('content-type') ?? '', /^text\/javascript/)

      // The identity provider's login page, reached as a browser reaches it.
      const auth = new URL(`${base}/oidc/auth`)
      for (const [k, v] of Object.entries({
        client_id: 'spa',
        response_type: 'code',
        scope: 'openid',
        redirect_uri: 'http://127.0.0.1:9/cb',
        code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
        code_challenge_method: 'S256',
      }))
        auth.searchParams.set(k, v)
      const redirect = await fetch(auth, { redirect: 'manual' })
      assert.equal(redirect.status, 303, await redirect.text())
      const cookie = redirect.headers
        .getSetCookie()
        .map((c) => c.split(';')[0])
        .join('; ')
      const login = await fetch(new URL(redirect.headers.get('location')!, base), { headers: { cookie } })
      const loginHtml = await login.text()
      assert.equal(login.status, 200, loginHtml)
      assert.match(loginHtml, /<form[^>]+action="[^"]*\/login"/)
      assert.match(loginHtml, /name="password"/)

      // Not gh.stop(): that removes its directory, here the installation the next run uses.
      gh.signal('SIGTERM')
      assert.equal((await gh.exited).code, 0, gh.stderr)
      service.kill()
    })

  // undici 8 needs 22.19: an older Node gets the bin's refusal, not a SyntaxError from somewhere inside.
  it('refuses the system Node with what to do', {
    skip: !existsSync(SYSTEM_NODE) && 'no system Node here',
  }, () => {
    const node = SYSTEM_NODE
    const run = spawnSync(node, [join(app, 'node_modules', '.bin', 'gatehouse'), '--version'], {
      cwd: app,
      encoding: 'utf8',
      timeout: 20_000,
    })
    assert.equal(run.status, 1, run.stderr + run.stdout)
    assert.match(
      run.stderr,
      /^gatehouse: Node\.js >= 22\.19 is required \(this is v\d+\.\d+\.\d+\)\.\nInstall Node\.js 24 LTS/,
    )
  })
})

/** npx beside the npm in use. */
function npxCli(): string {
  const npmCli =
    process.env.npm_execpath ?? realpathSync(spawnSync('which', ['npm'], { encoding: 'utf8' }).stdout.trim())
  return join(dirname(npmCli), 'npx-cli.js')
}

function kongYml(base: string, servicePort: number): string {
  return `_format_version: "3.0"
services:
  - name: orders
    url: http://127.0.0.1:${servicePort}
    routes:
      - name: orders
        paths: [/orders]
        plugins:
          - name: key-auth
          - name: internal-token
            config: { audience: orders }
      - name: basic
        paths: [/basic]
        plugins:
          - name: basic-auth
          - name: internal-token
            config: { audience: orders }
consumers:
  - username: shop
    keyauth_credentials:
      - key: ${API_KEY}
  - username: ${BASIC.username}
    basicauth_credentials:
      - { username: ${BASIC.username}, password: ${BASIC.password} }
identity:
  enabled: true
  issuer: ${base}/oidc
  secret: ${SECRET}
  clients:
    - client_id: spa
      client_name: Single Page App
      redirect_uris: [http://127.0.0.1:9/cb]
      scopes: [openid, profile]
      first_party: true
`
}
