/**
 * `npm start` as a newcomer runs it: the shop comes up, serves the store page and the discovery
 * document, and Ctrl-C (SIGINT to the whole process group, as a terminal sends it) stops every process
 * it started. When one of its processes dies, the rest are stopped too and it exits non-zero, saying
 * which one and what it last wrote. Processes are found by process group in /proc, so Linux only.
 */
import assert from 'node:assert/strict'
import type { ChildProcess } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { spawnTracked } from '../../packages/gatehouse/test/harness/resources.ts'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const START = fileURLToPath(new URL('./start.ts', import.meta.url))
const NO_PROC = existsSync('/proc/self/stat') ? false : 'needs /proc (Linux) to find the processes'

interface Run {
  readonly child: ChildProcess
  output: string
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

/**
 * Starts a command in a process group of its own, on free ports; the harness kills the group after the
 * file (or when this process dies), whatever the test did.
 */
function run(command: string, args: string[]): Run {
  const child = spawnTracked(command, command, args, {
    cwd: ROOT,
    env: { ...process.env, GATEHOUSE_PROXY_LISTEN: '127.0.0.1:0', GATEHOUSE_ADMIN_LISTEN: '127.0.0.1:0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const r: Run = {
    child,
    output: '',
    exited: new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal }))),
  }
  for (const stream of [child.stdout!, child.stderr!])
    stream.setEncoding('utf8').on('data', (chunk: string) => {
      r.output += chunk
    })
  return r
}

/** The store URL, once the shop says it is running. */
async function storeUrl(r: Run, timeout = 45_000): Promise<string> {
  const deadline = Date.now() + timeout
  while (Date.now() < deadline) {
    const m = /Store {8}(http:\/\/\S+)/.exec(r.output)
    if (m && r.output.includes('Ctrl-C stops everything')) return m[1]!
    if (r.child.exitCode !== null || r.child.signalCode !== null) break
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  assert.fail(`the shop did not start:\n${r.output}`)
}

/** Every process in a process group, with its command line. */
function group(pgid: number): { pid: number; command: string }[] {
  const out: { pid: number; command: string }[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      // pid (comm) state ppid pgrp …; comm may contain spaces, so count from the last ')'.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      if (Number(fields[2]) !== pgid) continue
      const command = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ').trim()
      out.push({ pid: Number(entry), command })
    } catch {
      // gone meanwhile
    }
  }
  return out
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

describe('npm start', { skip: NO_PROC, timeout: 90_000 }, () => {
  it('serves the store and the discovery document, and Ctrl-C stops every process it started', async () => {
    const r = run('npm', ['start'])
    const url = await storeUrl(r)
    const page = await fetch(`${url}/`)
    assert.equal(page.status, 200)
    assert.match(await page.text(), /<title>Gatehouse Shop<\/title>/)
    const discovery = await fetch(`${url}/auth/.well-known/openid-configuration`)
    assert.equal(discovery.status, 200)
    assert.equal(((await discovery.json()) as { issuer: string }).issuer, `${url}/auth`)

    const processes = group(r.child.pid!)
    const commands = processes.map((p) => p.command).join('\n')
    for (const name of ['users', 'catalog', 'reviews', 'recommendations', 'promotions', 'basket', 'web'])
      assert.match(commands, new RegExp(`services/${name}\\.ts`), `a process for ${name}`)
    assert.match(commands, /gatehouse\.js start --config \S+examples\/shop\/gatehouse\.yaml/)

    process.kill(-r.child.pid!, 'SIGINT')
    const { code, signal } = await r.exited
    // npm passes a Ctrl-C on as its own exit signal; the shop itself stops cleanly and says so.
    assert.ok(code === 0 || signal === 'SIGINT', `npm exited with ${signal ?? code}\n${r.output}`)
    assert.match(r.output, /Stopping…/)
    // A newcomer learns how to get past the order's step-up (issue 14).
    assert.match(
      r.output,
      /"Place order" asks for a second factor: the first time, set up any authenticator app/,
    )
    assert.doesNotMatch(r.output, /stopped on its own|could not start/)
    await waitUntil(() => processes.every((p) => !alive(p.pid)), 15_000)
    assert.deepEqual(
      processes.filter((p) => alive(p.pid)),
      [],
      'no process of the shop is left',
    )
  })

  it('stops every process on SIGTERM to the start script alone (no terminal signalling the group)', async () => {
    const r = run(process.execPath, [START])
    await storeUrl(r)
    const processes = group(r.child.pid!)
    assert.equal(processes.length, 9, processes.map((p) => p.command).join('\n'))
    r.child.kill('SIGTERM')
    assert.deepEqual(await r.exited, { code: 0, signal: null }, r.output)
    await waitUntil(() => processes.every((p) => !alive(p.pid)), 15_000)
    assert.deepEqual(
      processes.filter((p) => alive(p.pid)),
      [],
    )
  })

  it('stops everything and exits 1 with the failed process’s output when one of them dies', async () => {
    const r = run(process.execPath, [START])
    await storeUrl(r)
    const processes = group(r.child.pid!)
    const reviews = processes.find((p) => p.command.includes('services/reviews.ts'))
    assert.ok(reviews, processes.map((p) => p.command).join('\n'))
    process.kill(reviews.pid, 'SIGKILL')
    const { code } = await r.exited
    assert.equal(code, 1, r.output)
    assert.match(r.output, /reviews stopped on its own \(SIGKILL\); its last output:\n.*"service":"reviews"/)
    await waitUntil(() => processes.every((p) => !alive(p.pid)), 15_000)
    assert.deepEqual(
      processes.filter((p) => alive(p.pid)),
      [],
    )
  })
})

async function waitUntil(done: () => boolean, timeout: number): Promise<void> {
  const deadline = Date.now() + timeout
  while (!done() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50))
}
