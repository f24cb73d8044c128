/**
 * Every jwt_secrets credential by its `key`, with its consumer and its key imported once, built once per
 * configuration and per `secret_is_base64` value (plugin memo), so a request costs one map lookup and
 * no key parsing (Kong parses the PEM on every verification).
 */
import type { webcrypto } from 'node:crypto'
import type { VerifyOptions } from 'jose'
import type { ConsumerEntity, CredentialEntity } from '../../config/model.ts'
import type { Logger } from '../../observability/logger.ts'
import type { CredentialRef } from '../../pipeline/request-state.ts'
import { decodeBase64Secret, importHmacKey, importPublicKey, isHmac, MIN_HMAC_SECRET_BYTES } from './keys.ts'
import type { JwtAlgorithm } from './schema.ts'

export interface JwtCredential {
  readonly consumer: ConsumerEntity
  /** `identifier` is the credential's key: Kong's X-Credential-Identifier for jwt. */
  readonly ref: CredentialRef
  readonly algorithm: JwtAlgorithm
  /** Null when the credential cannot verify anything here (Kong's "Invalid key/secret"). */
  readonly key: webcrypto.CryptoKey | null
  /** jose's verify options: the credential's algorithm is the only one allowed. */
  readonly verifyOptions: Readonly<VerifyOptions>
}

export type KeyIndex = ReadonlyMap<string, JwtCredential>

export function buildKeyIndex(
  credentials: readonly CredentialEntity[],
  consumers: ReadonlyMap<string, ConsumerEntity>,
  secretIsBase64: boolean,
  logger: Logger,
): KeyIndex {
  const index = new Map<string, JwtCredential>()
  for (const credential of credentials) {
    const consumer = consumers.get(credential.consumer.id)
    if (!consumer) continue // the loader rejects dangling references; nothing to identify anyway
    const algorithm = credential.algorithm as JwtAlgorithm
    const key = credential.key as string
    let cryptoKey: webcrypto.CryptoKey | null = null
    try {
      cryptoKey = isHmac(algorithm)
        ? hmacKey(credential.secret as string, algorithm, secretIsBase64)
        : importPublicKey(credential.rsa_public_key as string, algorithm)
    } catch {
      cryptoKey = null
    }
    if (cryptoKey === null) {
      const why =
        isHmac(algorithm) && secretIsBase64
          ? `its secret is not base64 of at least ${MIN_HMAC_SECRET_BYTES} bytes (secret_is_base64 is on)`
          : 'its key could not be imported'
      logger.warn(
        { credential: credential.id, consumer: consumer.username ?? consumer.id },
        `jwt_secrets credential cannot be used: ${why}; tokens naming it are refused with "Invalid key/secret"`,
      )
    }
    index.set(key, {
      consumer,
      ref: { id: credential.id, identifier: key },
      algorithm,
      key: cryptoKey,
      verifyOptions: { algorithms: [algorithm] },
    })
  }
  return index
}

function hmacKey(
  secret: string,
  algorithm: JwtAlgorithm,
  secretIsBase64: boolean,
): webcrypto.CryptoKey | null {
  const bytes = secretIsBase64 ? decodeBase64Secret(secret) : Buffer.from(secret, 'utf8')
  return bytes === null ? null : importHmacKey(bytes, algorithm)
}
