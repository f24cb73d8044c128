/**
 * Finds a member name written twice at the top level of a JSON object. JSON.parse keeps the last one,
 * another parser may keep the first, so a token with `{"sub":"alice",…,"sub":"admin"}` or two `alg`s
 * means different things to different readers (RFC 8725 §2.6, RFC 7515 §5.2 lets us reject it).
 * A copy of the gateway's packages/gatehouse/src/plugins/_shared/json-duplicates.ts: the SDK depends on
 * jose only, so it cannot import it; change both together.
 */

const QUOTE = 0x22
const BACKSLASH = 0x5c
const OPEN_OBJECT = 0x7b
const OPEN_ARRAY = 0x5b
const CLOSE_OBJECT = 0x7d
const CLOSE_ARRAY = 0x5d
const COMMA = 0x2c

/**
 * True when the top-level object in `text` names a member twice (false for any other top-level value).
 * Names are compared after unescaping, so `"alg"` and `"\u0061lg"` are the same. `text` must already be
 * valid JSON (JSON.parse accepted it), which lets this scan skip values without checking their grammar.
 */
export function hasDuplicateTopLevelMember(text: string): boolean {
  if (!text.trimStart().startsWith('{')) return false
  const seen = new Set<string>()
  let depth = 0
  let expectName = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === QUOTE) {
      const start = i
      let escaped = false
      for (i++; i < text.length && text.charCodeAt(i) !== QUOTE; i++) {
        if (text.charCodeAt(i) === BACKSLASH) {
          escaped = true
          i++
        }
      }
      if (depth === 1 && expectName) {
        const name = escaped ? (JSON.parse(text.slice(start, i + 1)) as string) : text.slice(start + 1, i)
        if (seen.has(name)) return true
        seen.add(name)
        expectName = false
      }
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      depth++
      if (depth === 1) expectName = true
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) depth--
    else if (c === COMMA && depth === 1) expectName = true
  }
  return false
}
