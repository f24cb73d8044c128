/**
 * The admin console's static files at `/console/` (built by packages/console at install time). They pass
 * the Host and cross-site guards like every admin request but not the token check: the page must load to
 * ask for the token, and it holds no secret; every call it makes is an admin request with the token.
 *
 * Only the files the build's manifest lists are served, by exact name, from one flat folder: a request
 * target is never mapped onto the file system, so no spelling of `..` reaches anything else. Every answer
 * carries a strict Content-Security-Policy (no inline script or style, nothing from another origin, no
 * framing) and nosniff; hashed assets are immutable, index.html is revalidated. Files that were never
 * built get a 503 page saying how to build them, not a crash.
 */
import { existsSync } from 'node:fs'
import { readFile, stat } from 'node:fs/promises'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { GatehouseError } from '../errors/errors.ts'
import { sendError } from './http.ts'

export const CONSOLE_PATH = '/console'

export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ')

const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': CONSOLE_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
}

const TYPES: Readonly<Record<string, string>> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  txt: 'text/plain; charset=utf-8',
  json: 'application/json; charset=utf-8',
  svg: 'image/svg+xml',
  png: 'image/png',
  ico: 'image/x-icon',
  woff2: 'font/woff2',
}

const BUILD_HINT =
  'run `npm install` (which builds them) or `npm run build:console` in the Gatehouse repository, then reload this page'

/**
 * Where the built files are: the copy the published package carries (dist/console/, put there by
 * scripts/build.ts, as @gatehouse/console is a workspace package that never reaches the registry), else
 * @gatehouse/console's dist/ in the repository; null when neither is there.
 */
export function defaultConsoleDir(): string | null {
  const packaged = new URL('../console/', import.meta.url)
  if (existsSync(new URL('manifest.json', packaged))) return fileURLToPath(packaged)
  try {
    return fileURLToPath(new URL('./dist/', import.meta.resolve('@gatehouse/console/package.json')))
  } catch {
    return null
  }
}

interface Built {
  readonly mtimeMs: number
  /** The build's input hash: index.html's ETag. */
  readonly input: string
  readonly files: ReadonlySet<string>
  readonly cache: Map<string, Buffer>
}

/** The built files of one folder, re-read when a new build replaces its manifest. */
export class ConsoleFiles {
  readonly #dir: string | null
  #built: Built | null = null

  constructor(dir: string | null) {
    this.#dir = dir
  }

  /** Whether a build is there now (for a warning at start). */
  async built(): Promise<boolean> {
    return (await this.#load()) !== null
  }

  /** The file named `name`, 'missing' when the build has no such file, or 'not-built'. */
  async get(name: string): Promise<{ body: Buffer; etag: string } | 'missing' | 'not-built'> {
    const built = await this.#load()
    if (built === null) return 'not-built'
    if (!built.files.has(name)) return 'missing'
    let body = built.cache.get(name)
    if (body === undefined) {
      try {
        body = await readFile(join(this.#dir!, name))
      } catch {
        return 'not-built'
      }
      built.cache.set(name, body)
    }
    return { body, etag: `"${built.input.slice(0, 32)}"` }
  }

  async #load(): Promise<Built | null> {
    if (this.#dir === null) return null
    const manifest = join(this.#dir, 'manifest.json')
    try {
      const { mtimeMs } = await stat(manifest)
      if (this.#built?.mtimeMs === mtimeMs) return this.#built
      const parsed = JSON.parse(await readFile(manifest, 'utf8')) as { input?: unknown; files?: unknown }
      if (typeof parsed.input !== 'string' || !Array.isArray(parsed.files)) return null
      const files = new Set(parsed.files.filter((f): f is string => typeof f === 'string'))
      this.#built = { mtimeMs, input: parsed.input, files, cache: new Map() }
      return this.#built
    } catch {
      this.#built = null
      return null
    }
  }
}

/** The console path of a request target (`/console` or under `/console/`, after dot segments), else null. */
export function consolePath(target: string | undefined): string | null {
  if (target === undefined || !target.startsWith('/')) return null
  let pathname: string
  try {
    // The admin router's reading of the target (server.ts): `/console/../status` is `/status`, and is
    // not the console's, so it meets the token check.
    pathname = new URL(`http://admin.invalid${target}`).pathname
  } catch {
    return null
  }
  return pathname === CONSOLE_PATH || pathname.startsWith(`${CONSOLE_PATH}/`) ? pathname : null
}

export async function serveConsole(
  files: ConsoleFiles,
  req: IncomingMessage,
  res: ServerResponse,
  pathname: string,
): Promise<void> {
  const method = req.method ?? 'GET'
  if (method !== 'GET' && method !== 'HEAD')
    return sendError(
      res,
      new GatehouseError(
        'GH_ERR_ADMIN_METHOD_NOT_ALLOWED',
        `${method} is not supported on the console's files`,
      ),
      {},
      { ...SECURITY_HEADERS, allow: 'GET, HEAD' },
    )
  if (pathname === CONSOLE_PATH) {
    res.writeHead(301, { ...SECURITY_HEADERS, location: `${CONSOLE_PATH}/`, 'content-length': '0' })
    res.end()
    return
  }
  const name = pathname.slice(CONSOLE_PATH.length + 1) || 'index.html'
  const file = await files.get(name)
  if (file === 'not-built') return notBuilt(req, res)
  if (file === 'missing')
    return sendError(
      res,
      new GatehouseError('GH_ERR_ADMIN_NOT_FOUND', 'no such file in the admin console'),
      {},
      SECURITY_HEADERS,
    )
  const index = name === 'index.html'
  const headers: Record<string, string> = {
    ...SECURITY_HEADERS,
    'content-type': TYPES[name.slice(name.lastIndexOf('.') + 1)] ?? 'application/octet-stream',
    // Asset names carry their content's hash: a new build has new names, and index.html names them.
    'cache-control': index ? 'no-cache' : 'public, max-age=31536000, immutable',
  }
  if (index) {
    headers.etag = file.etag
    if (req.headers['if-none-match'] === file.etag) {
      res.writeHead(304, headers)
      res.end()
      return
    }
  }
  headers['content-length'] = String(file.body.length)
  res.writeHead(200, headers)
  res.end(method === 'HEAD' ? undefined : file.body)
}

/** 503: a page for a browser, the admin envelope for a program. */
function notBuilt(req: IncomingMessage, res: ServerResponse): void {
  const err = new GatehouseError(
    'GH_ERR_ADMIN_CONSOLE_NOT_BUILT',
    `the admin console's files are not built: ${BUILD_HINT}`,
  )
  if (!(req.headers.accept ?? '').includes('text/html')) {
    sendError(res, err, {}, SECURITY_HEADERS)
    return
  }
  const page = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Gatehouse console: not built</title></head>
<body>
<main>
<h1>The Gatehouse console is not built</h1>
<p>This gateway serves the admin console from files built when Gatehouse is installed, and they are missing.</p>
<p>In the Gatehouse repository, run <code>npm install</code> (which builds them) or <code>npm run build:console</code>, then reload this page. The gateway itself and its admin API work as before.</p>
</main>
</body>
</html>
`
  res.writeHead(503, {
    ...SECURITY_HEADERS,
    'content-type': 'text/html; charset=utf-8',
    'content-length': String(Buffer.byteLength(page)),
    'cache-control': 'no-store',
    'x-gatehouse-error': err.code,
  })
  res.end(req.method === 'HEAD' ? undefined : page)
}
