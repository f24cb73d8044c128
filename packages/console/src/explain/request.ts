/**
 * The POST /explain body the refusal form describes. The pasted secret goes into the body only: the form
 * keeps it in the page's memory (component state), never in the URL, storage or a cookie.
 */

export type CredentialKind = 'none' | 'bearer' | 'api-key' | 'basic' | 'cookie'

export interface ExplainForm {
  /** A route's id, or '' to let the router match method, host and path. */
  readonly route: string
  readonly method: string
  readonly host: string
  readonly path: string
  readonly kind: CredentialKind
  /** The token, the API key, the Basic password or the Cookie header's value. */
  readonly secret: string
  readonly basicUser: string
  readonly keyWhere: 'header' | 'query'
  readonly keyName: string
}

export interface ExplainBody {
  route?: string
  method?: string
  host?: string
  path?: string
  headers?: Record<string, string>
  query?: Record<string, string>
}

/** Basic credentials as the header carries them: base64 of the UTF-8 `user:password`. */
function basic(user: string, password: string): string {
  const bytes = new TextEncoder().encode(`${user}:${password}`)
  let binary = ''
  for (const b of bytes) binary += String.fromCharCode(b)
  return `Basic ${btoa(binary)}`
}

export function explainBody(form: ExplainForm): ExplainBody {
  const body: ExplainBody = {}
  if (form.route !== '') body.route = form.route
  if (form.method.trim() !== '') body.method = form.method.trim().toUpperCase()
  if (form.host.trim() !== '') body.host = form.host.trim()
  if (form.path.trim() !== '') body.path = form.path.trim()
  const secret = form.secret.trim()
  switch (form.kind) {
    case 'bearer':
      if (secret !== '') body.headers = { Authorization: `Bearer ${secret.replace(/^Bearer\s+/i, '')}` }
      break
    case 'api-key': {
      const name = form.keyName.trim() === '' ? 'apikey' : form.keyName.trim()
      if (secret !== '') body[form.keyWhere === 'header' ? 'headers' : 'query'] = { [name]: secret }
      break
    }
    case 'basic':
      if (form.basicUser !== '' || form.secret !== '')
        body.headers = { Authorization: basic(form.basicUser, form.secret) }
      break
    case 'cookie':
      if (secret !== '') body.headers = { Cookie: secret }
      break
    case 'none':
      break
  }
  return body
}
