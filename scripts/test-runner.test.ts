/**
 * The test runner (scripts/test.ts) on files made to misbehave (scripts/fixtures, outside the suite's
 * globs): a `before` that fails after starting a browser and a gateway must end that file promptly,
 * failed, with both gone; a file that never ends must be killed by the watchdog with what it started,
 * named, and fail the run (issue 10, section 6).
 */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { spawnTracked } from '../packages/gatehouse/test/harness/resources.ts'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'gatehouse-runner-test-'))
after(() => rmSync(dir, { recursive: true, force: true }))

/** Runs the runner on one fixture; resolves with its exit code, its output and the fixture's pids. */
async function runOn(fixture: string, fileTimeoutMs: number) {
  const pidsFile = join(dir, `${fixture}.json`)
  const child = spawnTracked(
    'test runner',
    process.execPath,
    [
      'scripts/test.ts',
      '--no-checks',
      `--file=scripts/fixtures/${fixture}`,
      `--file-timeout=${fileTimeoutMs}`,
    ],
    {
      cwd: ROOT,
      env: { ...process.env, GATEHOUSE_FIXTURE_PIDS: pidsFile },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  let output = ''
  child.stdout!.setEncoding('utf8').on('data', (c: string) => {
    output += c
  })
  child.stderr!.setEncoding('utf8').on('data', (c: string) => {
    output += c
  })
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve))
  const pids = JSON.parse(readFileSync(pidsFile, 'utf8')) as Record<string, number>
  return { code, output, pids }
}

/** Running, and not a zombie nobody reaped (a container's pid 1 may not reap orphans). */
function alive(pid: number): boolean {
  try {
    const state = execFileSync('ps', ['-o', 'stat=', '-p', String(pid)], { encoding: 'utf8' }).trim()
    return state !== '' && !state.startsWith('Z')
  } catch {
    return false
  }
}

describe('the test runner', () => {
  it('ends a file whose before failed after starting a browser and a gateway promptly, failed, with neither left running', async () => {
    const { code, output, pids } = await runOn('before-fails.fixture.ts', 60_000)
    assert.notEqual(code, 0, output)
    assert.match(output, /^# scripts\/fixtures\/before-fails\.fixture\.ts: failed /m, output)
    assert.match(output, /this before fails on purpose/)
    assert.doesNotMatch(output, /killed/, 'it ended on its own, not by the watchdog')
    assert.deepEqual(Object.keys(pids).sort(), ['chromium', 'gatehouse'])
    for (const [name, pid] of Object.entries(pids))
      assert.equal(alive(pid), false, `${name} (${pid}) is gone`)
  })

  it('kills a file that outlives its timeout, with what it started, names it, and fails the run', async () => {
    // Long enough for the gateway to start on a loaded machine; the watchdog fires after it.
    const { code, output, pids } = await runOn('never-ends.fixture.ts', 20_000)
    assert.equal(code, 1, output)
    assert.match(output, /^# scripts\/fixtures\/never-ends\.fixture\.ts: killed /m)
    assert.match(
      output,
      /^# killed: scripts\/fixtures\/never-ends\.fixture\.ts \(still running after its 20000 ms file timeout\)$/m,
    )
    assert.match(output, /^# fail 1$/m)
    assert.deepEqual(Object.keys(pids).sort(), ['gatehouse', 'stray process', 'test file'])
    for (const [name, pid] of Object.entries(pids))
      assert.equal(alive(pid), false, `${name} (${pid}) is gone`)
  })
})
