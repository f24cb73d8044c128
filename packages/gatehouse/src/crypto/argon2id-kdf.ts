/**
 * The argon2id function itself (RFC 9106): a password, a salt and the costs in, the raw tag out, either
 * synchronously or on libuv's thread pool. PHC strings, salts and the comparison stay in argon2id.ts.
 *
 * node:crypto has argon2 from Node 24.7; Gatehouse also runs on Node 22, where @node-rs/argon2 (a prebuilt
 * binary per platform, no compile step) computes the same function. Both give the same bytes for the same
 * inputs (argon2id-kdf.test.ts checks them against each other and the reference vector), so a hash made
 * under one Node verifies under the other. node:crypto is read through its namespace with a feature check:
 * a named import of `argon2` is a SyntaxError at load on a Node without it. @node-rs/argon2 is loaded only
 * where it is needed, so Node 24 never maps its binary.
 */
import * as crypto from 'node:crypto'
import { createRequire } from 'node:module'
import type * as NodeRsArgon2 from '@node-rs/argon2'

export interface Argon2idCost {
  /** Memory in KiB. */
  readonly memory: number
  readonly passes: number
  readonly parallelism: number
}

export interface Argon2idKdf {
  /** Which implementation computes it (the `gatehouse started` log line names it). */
  readonly name: 'node:crypto' | '@node-rs/argon2'
  /** The tag, computed on libuv's thread pool: the event loop keeps serving meanwhile. */
  derive(password: string, salt: Buffer, cost: Argon2idCost, tagBytes: number): Promise<Buffer>
  /** The tag, computed on the calling thread (loading a file, the command line). */
  deriveSync(password: string, salt: Buffer, cost: Argon2idCost, tagBytes: number): Buffer
}

/** Both implementations take the password as UTF-8 text, so a password hashes alike in either. */
function nodeCryptoParams(password: string, salt: Buffer, cost: Argon2idCost, tagBytes: number) {
  return {
    message: password,
    nonce: salt,
    memory: cost.memory,
    passes: cost.passes,
    parallelism: cost.parallelism,
    tagLength: tagBytes,
  }
}

/** node:crypto's argon2 (OpenSSL's), or null on a Node older than 24.7. */
export function nodeCryptoArgon2id(): Argon2idKdf | null {
  const { argon2, argon2Sync } = crypto as Partial<Pick<typeof crypto, 'argon2' | 'argon2Sync'>>
  if (typeof argon2 !== 'function' || typeof argon2Sync !== 'function') return null
  return {
    name: 'node:crypto',
    derive: (password, salt, cost, tagBytes) =>
      new Promise((resolve, reject) =>
        argon2('argon2id', nodeCryptoParams(password, salt, cost, tagBytes), (err, tag) =>
          err ? reject(err) : resolve(tag),
        ),
      ),
    deriveSync: (password, salt, cost, tagBytes) =>
      argon2Sync('argon2id', nodeCryptoParams(password, salt, cost, tagBytes)),
  }
}

// The package's `const enum`s (Algorithm.Argon2id = 2, Version.V0x13 = 1) cannot be read under
// isolatedModules; these are their values, typed as those members so a change in the package shows here.
const ARGON2ID = 2 as NodeRsArgon2.Algorithm.Argon2id
const V0X13 = 1 as NodeRsArgon2.Version.V0x13

/** @node-rs/argon2 (the Rust `argon2` crate); throws, saying what to do, where it has no binary. */
export function nodeRsArgon2id(): Argon2idKdf {
  let rs: typeof NodeRsArgon2
  try {
    rs = createRequire(import.meta.url)('@node-rs/argon2') as typeof NodeRsArgon2
  } catch (err) {
    throw new Error(
      `Gatehouse hashes passwords with argon2id: Node.js ${process.version} has no node:crypto argon2 (24.7 ` +
        `and newer have it), and @node-rs/argon2 could not be loaded on ${process.platform}-${process.arch} ` +
        `(${(err as Error).message.split('\n')[0]}). Use Node.js 24.7 or newer.`,
      { cause: err },
    )
  }
  const options = (salt: Buffer, cost: Argon2idCost, tagBytes: number): NodeRsArgon2.Options => ({
    algorithm: ARGON2ID,
    version: V0X13,
    memoryCost: cost.memory,
    timeCost: cost.passes,
    parallelism: cost.parallelism,
    outputLen: tagBytes,
    salt,
  })
  return {
    name: '@node-rs/argon2',
    derive: (password, salt, cost, tagBytes) => rs.hashRaw(password, options(salt, cost, tagBytes)),
    deriveSync: (password, salt, cost, tagBytes) => rs.hashRawSync(password, options(salt, cost, tagBytes)),
  }
}

/** The implementation this process uses: node:crypto's where this Node has it, else @node-rs/argon2. */
export const argon2idKdf: Argon2idKdf = nodeCryptoArgon2id() ?? nodeRsArgon2id()
