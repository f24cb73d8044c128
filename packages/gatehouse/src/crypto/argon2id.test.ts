import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { decoyHash, formatPhc, hashPassword, NEW_HASH, parsePhc, verifyPassword } from './argon2id.ts'

/** The reference implementation's own test vector (phc-winner-argon2 src/test.c): "password", "somesalt". */
const REFERENCE = '$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc'

describe('argon2id PHC strings', () => {
  it("verifies the reference implementation's hash, and refuses another password", async () => {
    const hash = parsePhc(REFERENCE)
    assert.ok(typeof hash !== 'string', String(hash))
    assert.equal(await verifyPassword(hash, 'password'), true)
    assert.equal(await verifyPassword(hash, 'Password'), false)
    assert.equal(formatPhc(hash), REFERENCE, 'parsing and formatting round-trip')
  })

  it("hashes with OWASP's parameters, a 16-byte random salt and a 32-byte hash", async () => {
    const phc = hashPassword('correct horse')
    assert.match(phc, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/)
    assert.notEqual(hashPassword('correct horse'), phc, 'every hash has its own salt')
    const hash = parsePhc(phc)
    assert.ok(typeof hash !== 'string')
    assert.deepEqual([hash.memory, hash.passes, hash.parallelism], [19_456, 2, 1])
    assert.equal(await verifyPassword(hash, 'correct horse'), true)
    assert.equal(await verifyPassword(hash, 'correct horse '), false)
  })

  it('refuses what is not an argon2id v19 hash within the bounds, saying why without quoting it', () => {
    const cases: [string, string][] = [
      [
        '$argon2i$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc',
        'only argon2id',
      ],
      [
        '$argon2id$v=16$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc',
        'version 19',
      ],
      [
        '$argon2id$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc',
        'not an argon2id PHC',
      ],
      [
        '$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ=$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc',
        'not an argon2id',
      ],
      [
        '$argon2id$v=19$m=65537,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc',
        'too expensive',
      ],
      ['$argon2id$v=19$m=4,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc', 'impossible'],
      ['$argon2id$v=19$m=65536,t=2,p=1$c29tZQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc', 'too weak'],
      ['$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm', 'too weak'],
      [
        '$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHR$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc',
        'malformed base64',
      ],
    ]
    for (const [text, expected] of cases) {
      const result = parsePhc(text)
      assert.equal(typeof result, 'string', text)
      assert.ok((result as string).includes(expected), `${text}: ${String(result)}`)
      assert.ok(!(result as string).includes('c29tZ'), 'the message does not quote the hash')
    }
  })

  it('makes decoy hashes with the cost of new hashes that no password matches', async () => {
    const decoy = decoyHash()
    assert.deepEqual([decoy.memory, decoy.passes, decoy.parallelism], [NEW_HASH.memory, NEW_HASH.passes, 1])
    assert.equal(await verifyPassword(decoy, ''), false)
  })
})

describe('hash-password.ts', () => {
  const script = fileURLToPath(new URL('./hash-password.ts', import.meta.url))

  it('prints the argon2id PHC string of the password on standard input', async () => {
    const run = spawnSync(process.execPath, [script], { input: 'correct horse\n', encoding: 'utf8' })
    assert.equal(run.status, 0, run.stderr)
    const hash = parsePhc(run.stdout.trim())
    assert.ok(typeof hash !== 'string', run.stdout)
    assert.equal(await verifyPassword(hash, 'correct horse'), true, 'the trailing newline is not part of it')
  })

  it('refuses an empty password', () => {
    const run = spawnSync(process.execPath, [script], { input: '', encoding: 'utf8' })
    assert.equal(run.status, 2)
    assert.equal(run.stderr, 'hash-password: no password on standard input\n')
  })
})
