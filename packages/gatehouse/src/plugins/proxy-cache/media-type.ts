/**
 * Content types as proxy-cache compares them (Kong 3.x `cacheable_response`): type and subtype match
 * case-insensitively, `*` in a configured entry matches any, and the parameters must be the same set
 * with the same values. So `application/json` does not cover `application/json; charset=utf-8`: list
 * both when the upstream sends either, as with Kong.
 */

export interface MediaType {
  readonly type: string
  readonly subtype: string
  /** Parameter names lower-cased; values unquoted. */
  readonly params: ReadonlyMap<string, string>
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/

/** `type/subtype[; name=value]*` (RFC 9110 §8.3.1), or null when the text is not one. */
export function parseMediaType(text: string): MediaType | null {
  const [essence = '', ...rest] = text.split(';')
  const slash = essence.indexOf('/')
  if (slash < 0) return null
  const type = essence.slice(0, slash).trim().toLowerCase()
  const subtype = essence
    .slice(slash + 1)
    .trim()
    .toLowerCase()
  if (!TOKEN.test(type) || !TOKEN.test(subtype)) return null
  const params = new Map<string, string>()
  for (const part of rest) {
    if (part.trim() === '') continue
    const eq = part.indexOf('=')
    if (eq < 0) return null
    const name = part.slice(0, eq).trim().toLowerCase()
    let value = part.slice(eq + 1).trim()
    if (!TOKEN.test(name)) return null
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1)
    // charset values are case-insensitive (RFC 9110 §8.3.2); others are compared as written.
    params.set(name, name === 'charset' ? value.toLowerCase() : value)
  }
  return { type, subtype, params }
}

/** Whether the response's `actual` type is one the `configured` entry admits. */
export function mediaTypeMatches(configured: MediaType, actual: MediaType): boolean {
  if (configured.type !== '*' && configured.type !== actual.type) return false
  if (configured.subtype !== '*' && configured.subtype !== actual.subtype) return false
  if (configured.params.size !== actual.params.size) return false
  for (const [name, value] of configured.params) if (actual.params.get(name) !== value) return false
  return true
}
