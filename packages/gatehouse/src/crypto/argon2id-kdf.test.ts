/**
 * node:crypto's argon2 (Node 24.7+) and @node-rs/argon2 (the fallback on Node 22) are one function: the
 * same tags for the same inputs, so a password hashed under one Node verifies under the other, and
 * @node-rs/argon2's own PHC strings read as ours. Under Node 24 the fallback is forced by passing it.
 */
import assert from 'node:assert/strict'
import * as crypto from 'node:crypto'
import { createRequire } from 'node:module'
import { describe, it } from 'node:test'
import type * as NodeRsArgon2 from '@node-rs/argon2'
import { decoyHash, hashPassword, hashPasswordAsync, NEW_HASH, parsePhc, verifyPassword } from './argon2id.ts'
import { type Argon2idKdf, argon2idKdf, nodeCryptoArgon2id, nodeRsArgon2id } from './argon2id-kdf.ts'

const nodeCrypto = nodeCryptoArgon2id()
const nodeRs = nodeRsArgon2id()
const rs = createRequire(import.meta.url)('@node-rs/argon2') as typeof NodeRsArgon2
const noNodeCrypto = nodeCrypto === null && `node:crypto has no argon2 in Node ${process.version} (24.7+)`

/** phc-winner-argon2's test vector (src/test.c): "password", "somesalt", m=65536, t=2, p=1. */
const REFERENCE_TAG = 'CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc='

function parsed(phc: string) {
  const hash = parsePhc(phc)
  assert.ok(typeof hash !== 'string', `${phc}: ${hash}`)
  return hash
}

describe('argon2id implementations', () => {
  it('uses node:crypto where this Node has it, else @node-rs/argon2', () => {
    const native = typeof (crypto as Partial<typeof crypto>).argon2 === 'function'
    assert.equal(argon2idKdf.name, native ? 'node:crypto' : '@node-rs/argon2')
    assert.equal(nodeRs.name, '@node-rs/argon2')
  })

  for (const [name, kdf] of [
    ['node:crypto', nodeCrypto],
    ['@node-rs/argon2', nodeRs],
  ] as const)
    it(`${name} computes the reference vector, synchronously and on the thread pool`, {
      skip: kdf === null && noNodeCrypto,
    }, async () => {
      const salt = Buffer.from('somesalt')
      const cost = { memory: 65_536, passes: 2, parallelism: 1 }
      assert.equal(kdf!.deriveSync('password', salt, cost, 32).toString('base64'), REFERENCE_TAG)
      assert.equal((await kdf!.derive('password', salt, cost, 32)).toString('base64'), REFERENCE_TAG)
    })

  it('both give the same tag for any accepted input (UTF-8 passwords, salt and tag sizes, lanes)', {
    skip: noNodeCrypto,
  }, async () => {
    const cases: [string, number, { memory: number; passes: number; parallelism: number }, number][] = [
      ['correct horse', 16, { memory: 19_456, passes: 2, parallelism: 1 }, 32],
      ['pässwörd ✓ 密码', 16, { memory: 64, passes: 1, parallelism: 1 }, 32],
      ['', 8, { memory: 64, passes: 3, parallelism: 1 }, 16],
      ['long salt and tag', 64, { memory: 256, passes: 1, parallelism: 4 }, 64],
      ['eight lanes', 33, { memory: 512, passes: 2, parallelism: 8 }, 40],
    ]
    for (const [password, saltBytes, cost, tagBytes] of cases) {
      const salt = crypto.randomBytes(saltBytes)
      const expected = nodeCrypto!.deriveSync(password, salt, cost, tagBytes)
      assert.equal(expected.length, tagBytes)
      assert.deepEqual(nodeRs.deriveSync(password, salt, cost, tagBytes), expected, password)
      assert.deepEqual(await nodeRs.derive(password, salt, cost, tagBytes), expected, password)
    }
  })

  const pairs: [string, Argon2idKdf | null, Argon2idKdf | null][] = [
    ['node:crypto', nodeCrypto, nodeRs],
    ['@node-rs/argon2', nodeRs, nodeCrypto],
  ]
  for (const [name, hasher, verifier] of pairs)
    it(`a password hashed with ${name} verifies with the other`, { skip: noNodeCrypto }, async () => {
      for (const phc of [
        hashPassword('correct horse', hasher!),
        await hashPasswordAsync('correct horse', hasher!),
      ]) {
        assert.match(phc, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/)
        assert.equal(await verifyPassword(parsed(phc), 'correct horse', verifier!), true)
        assert.equal(await verifyPassword(parsed(phc), 'correct horse ', verifier!), false)
      }
    })

  it("reads @node-rs/argon2's own PHC strings, and writes strings it reads", async () => {
    const theirs = await rs.hash('correct horse', {
      memoryCost: NEW_HASH.memory,
      timeCost: NEW_HASH.passes,
      parallelism: NEW_HASH.parallelism,
      outputLen: NEW_HASH.tagBytes,
    })
    assert.equal(await verifyPassword(parsed(theirs), 'correct horse'), true)
    assert.equal(await verifyPassword(parsed(theirs), 'Correct horse'), false)
    const ours = hashPassword('correct horse')
    assert.equal(await rs.verify(ours, 'correct horse'), true)
    assert.equal(await rs.verify(ours, 'Correct horse'), false)
  })

  it('the decoy hash costs a real check with @node-rs/argon2 too, and matches nothing', async () => {
    const decoy = decoyHash()
    assert.equal(await verifyPassword(decoy, '', nodeRs), false)
    assert.equal(await verifyPassword(decoy, 'correct horse', nodeRs), false)
  })
})
