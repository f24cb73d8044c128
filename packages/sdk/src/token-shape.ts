/**
 * What is refused before jose sees the token, because jose does not check it: a missing token, one
 * longer than the cap (RFC 8725 §2.6 leaves sizes to the application; a 1 MB token otherwise costs a
 * full decode), anything but three base64url segments, and JSON members named twice in the header or
 * the payload (jose keeps the last, another reader may keep the first: RFC 8725 §2.6, RFC 7515 §5.2).
 */
import { base64url } from 'jose'
import { VerificationError } from './errors.ts'
import { hasDuplicateTopLevelMember } from './json-duplicates.ts'

/** Three base64url segments; the signature may be empty, so `alg: none` is refused as such by jose. */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/

const utf8 = new TextDecoder('utf-8', { fatal: true })

/** Throws the VerificationError for a token that must not reach jose; returns it typed otherwise. */
export function checkTokenShape(token: unknown, maxLength: number): string {
  if (token === undefined || token === null || token === '')
    throw new VerificationError('GH_SDK_TOKEN_MISSING')
  if (typeof token !== 'string') throw new VerificationError('GH_SDK_TOKEN_MALFORMED')
  if (token.length > maxLength) throw new VerificationError('GH_SDK_TOKEN_TOO_LONG')
  if (!COMPACT_JWS.test(token)) throw new VerificationError('GH_SDK_TOKEN_MALFORMED')
  const [header, payload] = token.split('.', 2) as [string, string]
  if (namesAMemberTwice(header) || namesAMemberTwice(payload))
    throw new VerificationError('GH_SDK_TOKEN_MALFORMED')
  return token
}

/** Segments that do not decode to JSON are left for jose to refuse, with its own reason. */
function namesAMemberTwice(segment: string): boolean {
  let text: string
  try {
    text = utf8.decode(base64url.decode(segment))
    JSON.parse(text)
  } catch {
    return false
  }
  return hasDuplicateTopLevelMember(text)
}
