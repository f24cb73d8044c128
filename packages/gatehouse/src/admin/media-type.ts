/**
 * Admin writes take JSON (and `POST /config` YAML too), nothing else. The types refused are exactly
 * those a web page can make a browser send to another site without a CORS preflight
 * (application/x-www-form-urlencoded, multipart/form-data, text/plain), and a body without any type;
 * refusing them closes the admin API to cross-site forms even where the Origin check cannot see (an old
 * browser, a proxy that strips headers). Checked before the body is read.
 */
import type { IncomingMessage } from 'node:http'
import { GatehouseError } from '../errors/errors.ts'
import { requestHasBody } from '../proxy/request-body.ts'

const WRITES: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

/** application/json and the structured-syntax `+json` types (RFC 6839), such as merge-patch+json. */
const JSON_TYPE = /^application\/(?:[a-z0-9!#$&^_.-]+\+)?json$/

export const YAML_TYPES: ReadonlySet<string> = new Set([
  'application/yaml',
  'application/x-yaml',
  'text/yaml',
  'text/x-yaml',
])

/** The media type, lower case, without parameters (`application/json; charset=utf-8`: `application/json`). */
export function essence(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase()
}

export function isJsonType(type: string): boolean {
  return JSON_TYPE.test(type)
}

/**
 * Null when the request may go on; else the 415 to answer, with the header that lists what is accepted
 * (Accept-Post, W3C LDP; Accept-Patch, RFC 5789).
 */
export function checkMediaType(
  req: IncomingMessage,
  method: string,
  path: string,
): { error: GatehouseError; headers: Record<string, string> } | null {
  if (!WRITES.has(method) || !requestHasBody(req.headers)) return null
  const type = essence(req.headers['content-type'])
  const yaml = method === 'POST' && path === '/config'
  if (isJsonType(type) || (yaml && YAML_TYPES.has(type))) return null
  const accepted = yaml ? ['application/json', ...YAML_TYPES] : ['application/json']
  // The type is the client's text: named only when it is a plain token/token, and never long.
  const shown = /^[a-z0-9!#$&^_.+-]{1,64}\/[a-z0-9!#$&^_.+-]{1,64}$/.test(type) ? `'${type}'` : 'this body'
  const what = yaml ? 'POST /config' : 'an admin write'
  const error = new GatehouseError(
    'GH_ERR_ADMIN_UNSUPPORTED_MEDIA_TYPE',
    type === ''
      ? `the body has no Content-Type: ${what} takes ${accepted.join(', ')}`
      : `${what} takes ${accepted.join(', ')}, not ${shown}: forms, multipart and text/plain are refused (any web page can send them)`,
  )
  const header = method === 'PATCH' ? 'accept-patch' : 'accept-post'
  return { error, headers: method === 'POST' || method === 'PATCH' ? { [header]: accepted.join(', ') } : {} }
}
