/**
 * The first run's output (issue 15): npm prints only errors in this repository (.npmrc), and the
 * preinstall check refuses, with what to do, exactly where npm's hidden EBADENGINE warnings would have
 * been true — a platform without the pinned Node 24 and a Node older than 22.19.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const script = join(root, 'scripts', 'check-node.cjs')

/** Runs the check as if on `platform`-`arch` with Node `version` (the process's own values, overridden). */
function check(platform: string, arch: string, version: string) {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-check-node-'))
  const preload = join(dir, 'as.cjs')
  writeFileSync(
    preload,
    `Object.defineProperty(process, 'platform', { value: ${JSON.stringify(platform)} })
Object.defineProperty(process, 'arch', { value: ${JSON.stringify(arch)} })
Object.defineProperty(process, 'versions', { value: { ...process.versions, node: ${JSON.stringify(version)} } })`,
  )
  return spawnSync(process.execPath, ['--require', preload, script], { encoding: 'utf8' })
}

describe('npm install on the Node that runs npm', () => {
  it('passes on Linux x64 whatever that Node is: the pinned Node 24 runs Gatehouse', () => {
    const r = check('linux', 'x64', '20.20.2')
    assert.equal(r.status, 0, r.stderr)
    assert.equal(r.stderr, '')
  })

  it('refuses an old Node where the pinned one cannot run, saying which Node is needed', () => {
    for (const [platform, arch] of [
      ['darwin', 'arm64'],
      ['linux', 'arm64'],
      ['win32', 'x64'],
    ]) {
      const r = check(platform!, arch!, '20.20.2')
      assert.equal(r.status, 1, `${platform}-${arch}`)
      assert.match(r.stderr, /needs Node\.js 22\.19 or newer/)
      assert.match(r.stderr, new RegExp(`${platform}-${arch}.*20\\.20\\.2`))
    }
  })

  it('passes there with Node 22.19 or newer', () => {
    for (const version of ['22.19.0', '22.23.5', '24.0.0', '24.21.0', '25.1.0'])
      assert.equal(check('darwin', 'arm64', version).status, 0, version)
    for (const version of ['22.18.0', '21.7.3'])
      assert.equal(check('darwin', 'arm64', version).status, 1, version)
  })

  it('npm reads loglevel=error from the repository (no EBADENGINE noise on the first run)', () => {
    const r = spawnSync('npm', ['config', 'get', 'loglevel'], { cwd: root, encoding: 'utf8' })
    assert.equal(r.status, 0, r.stderr)
    assert.equal(r.stdout.trim(), 'error')
  })
})
