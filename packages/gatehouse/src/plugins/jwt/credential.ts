/**
 * The `jwt_secrets` credential (Kong's jwt daos.lua): `key` names it (unique, generated when omitted),
 * `secret` signs HS* tokens (generated when omitted), `rsa_public_key` verifies every other algorithm.
 * Stricter than Kong where Kong lets weak or broken keys through to request time: a short HS secret, a
 * missing or unparseable public key (ES* included), or one that does not fit the algorithm is a
 * configuration error naming the entry. The admin API shows the entity as Kong does, secret included.
 */
import { randomInt } from 'node:crypto'
import type { CredentialBuildContext, CredentialDefinition } from '../types.ts'
import { isHmac, MIN_HMAC_SECRET_BYTES, publicKeyProblem } from './keys.ts'
import { type JwtAlgorithm, jwtSecretFields } from './schema.ts'

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'

/** Kong's auto value for `key` and `secret`: 32 random letters and digits (about 190 bits). */
function randomAlphanumeric(length = 32): string {
  let out = ''
  for (let i = 0; i < length; i++) out += ALPHANUMERIC[randomInt(ALPHANUMERIC.length)]
  return out
}

function buildJwtSecret(
  fields: Record<string, unknown>,
  ctx: CredentialBuildContext,
): Record<string, unknown> {
  const algorithm = (fields.algorithm as JwtAlgorithm | undefined) ?? 'HS256'
  const key = (fields.key as string | undefined) ?? ctx.generated('key', randomAlphanumeric)
  let secret = (fields.secret as string | null | undefined) ?? null
  const pem = (fields.rsa_public_key as string | null | undefined) ?? null
  if (isHmac(algorithm)) {
    if (secret === null) secret = ctx.generated('secret', randomAlphanumeric)
    else {
      const bytes = Buffer.byteLength(secret, 'utf8')
      if (bytes < MIN_HMAC_SECRET_BYTES)
        ctx.issue(
          'secret',
          `is ${bytes} bytes; ${algorithm} needs a secret of at least ${MIN_HMAC_SECRET_BYTES} bytes, or one token is ` +
            'enough to guess it offline (RFC 7518 §3.2, RFC 8725 §3.5): remove it to have one generated, ' +
            'or set a random one, e.g. the output of `openssl rand -base64 32`',
        )
    }
  } else if (pem === null) {
    ctx.issue(
      'rsa_public_key',
      `is required: ${algorithm} tokens are verified with the consumer's public key (PEM)`,
    )
  } else {
    const problem = publicKeyProblem(pem, algorithm)
    if (problem !== null) ctx.issue('rsa_public_key', problem)
  }
  return { key, secret, algorithm, rsa_public_key: pem }
}

/** `jwt_secrets`: in files nested under a consumer or top-level; `/jwts` and `/consumers/{c}/jwt` in the admin API. */
export const jwtSecrets: CredentialDefinition = {
  name: 'jwt_secrets',
  adminCollection: 'jwts',
  adminNested: 'jwt',
  endpointKey: 'key',
  unique: ['key'],
  fields: jwtSecretFields,
  build: buildJwtSecret,
}
