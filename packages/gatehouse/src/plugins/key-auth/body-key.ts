/**
 * The API key in a request body (`key_in_body`), as Kong reads it with `kong.request.get_body`: a form
 * (`application/x-www-form-urlencoded`) or JSON object field named after a key name. Only bodies that
 * announce one of those types are read, up to proxy.max_buffered_body_size (a larger one is a 413, never
 * a silent "no key"); every other body keeps streaming to the upstream unread. `withoutBodyKey` is
 * hide_credentials for bodies.
 */
import type { RequestState } from '../../pipeline/request-state.ts'
import type { FoundKey, KeyName } from './find-key.ts'

type BodyKind = 'form' | 'json'

/** Whether the request has a body worth reading for a key, and of which kind. */
export function bodyKind(state: RequestState): BodyKind | null {
  const headers = state.req.headers
  const type = (headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase()
  const kind =
    type === 'application/x-www-form-urlencoded'
      ? 'form'
      : type === 'application/json' || type.endsWith('+json')
        ? 'json'
        : null
  if (kind === null) return null
  const length = headers['content-length']
  if (length === undefined) return headers['transfer-encoding'] !== undefined ? kind : null
  return length !== '0' ? kind : null
}

/** The key a parsed body holds under the first name present (Kong's order), or none. */
export function findBodyKey(body: Buffer, kind: BodyKind, names: readonly KeyName[]): FoundKey {
  if (kind === 'form') {
    const params = new URLSearchParams(body.toString('utf8'))
    for (const { query: name } of names) {
      const values = params.getAll(name)
      if (values.length > 1) return { kind: 'duplicate' }
      if (values.length === 1) return { kind: 'key', key: values[0]! }
    }
    return { kind: 'none' }
  }
  const object = parseObject(body)
  if (object === null) return { kind: 'none' }
  for (const { query: name } of names) {
    const value = object[name]
    if (typeof value === 'string') return { kind: 'key', key: value }
  }
  return { kind: 'none' }
}

/** The body without any field named after a key name, re-encoded only when something was removed. */
export function withoutBodyKey(body: Buffer, kind: BodyKind, names: readonly KeyName[]): Buffer {
  if (kind === 'form') {
    const params = new URLSearchParams(body.toString('utf8'))
    let removed = false
    for (const { query: name } of names)
      if (params.has(name)) {
        params.delete(name)
        removed = true
      }
    return removed ? Buffer.from(params.toString()) : body
  }
  const object = parseObject(body)
  if (object === null || !names.some((n) => Object.hasOwn(object, n.query))) return body
  for (const { query: name } of names) delete object[name]
  return Buffer.from(JSON.stringify(object))
}

function parseObject(body: Buffer): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(body.toString('utf8'))
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null
  } catch {
    return null
  }
}
