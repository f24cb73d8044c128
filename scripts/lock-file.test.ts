/**
 * "A fresh npm install in the clone must not leave package-lock.json modified" (issue 13): npm resolves
 * the committed lock against every workspace manifest, as a fresh clone's `npm install` does first, and
 * must find nothing to change. It once did: the lock left out @biomejs/cli-*'s other platform builds,
 * which `npm install` then added, and a manifest changed without its lock would show the same way.
 * Only the resolution runs (--package-lock-only, nothing installed, npm's cache first), in a copy.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { after, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))

describe('package-lock.json', () => {
  const temp = mkdtempSync(join(tmpdir(), 'gatehouse-lock-'))
  after(() => rmSync(temp, { recursive: true, force: true }))

  it('is what npm install resolves from the manifests, so a fresh install leaves it unchanged', () => {
    const listed = spawnSync('git', ['ls-files', '--', 'package.json', '*/package.json'], {
      cwd: root,
      encoding: 'utf8',
    })
    assert.equal(listed.status, 0, listed.stderr)
    const manifests = listed.stdout.split('\n').filter((f) => f !== '' && !f.includes('node_modules'))
    assert.ok(manifests.includes('packages/gatehouse/package.json'), manifests.join(', '))
    for (const file of [...manifests, 'package-lock.json', '.npmrc']) {
      mkdirSync(dirname(join(temp, file)), { recursive: true })
      cpSync(join(root, file), join(temp, file))
    }
    const args = [
      'install',
      '--package-lock-only',
      '--prefer-offline',
      '--ignore-scripts',
      '--no-audit',
      '--no-fund',
    ]
    const cli = process.env.npm_execpath
    const npm = cli
      ? spawnSync(process.execPath, [cli, ...args], { cwd: temp, encoding: 'utf8', timeout: 120_000 })
      : spawnSync('npm', args, { cwd: temp, encoding: 'utf8', timeout: 120_000 })
    assert.equal(npm.status, 0, npm.stderr)
    const resolved = readFileSync(join(temp, 'package-lock.json'), 'utf8')
    const committed = readFileSync(join(root, 'package-lock.json'), 'utf8')
    if (resolved !== committed) {
      const added = resolved.split('\n').filter((l) => !committed.includes(l))
      assert.fail(
        `npm install would change package-lock.json (run it and commit the lock file); new lines:\n${added.slice(0, 20).join('\n')}`,
      )
    }
  })
})
