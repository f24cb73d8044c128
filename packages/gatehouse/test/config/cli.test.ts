import assert from 'node:assert/strict'
import { rmSync } from 'node:fs'
import { after, before, describe, it } from 'node:test'
import pkg from '../../package.json' with { type: 'json' }
import { BIN, GatehouseProcess, runCli, startGatehouse, writeTempConfig } from '../harness/gatehouse.ts'
import { spawnTracked } from '../harness/resources.ts'
import { closedPort, serviceConfig, startUpstream, type Upstream } from '../harness/upstream.ts'

/** Variables the outer environment might set, cleared so each test says what it relies on. */
const CLEAN_ENV = { GATEHOUSE_CONFIG: '', GATEHOUSE_PROXY_LISTEN: '', GATEHOUSE_ADMIN_LISTEN: '' }

/** `gatehouse start ARGS...` with a clean environment; killed after 20 s should it wrongly keep running. */
const runStart = (args: string[], env: Record<string, string> = {}) =>
  runCli(['start', ...args], { ...CLEAN_ENV, ...env })

const VALID = `_format_version: "3.0"
services:
- name: orders
  url: http://127.0.0.1:1
  routes:
  - name: orders-api
    paths: [/orders]
  - name: orders-admin
    paths: [/admin/orders]
    plugins:
    - name: request-id
consumers:
- username: alice
`

const INVALID = `_format_version: "3.0"
services:
- name: orders
  url: http://127.0.0.1:1
  retries: many
  routes:
  - name: orders-api
    paths: [/orders]
    stirp_path: false
- name: orders
  host: other.internal
`

describe('gatehouse config check', () => {
  const files: string[] = []
  after(() => {
    for (const dir of files) rmSync(dir, { recursive: true, force: true })
  })
  const write = (text: string) => {
    const { dir, file } = writeTempConfig(text)
    files.push(dir)
    return file
  }

  it('prints OK with the entity counts and exits 0 for a valid file', async () => {
    const file = write(VALID)
    const r = await runCli(['config', 'check', file], CLEAN_ENV)
    assert.equal(r.stdout, `${file}: OK (1 service, 2 routes, 1 consumer, 1 plugin)\n`)
    assert.equal(r.stderr, '')
    assert.equal(r.code, 0)
  })

  it('prints one FILE: path: message line per problem and exits 1 for an invalid file', async () => {
    const file = write(INVALID)
    const r = await runCli(['config', 'check', file], CLEAN_ENV)
    assert.equal(
      r.stderr,
      [
        `${file}: services[0].retries: expected number, got string`,
        `${file}: services[0].routes[0].stirp_path: unknown key (did you mean 'strip_path'?)`,
        `${file}: services[1].name: duplicate service name 'orders' (also at services[0])`,
        'gatehouse: 3 problems in the configuration',
        '',
      ].join('\n'),
    )
    assert.equal(r.stdout, '')
    assert.equal(r.code, 1)
  })

  it('fails what only the plugins can judge too, such as an anonymous consumer that does not exist', async () => {
    const { dir, file } = writeTempConfig(`${VALID}
plugins:
- name: key-auth
  config: { anonymous: ghost }
`)
    try {
      const r = await runCli(['config', 'check', file])
      assert.equal(r.code, 1)
      assert.match(
        r.stderr,
        /plugins \(key-auth, global\): plugin 'key-auth' cannot use this config: anonymous consumer 'ghost' is configured but doesn't exist/,
      )
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('says a missing file cannot be read, and exits 1', async () => {
    const file = `${write(VALID)}.missing`
    const r = await runCli(['config', 'check', file], CLEAN_ENV)
    assert.equal(
      r.stderr,
      `${file}: cannot read the configuration: no such file\ngatehouse: the configuration cannot be read\n`,
    )
    assert.equal(r.code, 1)
  })

  it('exits 2 with its usage line when the FILE is missing', async () => {
    const r = await runCli(['config', 'check'], CLEAN_ENV)
    assert.equal(
      r.stderr,
      'gatehouse: config check needs FILE (or --config FILE, or GATEHOUSE_CONFIG)\n' +
        'Usage: gatehouse config check FILE | --config FILE\n' +
        "Run 'gatehouse config check --help' for more.\n",
    )
    assert.equal(r.code, 2)
  })
})

describe('gatehouse start, refusing to run', () => {
  it('exits 2 with its usage line when no configuration file is given', async () => {
    const r = await runStart([])
    assert.match(
      r.stderr,
      /^gatehouse: start needs --config FILE \(or GATEHOUSE_CONFIG\)\nUsage: gatehouse start --config FILE .*\nRun 'gatehouse start --help' for more\.\n$/,
    )
    assert.equal(r.code, 2)
  })

  it('exits 2 on a bad --proxy-listen or --admin-listen value, naming the flag', async () => {
    const { dir, file } = writeTempConfig(VALID)
    try {
      const bad = await runStart(['--config', file, '--proxy-listen', 'localhost'])
      assert.equal(
        bad.stderr,
        "gatehouse: --proxy-listen: invalid listen address 'localhost': expected HOST:PORT, e.g. 0.0.0.0:8000\n",
      )
      assert.equal(bad.code, 2)

      const port = await runStart(['--config', file, '--admin-listen', '127.0.0.1:99999'])
      assert.equal(
        port.stderr,
        "gatehouse: --admin-listen: invalid listen address '127.0.0.1:99999': port must be 0..65535\n",
      )
      assert.equal(port.code, 2)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('exits 2 on a bad GATEHOUSE_PROXY_LISTEN, naming the variable', async () => {
    const { dir, file } = writeTempConfig(VALID)
    try {
      const r = await runStart(['--config', file], { GATEHOUSE_PROXY_LISTEN: ':8000' })
      assert.equal(
        r.stderr,
        "gatehouse: GATEHOUSE_PROXY_LISTEN: invalid listen address ':8000': expected HOST:PORT, e.g. 0.0.0.0:8000\n",
      )
      assert.equal(r.code, 2)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('refuses a GATEHOUSE_ADMIN_TOKEN shorter than admin.token allows, without printing it', async () => {
    const { dir, file } = writeTempConfig(VALID)
    try {
      const r = await runStart(
        ['--config', file, '--proxy-listen', '127.0.0.1:0', '--admin-listen', '127.0.0.1:0'],
        {
          GATEHOUSE_ADMIN_TOKEN: 'short-Tok3n',
        },
      )
      assert.equal(r.code, 1)
      assert.match(r.stderr, /^GATEHOUSE_ADMIN_TOKEN: must be at least 16 characters\n/)
      assert.ok(!(r.stdout + r.stderr).includes('short-Tok3n'))
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('exits 1 on an invalid file, printing every problem, without listening', async () => {
    const { dir, file } = writeTempConfig(INVALID)
    try {
      const port = await closedPort()
      const r = await runStart(
        ['--config', file, '--proxy-listen', `127.0.0.1:${port}`, '--admin-listen', '127.0.0.1:0'],
        { GATEHOUSE_LOG_LEVEL: 'info' },
      )
      assert.equal(r.code, 1)
      assert.equal(r.stderr.split('\n').filter((l) => l.startsWith(`${file}: `)).length, 3)
      assert.match(r.stderr, /\ngatehouse: 3 problems in the configuration; nothing was started\n$/)
      assert.doesNotMatch(r.stdout, /gatehouse started/)
      await assert.rejects(fetch(`http://127.0.0.1:${port}/orders`))
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('gatehouse start, listening', () => {
  let upstream: Upstream
  before(async () => {
    upstream = await startUpstream()
  })
  after(async () => {
    await upstream.close()
  })

  it('takes the file and both listen addresses from GATEHOUSE_* variables when no flags are given', async () => {
    const [proxyPort, adminPort] = [await closedPort(), await closedPort()]
    const { dir, file } = writeTempConfig(serviceConfig(upstream.url, [{ name: 'api', paths: ['/api'] }]))
    const child = spawnTracked('gatehouse', process.execPath, [BIN, 'start'], {
      env: {
        ...process.env,
        GATEHOUSE_LOG_LEVEL: 'info',
        GATEHOUSE_CONFIG: file,
        GATEHOUSE_PROXY_LISTEN: `127.0.0.1:${proxyPort}`,
        GATEHOUSE_ADMIN_LISTEN: `127.0.0.1:${adminPort}`,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const gh = new GatehouseProcess(child, dir, file)
    try {
      const started = await gh.waitForLog((l) => l.msg === 'gatehouse started', 15_000)
      assert.equal(started.proxy, `127.0.0.1:${proxyPort}`)
      assert.equal(started.admin, `127.0.0.1:${adminPort}`)
      assert.equal((await fetch(`http://127.0.0.1:${proxyPort}/api/x`)).status, 200)
    } finally {
      await gh.stop()
    }
  })

  it('prefers the flags over the GATEHOUSE_* variables', async () => {
    const [proxyPort, adminPort] = [await closedPort(), await closedPort()]
    const gh = await startGatehouse({
      config: serviceConfig(upstream.url),
      env: {
        GATEHOUSE_PROXY_LISTEN: `127.0.0.1:${proxyPort}`,
        GATEHOUSE_ADMIN_LISTEN: `127.0.0.1:${adminPort}`,
      },
    })
    try {
      assert.notEqual(gh.proxyUrl, `http://127.0.0.1:${proxyPort}`)
      assert.notEqual(gh.adminUrl, `http://127.0.0.1:${adminPort}`)
      assert.equal((await gh.proxy('/')).status, 200)
    } finally {
      await gh.stop()
    }
  })
})

describe('gatehouse --version', () => {
  it('prints the version from package.json and exits 0', async () => {
    const r = await runCli(['--version'])
    assert.equal(r.stdout, `gatehouse ${pkg.version}\n`)
    assert.equal(r.code, 0)
  })
})
