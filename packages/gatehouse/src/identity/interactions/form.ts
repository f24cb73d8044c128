/** Reads a submitted form (application/x-www-form-urlencoded), bounded: the pages post a few fields. */
import type { IncomingMessage } from 'node:http'

export const MAX_FORM_BYTES = 16 * 1024

export class FormError extends Error {
  override name = 'FormError'
  readonly status: number
  constructor(status: number, message: string) {
    super(message)
    this.status = status
  }
}

export async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase()
  if (type !== 'application/x-www-form-urlencoded') throw new FormError(415, 'expected a submitted form')
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > MAX_FORM_BYTES) throw new FormError(413, 'the form is too large')
    chunks.push(chunk)
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'))
}
