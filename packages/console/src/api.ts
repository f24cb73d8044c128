/**
 * Calls to the admin API from the console (same origin: the admin listener serves both). The admin token,
 * when one is needed, lives in sessionStorage for this tab only and travels in the Authorization header:
 * never in a cookie, which a request from another site could carry along.
 */

const TOKEN_KEY = 'gatehouse.admin-token'

export function storedToken(): string | null {
  try {
    return sessionStorage.getItem(TOKEN_KEY)
  } catch {
    return null
  }
}

export function storeToken(token: string): void {
  sessionStorage.setItem(TOKEN_KEY, token)
}

export function forgetToken(): void {
  try {
    sessionStorage.removeItem(TOKEN_KEY)
  } catch {
    // Storage unavailable: there is nothing to forget.
  }
}

/** An answer of the admin API other than 2xx, with its stable code and message (the error envelope). */
export class AdminError extends Error {
  readonly status: number
  readonly code: string

  constructor(status: number, code: string, message: string) {
    super(message)
    this.name = 'AdminError'
    this.status = status
    this.code = code
  }
}

export function authHeaders(token: string | null): Record<string, string> {
  return token === null ? {} : { authorization: `Bearer ${token}` }
}

/** GET `path` of the admin API as JSON; an error answer throws AdminError. */
export async function adminGet<T>(path: string, token: string | null, signal?: AbortSignal): Promise<T> {
  const res = await fetch(path, {
    headers: { accept: 'application/json', ...authHeaders(token) },
    cache: 'no-store',
    credentials: 'omit',
    ...(signal !== undefined ? { signal } : {}),
  })
  if (res.ok) return (await res.json()) as T
  throw await errorOf(res)
}

/** The AdminError of a non-2xx answer; a body that is not the envelope still gives its status. */
export async function errorOf(res: Response): Promise<AdminError> {
  let code = ''
  let message = `${res.status} ${res.statusText}`
  try {
    const body = (await res.json()) as { code?: unknown; message?: unknown }
    if (typeof body.code === 'string') code = body.code
    if (typeof body.message === 'string') message = body.message
  } catch {
    // Not JSON: the status line says enough.
  }
  return new AdminError(res.status, code, message)
}

/** What GET / says about the node. */
export interface NodeInfo {
  readonly version: string
  readonly node_id: string
  readonly hostname: string
  readonly configuration: {
    readonly database: string
    readonly proxy_listen: string
    readonly admin_listen: string
  }
}

export interface WorkerStats {
  readonly slot: number
  readonly pid: number
  readonly connections_active: number
  readonly total_requests: number
  readonly rss_bytes: number
  readonly heap_used_bytes: number
}

/** What GET /status says. */
export interface NodeStatus {
  readonly database: { readonly reachable: boolean }
  readonly redis?: { readonly reachable: boolean }
  readonly configuration_hash: string
  readonly configuration_loaded_at?: string
  readonly server: {
    readonly connections_active: number
    readonly total_requests: number
    readonly uptime_seconds: number
  }
  readonly memory: { readonly rss_bytes: number; readonly heap_used_bytes: number }
  readonly workers?: readonly WorkerStats[]
}

/** What GET /status/ready says (200 or 503, the same shape). */
export interface NodeReadiness {
  readonly ready: boolean
  readonly draining: boolean
  readonly message: string
  readonly checks: Readonly<Record<string, 'ok' | 'unavailable'>>
}

export async function readiness(token: string | null, signal?: AbortSignal): Promise<NodeReadiness> {
  const res = await fetch('/status/ready', {
    headers: { accept: 'application/json', ...authHeaders(token) },
    cache: 'no-store',
    credentials: 'omit',
    ...(signal !== undefined ? { signal } : {}),
  })
  if (res.status !== 200 && res.status !== 503) throw await errorOf(res)
  const body = (await res.json()) as { message?: string; code?: string; checks?: NodeReadiness['checks'] }
  return {
    ready: res.status === 200,
    draining: body.code === 'GH_ERR_SERVER_SHUTTING_DOWN',
    message: body.message ?? '',
    checks: body.checks ?? {},
  }
}
