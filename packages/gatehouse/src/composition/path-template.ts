/**
 * A part's request target with `{capture}` placeholders, split once at load into literals and names, so
 * a request only concatenates. Captures are percent-encoded as a URI component (RFC 3986 §2.1): a
 * value can never add a segment, a query parameter or a fragment (`x&admin=1` arrives as
 * `x%26admin%3D1`). Escapes already in the request path are kept as they are (the router saw the path
 * normalised, with escapes upper-cased), so nothing is encoded twice.
 */
import { PLACEHOLDER } from '../config/schema/composition.ts'

export interface PathTemplate {
  /** One more literal than names: literal[0] name[0] literal[1] … */
  readonly literals: readonly string[]
  readonly names: readonly string[]
}

export function compileTemplate(target: string): PathTemplate {
  const literals: string[] = []
  const names: string[] = []
  let last = 0
  for (const m of target.matchAll(PLACEHOLDER)) {
    literals.push(target.slice(last, m.index))
    names.push(m[1]!)
    last = m.index + m[0].length
  }
  literals.push(target.slice(last))
  return { literals, names }
}

export function renderTemplate(
  template: PathTemplate,
  captures: Readonly<Record<string, string>> | null,
): string {
  const { literals, names } = template
  let out = literals[0]!
  for (let i = 0; i < names.length; i++) out += encodeCapture(captures?.[names[i]!] ?? '') + literals[i + 1]!
  return out
}

const UNRESERVED = /^[A-Za-z0-9._~-]*$/

/** Unreserved characters and existing `%XX` escapes stay; every other character is UTF-8 percent-encoded. */
export function encodeCapture(value: string): string {
  if (UNRESERVED.test(value)) return value
  return value.replace(/%[0-9A-Fa-f]{2}|[^A-Za-z0-9._~-]/gu, (c) => {
    if (c.length === 3 && c.charCodeAt(0) === 0x25) return c.toUpperCase()
    let encoded = ''
    for (const byte of Buffer.from(c, 'utf8'))
      encoded += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`
    return encoded
  })
}
