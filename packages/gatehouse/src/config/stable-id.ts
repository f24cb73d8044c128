/**
 * Deterministic entity ids (UUID v5, RFC 9562 §5.5) for entities a declarative file leaves without one,
 * so that ids stay the same across reloads and nodes, as Kong's DB-less mode does.
 */
import { createHash } from 'node:crypto'

/** Our namespace UUID: 6ba7b811-… is RFC 9562's URL namespace; we hash "gatehouse" under it once. */
const NAMESPACE = uuidV5Bytes(
  Buffer.from('6ba7b8119dad11d180b400c04fd430c8', 'hex'),
  'https://gatehouse.dev/entities',
)

function uuidV5Bytes(namespace: Buffer, name: string): Buffer {
  const hash = createHash('sha1').update(namespace).update(name, 'utf8').digest().subarray(0, 16)
  hash[6] = (hash[6]! & 0x0f) | 0x50
  hash[8] = (hash[8]! & 0x3f) | 0x80
  return hash
}

export function stableId(entityType: string, key: string): string {
  const hex = uuidV5Bytes(NAMESPACE, `${entityType}:${key}`).toString('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}
