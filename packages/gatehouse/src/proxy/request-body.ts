/**
 * Whether a request has a body (RFC 9112 §6.3): chunked, or a Content-Length above zero. Node's parser has
 * already refused every framing it could not read, so the two headers are enough.
 */
export function requestHasBody(headers: Readonly<Record<string, string | string[] | undefined>>): boolean {
  if (headers['transfer-encoding'] !== undefined) return true
  const length = headers['content-length']
  return length !== undefined && length !== '0'
}
