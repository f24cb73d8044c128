/**
 * The shell of every page the identity provider renders, and the headers they go out with. No script
 * and no external asset: the one stylesheet is inline and allowed by its hash, so the
 * Content-Security-Policy needs no 'unsafe-inline'; framing is refused (clickjacking on a login or
 * consent page); nothing is cached or sent on as a Referer (the URLs carry interaction ids).
 *
 * There is deliberately no `form-action`: browsers apply it to the redirects after a form is submitted,
 * and the last redirect of a login goes to the client's own origin.
 */
import { createHash } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { PASSKEY_SCRIPT, PASSKEY_SCRIPT_ETAG } from '../assets/passkey-script.ts'
import { html, markupOf, type SafeHtml, trusted } from './html.ts'

const CSS = `*{box-sizing:border-box}
body{margin:0;padding:0 1rem;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1a1a1a;background:#f4f5f7}
main{max-width:26rem;margin:3rem auto;padding:2rem;background:#fff;border:1px solid #d0d4da;border-radius:8px}
h1{font-size:1.5rem;margin:0 0 1rem}
p,ul{margin:0 0 1rem}
label{display:block;font-weight:600;margin:0 0 .25rem}
input[type=text],input[type=password]{display:block;width:100%;padding:.6rem;margin:0 0 1rem;font:inherit;border:1px solid #6b7280;border-radius:4px}
button{font:inherit;padding:.6rem 1.2rem;border-radius:4px;border:1px solid #1d4ed8;background:#1d4ed8;color:#fff;cursor:pointer}
button.secondary{background:#fff;color:#1d4ed8}
.actions{display:flex;gap:.75rem;flex-wrap:wrap;margin-top:.5rem}
:focus-visible{outline:3px solid #f59e0b;outline-offset:2px}
.error{padding:.75rem;margin:0 0 1rem;border:1px solid #b91c1c;border-radius:4px;background:#fef2f2;color:#7f1d1d}
.muted{color:#4b5563;font-size:.9rem}
dt{font-weight:600}dd{margin:0 0 .5rem 1rem}
h2{font-size:1.1rem;margin:1.5rem 0 .75rem}
section+section{border-top:1px solid #d0d4da;margin-top:1.5rem}
.qr-figure{margin:0 0 1rem;text-align:center}.qr{width:12rem;height:12rem}figcaption{font-size:.9rem;color:#4b5563}
code{font-family:ui-monospace,Menlo,Consolas,monospace}.key{font-size:1.1rem;word-spacing:.3rem}
.codes{columns:2;list-style:none;padding:0}.codes li{margin:0 0 .25rem}
a{color:#1d4ed8}`

const CSS_HASH = createHash('sha256').update(CSS).digest('base64')
const STYLE = trusted(CSS)

export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy': `default-src 'none'; style-src 'sha256-${CSS_HASH}'; img-src 'none'; base-uri 'none'; frame-ancestors 'none'`,
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
}

/**
 * A page that offers passkeys loads the one script of the provider, from its own origin (never inline,
 * never another origin): its CSP adds `script-src 'self'` and nothing else.
 */
export interface PageOptions {
  /** The script's URL (`<issuer path>/assets/passkey.js`), or none. */
  readonly script?: string | undefined
}

const headersFor = (options: PageOptions): Record<string, string> =>
  options.script === undefined
    ? PAGE_HEADERS
    : {
        ...PAGE_HEADERS,
        'content-security-policy': PAGE_HEADERS['content-security-policy']!.replace(
          "default-src 'none';",
          "default-src 'none'; script-src 'self';",
        ),
      }

export function renderPage(title: string, body: SafeHtml, options: PageOptions = {}): string {
  return markupOf(html`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${title}</title>
<style>${STYLE}</style>
${options.script !== undefined && html`<script src="${options.script}" defer></script>`}
</head>
<body>
<main>
${body}
</main>
</body>
</html>`)
}

export function sendPage(
  res: ServerResponse,
  status: number,
  title: string,
  body: SafeHtml,
  options: PageOptions = {},
): void {
  const text = renderPage(title, body, options)
  res.writeHead(status, { ...headersFor(options), 'content-length': Buffer.byteLength(text) })
  res.end(text)
}

/** `GET <issuer>/assets/passkey.js`: the passkey script, cacheable (it names no user or interaction). */
export function sendPasskeyScript(req: IncomingMessage, res: ServerResponse): void {
  const method = req.method ?? 'GET'
  if (method !== 'GET' && method !== 'HEAD') {
    res
      .writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' })
      .end('Method Not Allowed\n')
    return
  }
  const headers = {
    'content-type': 'text/javascript; charset=utf-8',
    'x-content-type-options': 'nosniff',
    'cache-control': 'public, max-age=3600',
    etag: PASSKEY_SCRIPT_ETAG,
  }
  if (req.headers['if-none-match'] === PASSKEY_SCRIPT_ETAG) {
    res.writeHead(304, headers).end()
    return
  }
  res.writeHead(200, { ...headers, 'content-length': Buffer.byteLength(PASSKEY_SCRIPT) })
  res.end(method === 'HEAD' ? undefined : PASSKEY_SCRIPT)
}
