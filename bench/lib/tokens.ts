/**
 * Token material for the JWT systems of the benchmark, made fresh for every run with jose in the run's
 * scratch directory (nothing is kept between runs, nothing comes from outside the repository):
 *
 * - keys: an HS256 secret (32 random bytes as base64url text: 43 bytes, used as the raw HMAC key by every
 *   system, so it can sit in a HAProxy or Gatehouse config as it is), an RS256 (2048-bit) and an ES256
 *   (P-256) key pair, the public halves as SPKI PEM files;
 * - per algorithm, a pool of `poolSize` distinct valid JWTs (`sub` user-N and a random `jti`; `iss` = the
 *   issuer, which is also the key of Gatehouse's jwt credential; `aud`; `iat` = now; `exp` = now + ttl),
 *   one per line in `<ALG>.txt`, which wrk-tokens.lua sends in rotation;
 * - per algorithm, the bad tokens of the pre-run check: the same claims signed with another key of the same
 *   kind (`badsig`), and an expired token (`expired`, exp two minutes ago).
 *
 * `refresh()` signs new pools with the same keys, so a run longer than the tokens' lifetime never sends
 * expired tokens (the systems keep their keys; only the token files change between wrk runs).
 */
import { randomBytes, randomUUID } from 'node:crypto'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { type CryptoKey, exportPKCS8, exportSPKI, generateKeyPair, SignJWT } from 'jose'

export const ALGS = ['HS256', 'RS256', 'ES256'] as const
export type Alg = (typeof ALGS)[number]

/** The issuer (`iss`, also the credential key) and audience (`aud`) of every token. */
export const ISSUER = 'https://issuer.bench.local'
export const AUDIENCE = 'bench-api'

export interface CheckTokens {
  good: string
  badsig: string
  expired: string
}

export interface Tokens {
  dir: string
  /** HS256 secret text; its UTF-8 bytes are the HMAC key. */
  secret: string
  secretFile: string
  /** SPKI PEM of the RS256 / ES256 public key, and the file holding it. */
  publicKeyPem: Record<'RS256' | 'ES256', string>
  publicKeyFile: Record<'RS256' | 'ES256', string>
  /** One valid JWT per line (written for the algorithms makeTokens was asked for). */
  poolFile: Record<Alg, string>
  /** Check tokens of the same algorithms. */
  checks: Record<Alg, CheckTokens>
  /** When the pools were last signed (ms since the epoch). */
  signedAt: number
  ttlSeconds: number
  poolSize: number
  /** Signs new pools (and check tokens) with the same keys. */
  refresh(): Promise<void>
}

/** Tokens signed at once: jose signs through WebCrypto, off the main thread, so a batch uses every core. */
const SIGN_BATCH = 64

/** Keys for every algorithm; pools and check tokens only for `algs` (the soak needs RS256 alone). */
export async function makeTokens(
  dir: string,
  poolSize: number,
  ttlSeconds: number,
  algs: readonly Alg[] = ALGS,
): Promise<Tokens> {
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const secret = randomBytes(32).toString('base64url')
  const secretFile = join(dir, 'hs256.secret')
  writeFileSync(secretFile, secret, { mode: 0o600 }) // no newline: Express Gateway reads the file as the key
  const hmacKey = new TextEncoder().encode(secret)

  const privateKeys = {} as Record<'RS256' | 'ES256', CryptoKey>
  const publicKeyPem = {} as Record<'RS256' | 'ES256', string>
  const publicKeyFile = {} as Record<'RS256' | 'ES256', string>
  for (const alg of ['RS256', 'ES256'] as const) {
    const pair = await generateKeyPair(alg, { modulusLength: 2048, extractable: true })
    privateKeys[alg] = pair.privateKey
    publicKeyPem[alg] = await exportSPKI(pair.publicKey)
    publicKeyFile[alg] = join(dir, `${alg.toLowerCase()}.pub.pem`)
    writeFileSync(publicKeyFile[alg], publicKeyPem[alg])
    writeFileSync(join(dir, `${alg.toLowerCase()}.key.pem`), await exportPKCS8(pair.privateKey), {
      mode: 0o600,
    })
  }
  const signingKey = (alg: Alg) => (alg === 'HS256' ? hmacKey : privateKeys[alg])
  // Other keys of the same kinds, for the bad-signature tokens.
  const otherKey: Record<Alg, Uint8Array | CryptoKey> = {
    HS256: new TextEncoder().encode(randomBytes(32).toString('base64url')),
    RS256: (await generateKeyPair('RS256', { modulusLength: 2048 })).privateKey,
    ES256: (await generateKeyPair('ES256')).privateKey,
  }

  const poolFile = Object.fromEntries(ALGS.map((a) => [a, join(dir, `${a}.txt`)])) as Record<Alg, string>
  const tokens: Tokens = {
    dir,
    secret,
    secretFile,
    publicKeyPem,
    publicKeyFile,
    poolFile,
    checks: {} as Record<Alg, CheckTokens>,
    signedAt: 0,
    ttlSeconds,
    poolSize,
    async refresh() {
      const now = Math.floor(Date.now() / 1000)
      const sign = (alg: Alg, key: Uint8Array | CryptoKey, sub: string, exp = now + ttlSeconds) =>
        new SignJWT({})
          .setProtectedHeader({ alg, typ: 'JWT' })
          .setSubject(sub)
          .setJti(randomUUID())
          .setIssuer(ISSUER)
          .setAudience(AUDIENCE)
          .setIssuedAt(exp - ttlSeconds)
          .setExpirationTime(exp)
          .sign(key)
      for (const alg of algs) {
        const pool: string[] = []
        for (let i = 1; i <= poolSize; i += SIGN_BATCH) {
          const batch = Array.from({ length: Math.min(SIGN_BATCH, poolSize - i + 1) }, (_, j) =>
            sign(alg, signingKey(alg), `user-${i + j}`),
          )
          pool.push(...(await Promise.all(batch)))
        }
        if (new Set(pool).size !== poolSize) throw new Error(`${alg} token pool has duplicates`)
        writeFileSync(poolFile[alg], `${pool.join('\n')}\n`)
        tokens.checks[alg] = {
          good: pool[0]!,
          badsig: await sign(alg, otherKey[alg], 'user-check'),
          expired: await sign(alg, signingKey(alg), 'user-check', now - 120),
        }
      }
      tokens.signedAt = Date.now()
    },
  }
  await tokens.refresh()
  return tokens
}
