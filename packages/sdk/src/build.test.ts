/**
 * "Works on Node 20+": builds the SDK as it is published (scripts/build.ts --out) into a temporary
 * node_modules, then runs a consumer under the system Node 20 (/usr/bin/node), which cannot load
 * TypeScript: it imports every entry point by package name (so through the published `exports`, with no
 * Express or Fastify installed), fetches a real JWKS, verifies ES256 and EdDSA tokens, refuses a hostile
 * one, and answers through the node:http guard.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'

const SYSTEM_NODE = '/usr/bin/node'
const root = fileURLToPath(new URL('..', import.meta.url))

const CONSUMER = `
import { createServer } from 'node:http'
import { generateKeyPair, exportJWK, SignJWT } from 'jose'
import { createVerifier, VerificationError } from 'gatehouse-sdk'
import { authenticate } from 'gatehouse-sdk/http'
import * as express from 'gatehouse-sdk/express'
import * as fastify from 'gatehouse-sdk/fastify'

const keys = []
const signers = {}
for (const [kid, alg] of [['es-1', 'ES256'], ['ed-1', 'EdDSA']]) {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true })
  keys.push({ ...(await exportJWK(publicKey)), kid, alg, use: 'sig' })
  signers[kid] = { privateKey, alg }
}
const jwks = createServer((req, res) => res.end(JSON.stringify({ keys })))
await new Promise((r) => jwks.listen(0, '127.0.0.1', r))
const now = Math.floor(Date.now() / 1000)
const sign = (kid, header = {}) =>
  new SignJWT({ iss: 'https://gatehouse.test', sub: 'user-1', aud: ['orders'], iat: now, nbf: now, exp: now + 60,
    jti: 'j-' + kid, sub_type: 'user', scope: 'a b', auth: { method: 'jwt' } })
    .setProtectedHeader({ alg: signers[kid].alg, kid, typ: 'gatehouse-internal+jwt', ...header })
    .sign(signers[kid].privateKey)

const verifier = createVerifier({
  issuer: 'https://gatehouse.test', audience: 'orders', jwksUrl: 'http://127.0.0.1:' + jwks.address().port + '/jwks',
})
await verifier.ready()
const es = await verifier.verify(await sign('es-1'))
const ed = await verifier.verify(await sign('ed-1'))
let hostile
try {
  await verifier.verify((await sign('es-1', { typ: 'at+jwt' })))
} catch (err) {
  hostile = { code: err.code, typed: err instanceof VerificationError }
}
const guard = authenticate(verifier)
const app = createServer(guard.protect((req, res) => res.end(req.identity.subject)))
await new Promise((r) => app.listen(0, '127.0.0.1', r))
const base = 'http://127.0.0.1:' + app.address().port
const refused = await fetch(base)
const allowed = await fetch(base, { headers: { authorization: 'Bearer ' + (await sign('ed-1')) } })
console.log(JSON.stringify({
  node: process.version,
  execPath: process.execPath,
  es: [es.subject, es.scopes], ed: ed.kind, hostile,
  refused: [refused.status, refused.headers.get('www-authenticate')],
  allowed: [allowed.status, await allowed.text()],
  middleware: [typeof express.authenticate, typeof express.requireScope, typeof fastify.gatehouse],
}))
jwks.close(); app.close()
`

describe('the published build', () => {
  const temp = mkdtempSync(join(tmpdir(), 'gatehouse-sdk-build-'))
  after(() => rmSync(temp, { recursive: true, force: true }))

  it('keeps workspace exports on src/*.ts and published exports on dist/*.js with types', () => {
    const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
    for (const [subpath, target] of Object.entries(manifest.exports as Record<string, string>)) {
      if (subpath === './package.json') continue
      assert.match(target, /^\.\/src\/[a-z]+\.ts$/, subpath)
      assert.ok(existsSync(join(root, target)), target)
      const published = manifest.publishConfig.exports[subpath]
      assert.deepEqual(published, {
        types: target.replace('./src/', './dist/').replace(/\.ts$/, '.d.ts'),
        default: target.replace('./src/', './dist/').replace(/\.ts$/, '.js'),
      })
    }
    assert.deepEqual(Object.keys(manifest.dependencies), ['jose'])
  })

  it('verifies tokens under the system Node 20 from the built package', {
    skip: !existsSync(SYSTEM_NODE) && `${SYSTEM_NODE} is missing`,
  }, () => {
    const pkg = join(temp, 'node_modules', 'gatehouse-sdk')
    const build = spawnSync(process.execPath, [join(root, 'scripts', 'build.ts'), '--out', pkg], {
      encoding: 'utf8',
    })
    assert.equal(build.status, 0, build.stderr + build.stdout)
    for (const file of ['index.js', 'index.d.ts', 'http.js', 'express.d.ts', 'fastify.js'])
      assert.ok(existsSync(join(pkg, 'dist', file)), file)
    assert.doesNotMatch(readFileSync(join(pkg, 'dist', 'index.d.ts'), 'utf8'), /from '\.\/[^']+\.ts'/)
    assert.ok(!existsSync(join(pkg, 'dist', 'test-fixtures.js')), 'test fixtures are not published')
    const published = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8'))
    assert.equal(published.exports['.'].default, './dist/index.js')
    assert.equal(published.scripts, undefined)

    const jose = fileURLToPath(import.meta.resolve('jose')).replace(/(\/node_modules\/jose)\/.*$/, '$1')
    symlinkSync(jose, join(temp, 'node_modules', 'jose'), 'dir')
    mkdirSync(join(temp, 'app'))
    writeFileSync(join(temp, 'app', 'check.mjs'), CONSUMER)
    const run = spawnSync(SYSTEM_NODE, [join(temp, 'app', 'check.mjs')], {
      encoding: 'utf8',
      timeout: 20_000,
      cwd: temp,
    })
    assert.equal(run.status, 0, run.stderr)
    const result = JSON.parse(run.stdout)
    assert.equal(result.execPath, SYSTEM_NODE)
    assert.ok(Number(result.node.slice(1).split('.')[0]) >= 20, result.node)
    assert.deepEqual(result.es, ['user-1', ['a', 'b']])
    assert.equal(result.ed, 'user')
    assert.deepEqual(result.hostile, { code: 'GH_SDK_TYPE_INVALID', typed: true })
    assert.deepEqual(result.refused, [401, 'Bearer realm="orders"'])
    assert.deepEqual(result.allowed, [200, 'user-1'])
    assert.deepEqual(result.middleware, ['function', 'function', 'function'])
  })
})
