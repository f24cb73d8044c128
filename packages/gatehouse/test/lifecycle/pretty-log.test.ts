/**
 * `logging.format: pretty` through the real process (one process, and workers whose lines the primary
 * formats), and the started line naming where the store lives.
 */
import assert from 'node:assert/strict'
import { rmSync } from 'node:fs'
import { after, before, describe, it } from 'node:test'
import { BIN, GatehouseProcess, runCli, startGatehouse, writeTempConfig } from '../harness/gatehouse.ts'
import { spawnTracked } from '../harness/resources.ts'
import { serviceConfig, startUpstream, type Upstream } from '../harness/upstream.ts'

/** Starts `gatehouse start` whose stdout is not JSON; resolves once its pretty started line is out. */
async function startPretty(
  config: object | string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ gh: GatehouseProcess; proxyUrl: string }> {
  const { dir, file } = writeTempConfig(config)
  const child = spawnTracked(
    'gatehouse',
    process.execPath,
    [
      BIN,
      'start',
      '--config',
      file,
      '--proxy-listen',
      '127.0.0.1:0',
      '--admin-listen',
      '127.0.0.1:0',
      ...args,
    ],
    {
      env: { ...process.env, GATEHOUSE_LOG_LEVEL: 'info', GATEHOUSE_WORKERS: '1', NO_COLOR: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  const gh = new GatehouseProcess(child, dir, file)
  const deadline = Date.now() + 60_000
  for (;;) {
    const started = / INFO {2}gatehouse started .*\bproxy=(\S+)/.exec(gh.stdout)
    if (started) return { gh, proxyUrl: `http://${started[1]}` }
    if (child.exitCode !== null || Date.now() > deadline) {
      await gh.stop()
      throw new Error(`no pretty started line\n${gh.stdout}\n${gh.stderr}`)
    }
    await new Promise((r) => setTimeout(r, 50))
  }
}

async function waitFor(gh: GatehouseProcess, pattern: RegExp): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const match = pattern.exec(gh.stdout)
    if (match) return match[0]
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`no line matching ${pattern}\n${gh.stdout}`)
}

const TIME = String.raw`\d\d:\d\d:\d\d\.\d{3}`

describe('logging.format: pretty', () => {
  let upstream: Upstream
  before(async () => {
    upstream = await startUpstream()
  })
  after(async () => {
    await upstream.close()
  })

  for (const workers of ['1', '2']) {
    it(`writes a request as a human access line, without colour when stdout is not a terminal (${workers} worker${workers === '1' ? '' : 's'})`, async () => {
      const { gh, proxyUrl } = await startPretty(
        serviceConfig(upstream.url, [{ name: 'orders-api', paths: ['/orders'] }]),
        ['--log-format', 'pretty'],
        { GATEHOUSE_WORKERS: workers },
      )
      try {
        const res = await fetch(`${proxyUrl}/orders/7?token=s3cr3t-query`, {
          headers: { authorization: 'Bearer s3cr3t-bearer' },
        })
        assert.equal(res.status, 200)
        const line = await waitFor(gh, /^.*GET \/orders\/7 → .*$/m)
        assert.match(
          line,
          new RegExp(
            `^${TIME} INFO  GET /orders/7 → 200 \\d+\\.\\dms route=orders-api service=svc upstream_latency_ms=[\\d.]+ request_id=\\S+`,
          ),
        )
        assert.match(
          gh.stdout,
          new RegExp(`^${TIME} INFO  gatehouse started .*\\bworkers=${workers}\\b`, 'm'),
        )
        // Not a terminal: no escape sequences; pretty: no JSON line; the same fields as JSON: no secrets.
        assert.ok(!gh.stdout.includes('\x1b['), gh.stdout)
        assert.doesNotMatch(gh.stdout, /^\{/m)
        assert.ok(!gh.stdout.includes('s3cr3t'))
      } finally {
        await gh.stop()
      }
    })
  }

  it('is chosen by GATEHOUSE_LOG_FORMAT or logging.format too, and refuses an unknown format', async () => {
    const { gh } = await startPretty({ ...serviceConfig(upstream.url), logging: { format: 'pretty' } }, [])
    await gh.stop()
    const env = await startPretty(serviceConfig(upstream.url), [], { GATEHOUSE_LOG_FORMAT: 'pretty' })
    await env.gh.stop()

    const { dir, file } = writeTempConfig(serviceConfig(upstream.url))
    try {
      const bad = await runCli(['start', '--config', file], { GATEHOUSE_LOG_FORMAT: 'yaml' })
      assert.match(bad.stderr, /^GATEHOUSE_LOG_FORMAT: unknown log format; expected one of json, pretty\n/)
      assert.equal(bad.code, 1)
      const flag = await runCli(['start', '--config', file, '--log-format', 'xml'])
      assert.equal(flag.stderr, "gatehouse: --log-format: 'xml' is not json or pretty\n")
      assert.equal(flag.code, 2)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('the started line', () => {
  it("names the SQLite file's absolute path when the node keeps state in it", async () => {
    const gh = await startGatehouse({
      config: `_format_version: "3.0"
storage:
  entities: database
`,
    })
    try {
      const started = await gh.waitForLog((l) => l.msg === 'gatehouse started')
      assert.equal(started.store, `${gh.dir}/gatehouse.db`)
    } finally {
      await gh.stop()
    }
  })

  it('says none when nothing keeps state in a store', async () => {
    const upstream = await startUpstream()
    try {
      const gh = await startGatehouse({ config: serviceConfig(upstream.url) })
      const started = await gh.waitForLog((l) => l.msg === 'gatehouse started')
      assert.equal(started.store, 'none')
      await gh.stop()
    } finally {
      await upstream.close()
    }
  })
})
