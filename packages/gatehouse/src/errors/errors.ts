/**
 * Every error Gatehouse raises on purpose, with a stable code.
 *
 * Codes are `GH_ERR_<AREA>_<CONDITION>`, documented in docs/errors.md (a test keeps the two in step)
 * and never reused for another meaning. `expose` says whether `message` may be shown to the client;
 * `detail` is for logs only and never holds a token or a secret.
 */

/** Each code's HTTP status, and a summary for docs/errors.md (the `error` field is the status's reason phrase). */
export const ERROR_CODES = {
  GH_ERR_CONFIG_INVALID: { status: 400, summary: 'The declarative configuration has errors.' },
  GH_ERR_CONFIG_UNREADABLE: { status: 400, summary: 'The configuration file could not be read or parsed.' },
  GH_ERR_ROUTE_NOT_FOUND: { status: 404, summary: 'No route matches the request.' },
  GH_ERR_ROUTE_PROTOCOL: {
    status: 426,
    summary: 'The route only accepts HTTPS (status set by https_redirect_status_code).',
  },
  GH_ERR_REQUEST_INVALID: {
    status: 400,
    summary:
      'The request could not be parsed: a bad request target or escape, or a malformed HTTP/1.1 message (Content-Length with Transfer-Encoding, a duplicate or invalid Content-Length, a Transfer-Encoding not ending in chunked or sent with HTTP/1.0, a bad chunk, obs-fold, bare CR or LF, control characters); the message names what. After a malformed message or target the connection is closed.',
  },
  GH_ERR_REQUEST_HOST_INVALID: {
    status: 400,
    summary:
      'The Host header is missing from an HTTP/1.1 request, sent more than once, not a valid host[:port], or disagrees with an absolute-form request target (RFC 9112 §3.2).',
  },
  GH_ERR_REQUEST_VERSION_UNSUPPORTED: {
    status: 505,
    summary:
      'The request line names an HTTP version other than 1.0 or 1.1 (HTTP/0.9, or HTTP/2.0 without TLS and ALPN).',
  },
  GH_ERR_REQUEST_TRANSFER_CODING_UNSUPPORTED: {
    status: 501,
    summary:
      'The request body has a transfer coding other than chunked (e.g. `Transfer-Encoding: gzip, chunked`), which the gateway does not decode (RFC 9112 §6.1).',
  },
  GH_ERR_UPGRADE_UNSUPPORTED: {
    status: 400,
    summary:
      'The request asks to upgrade the connection to a protocol other than WebSocket (TLS/1.2, say): refused rather than answered as plain HTTP. An offer of h2c alone is answered as plain HTTP/1.1 instead (docs/websocket.md).',
  },
  GH_ERR_GRPC_ROUTE_REQUIRED: {
    status: 404,
    summary:
      'A gRPC request (content-type application/grpc) matched an http/https route: gRPC is proxied only on grpc/grpcs routes (as in Kong), never passed on as HTTP/1.1. Answered as gRPC status NOT_FOUND (5).',
  },
  GH_ERR_GRPC_DEADLINE_EXCEEDED: {
    status: 504,
    summary:
      "The gRPC call's deadline (grpc-timeout) passed before the upstream answered: the upstream's stream is cancelled and the client gets DEADLINE_EXCEEDED (4).",
  },
  GH_ERR_WEBSOCKET_NOT_ALLOWED: {
    status: 400,
    summary:
      'A WebSocket handshake on an http/https route whose service has not set websocket_upgrade (use a ws/wss route, or set it): refused rather than passed on as plain HTTP.',
  },
  GH_ERR_WEBSOCKET_HANDSHAKE_INVALID: {
    status: 400,
    summary: 'A WebSocket handshake that breaks RFC 6455 §4.1: not GET, or no valid Sec-WebSocket-Key.',
  },
  GH_ERR_WEBSOCKET_VERSION_UNSUPPORTED: {
    status: 426,
    summary:
      'A WebSocket handshake whose Sec-WebSocket-Version is not 13 (the answer names 13, RFC 6455 §4.4).',
  },
  GH_ERR_REQUEST_METHOD_UNSUPPORTED: {
    status: 501,
    summary: 'CONNECT (an authority-form tunnel request): the gateway does not open tunnels.',
  },
  GH_ERR_REQUEST_BODY_TOO_LARGE: {
    status: 413,
    summary:
      'A plugin must read the request body (key-auth with key_in_body when no header or query parameter holds a key) and the body, announced by Content-Length or as received, exceeds proxy.max_buffered_body_size (1 MiB by default). Answered before any plugin runs when Content-Length announces it, and always before the upstream is called. Bodies no plugin reads stream through unlimited.',
  },
  GH_ERR_REQUEST_TIMEOUT: {
    status: 408,
    summary: 'The client took longer than headers_timeout to send its headers, or stopped sending its body.',
  },
  GH_ERR_REQUEST_HEADERS_TOO_LARGE: {
    status: 431,
    summary:
      'The request headers exceed proxy.max_header_size bytes, or proxy.max_header_count header lines.',
  },
  GH_ERR_REQUEST_PATH_REJECTED: {
    status: 400,
    summary:
      "The request path has a form upstreams read differently, refused as proxy.path_normalization says: an encoded slash (%2F) or backslash (%5C), a backslash, a ';' parameter, a segment ending in '.' or an encoded space, or an encoded control character (%00-%1F, %7F, always refused). The message names which; see docs/edge.md.",
  },
  GH_ERR_REQUEST_HEADER_REJECTED: {
    status: 400,
    summary:
      'A request header name contains an underscore and proxy.headers_with_underscores is reject (the message names the header).',
  },
  GH_ERR_ROUTE_NO_SERVICE: {
    status: 503,
    summary: 'The matched route has no service and no plugin answered.',
  },
  GH_ERR_UPSTREAM_UNAVAILABLE: { status: 502, summary: 'The upstream refused or dropped the connection.' },
  GH_ERR_UPSTREAM_INVALID_RESPONSE: { status: 502, summary: 'The upstream sent an invalid response.' },
  GH_ERR_UPSTREAM_TIMEOUT: { status: 504, summary: 'The upstream did not answer within the timeout.' },
  GH_ERR_UPSTREAM_CERTIFICATE_INVALID: {
    status: 502,
    summary:
      "The upstream's TLS certificate failed verification (untrusted or self-signed CA, expired, wrong host name, chain longer than tls_verify_depth); the log's detail names OpenSSL's reason. See docs/tls.md.",
  },
  GH_ERR_UPSTREAM_NO_HEALTHY_TARGET: {
    status: 503,
    summary:
      "The service's upstream has no target to send the request to: every target is unhealthy or has weight 0, or the healthy weight is below healthchecks.threshold (Kong's message: failure to get a peer from the ring-balancer).",
  },
  GH_ERR_COMPOSITION_FAILED: {
    status: 502,
    summary:
      'A composition route could not answer: every part it asked failed, or a required one did (the message names them), and not every one of those was refused by its service (then GH_ERR_COMPOSITION_PART_REFUSED).',
  },
  GH_ERR_COMPOSITION_METHOD_NOT_ALLOWED: {
    status: 405,
    summary: 'A composition route answers GET and HEAD only (the response has Allow).',
  },
  GH_ERR_COMPOSITION_PART_REFUSED: {
    status: 403,
    summary:
      "A part of a composition route answered 4xx: the service's own authorization or validation refused the call (a non-required part's 404 too). In the composed document's `_errors` with the part's status. When the parts that decide the whole answer (the required ones that failed, or all) were all refused, the answer is this code with the first one's status (403, 400, 429…; a 401 or 407 becomes 403, as it would need a challenge only that service could give), not 502.",
  },
  GH_ERR_COMPOSITION_PART_FAILED: {
    status: 502,
    summary:
      "A part of a composition route answered 5xx: the service failed. In the composed document's `_errors` with the part's status; when it makes the whole answer fail, the answer is 502 GH_ERR_COMPOSITION_FAILED.",
  },
  GH_ERR_SERVICE_DISABLED: { status: 503, summary: 'The route belongs to a disabled service.' },
  GH_ERR_ENDPOINT_METHOD_NOT_ALLOWED: {
    status: 405,
    summary:
      "An endpoint the gateway serves itself does not take the method: the internal tokens' JWKS (GET, HEAD), the session plugin's login, callback, logout and session-info paths. The response has Allow.",
  },
  GH_ERR_SERVER_SHUTTING_DOWN: { status: 503, summary: 'The gateway is shutting down.' },
  GH_ERR_PLUGIN_FAILED: { status: 500, summary: 'A plugin failed unexpectedly.' },
  GH_ERR_INTERNAL_UNEXPECTED: { status: 500, summary: 'An unexpected error occurred.' },
  GH_ERR_AUTH_CREDENTIALS_MISSING: {
    status: 401,
    summary:
      'An auth plugin found no credentials (the body starts with Kong\'s members, e.g. "message": "Unauthorized" or "No API key found in request").',
  },
  GH_ERR_AUTH_CREDENTIALS_INVALID: {
    status: 401,
    summary:
      'An auth plugin refused the credentials presented (Kong\'s message names why, e.g. Invalid signature; jwt\'s claim errors are Kong\'s members, e.g. "exp": "token expired").',
  },
  GH_ERR_AUTH_ACCESS_DENIED: {
    status: 403,
    summary:
      'The consumer may not use this route (acl), or a browser-session request failed the CSRF check (session).',
  },
  GH_ERR_AUTH_PROVIDER_UNAVAILABLE: {
    status: 502,
    summary: 'The identity provider a browser session signs in or refreshes with cannot be reached.',
  },
  GH_ERR_SESSION_TOO_LARGE: {
    status: 500,
    summary:
      'The tokens of a browser session do not fit in the session cookie (cookie.max_size): keep sessions at the gateway, with storage: redis (several nodes) or storage: server (one node: its sessions are not shared).',
  },
  GH_ERR_AUTH_STEP_UP_REQUIRED: {
    status: 401,
    summary:
      "The session or access token is not strong or recent enough for the route's `require` (acr, amr, max_age): RFC 9470 `insufficient_user_authentication`, with `acr_values` and `max_age` in WWW-Authenticate. A page load with a session is sent through the provider again instead.",
  },
  GH_ERR_AUTH_STEP_UP_FAILED: {
    status: 403,
    summary:
      'A step-up sign-in came back without what it asked for (the provider ignored acr_values or max_age, or answered unmet_authentication_requirements); refused after one attempt, never a loop.',
  },
  GH_ERR_AUTH_SCOPE_INSUFFICIENT: {
    status: 403,
    summary: 'The access token lacks a scope the route requires (insufficient_scope, RFC 6750 §3.1).',
  },
  GH_ERR_AUTH_KEYS_UNAVAILABLE: {
    status: 401,
    summary:
      "The token issuer's keys could not be fetched and none are cached; the token is refused (fail closed).",
  },
  GH_ERR_AUTH_DPOP_INVALID: {
    status: 401,
    summary:
      'A DPoP-bound access token came without a valid DPoP proof (RFC 9449: signature by the bound key, htm, htu, iat, jti replay, ath), or the route requires DPoP and the token is not bound.',
  },
  GH_ERR_IDENTITY_SIGNOUT_INCOMPLETE: {
    status: 503,
    summary:
      "POST /identity/users/{user}/signout: the account's sessions, grants and tokens were deleted from the store, but the subject revocation could not be recorded in the shared revocations (Redis), so other nodes and internal tokens may not know yet; retry.",
  },
  GH_ERR_IDENTITY_ENRICHMENT_UNAVAILABLE: {
    status: 503,
    summary:
      "The user-info service that enriches the caller's identity did not answer usably and the route fails closed.",
  },
  GH_ERR_INTERNAL_TOKEN_UNAVAILABLE: {
    status: 503,
    summary: 'The gateway could not mint the internal token for the upstream (no usable signing key).',
  },
  GH_ERR_AUTH_CHECKS_BUSY: {
    status: 503,
    summary: 'Too many password checks are in progress (basic-auth bounds them); retry shortly.',
  },
  GH_ERR_CACHE_ONLY_IF_CACHED: {
    status: 504,
    summary:
      'proxy-cache with cache_control: the request asked for a cached response only (Cache-Control: only-if-cached) and none is stored (RFC 9111 §5.2.1.7).',
  },
  GH_ERR_RATE_LIMITED: {
    status: 429,
    summary:
      'A rate-limiting limit is reached: Kong\'s message "API rate limit exceeded", with Retry-After and the rate-limit headers (status and message set by error_code and error_message).',
  },
  GH_ERR_RATE_LIMIT_UNAVAILABLE: {
    status: 500,
    summary:
      'rate-limiting could not reach its counters (Redis down or slower than its command timeout) and fault_tolerant is false.',
  },
  GH_ERR_SESSION_STORE_UNAVAILABLE: {
    status: 503,
    summary:
      'The session plugin (storage: redis) could not reach Redis and on_store_failure is error; the session is kept for when it is back.',
  },
  GH_ERR_REVOCATION_UNAVAILABLE: {
    status: 503,
    summary:
      'POST /revocations: the shared revocations (Redis) could not be reached, so nothing was revoked; retry.',
  },
  GH_ERR_KEY_NOT_FOUND: {
    status: 404,
    summary:
      "POST /keys/{kid}/revoke: no signing key has this kid: not the identity provider's (in the store), not this node's internal-token key nor another node's it lists; nothing was withdrawn.",
  },
  GH_ERR_IP_NOT_ALLOWED: {
    status: 403,
    summary:
      "ip-restriction refused the client address (as the gateway determines it: the peer, or behind proxy.trusted_ips the X-Forwarded-For hop): it is in `deny` or not in `allow`, or it is no IP address. Kong's message, `IP address not allowed: <address>`, unless the plugin's `status` and `message` say otherwise.",
  },
  GH_ERR_REQUEST_SIZE_LIMIT_EXCEEDED: {
    status: 413,
    summary:
      'request-size-limiting: the body is larger than allowed_payload_size, announced by Content-Length (refused before it is read) or counted as a chunked body streams (the upstream request is cut off before the byte over the limit). Kong\'s message "Request size limit exceeded"; 417 when the request carried `Expect: 100-continue`, as Kong.',
  },
  GH_ERR_REQUEST_LENGTH_REQUIRED: {
    status: 411,
    summary:
      'request-size-limiting with require_content_length: the request has neither Content-Length nor a chunked body. Kong\'s message "A valid Content-Length header is required".',
  },
  GH_ERR_REQUEST_TERMINATED: {
    status: 503,
    summary:
      'request-termination answered the request itself with an error status (status_code, 503 by default; the access log shows the status sent). Its message is the configured one or Kong\'s default for the status ("Service unavailable").',
  },
  GH_ERR_ADMIN_FORBIDDEN: {
    status: 403,
    summary: 'The admin API refused the client (not loopback and no admin token configured).',
  },
  GH_ERR_ADMIN_UNAUTHORIZED: { status: 401, summary: 'The admin token is missing or wrong.' },
  GH_ERR_ADMIN_NOT_FOUND: { status: 404, summary: 'No such admin resource or entity.' },
  GH_ERR_ADMIN_METHOD_NOT_ALLOWED: {
    status: 405,
    summary: 'The admin API is read-only in DB-less mode, or the method is not supported.',
  },
  GH_ERR_ADMIN_BAD_REQUEST: { status: 400, summary: 'The admin request is malformed (body or query).' },
  GH_ERR_ADMIN_BODY_TOO_LARGE: { status: 413, summary: 'The admin request body exceeds the limit.' },
  GH_ERR_ADMIN_BUSY: { status: 429, summary: 'Another configuration is being loaded; retry shortly.' },
  GH_ERR_ADMIN_CONFLICT: {
    status: 409,
    summary:
      "DB mode: the write would duplicate a unique value (a name, a username, an API key, a plugin's scope): Kong's unique constraint violation. Also the identity provider's users and clients (/identity/…): a username, e-mail address, id or client_id already taken.",
  },
  GH_ERR_ADMIN_REFERENCED: {
    status: 400,
    summary:
      "DB mode: the entity cannot be deleted while others refer to it (a service's routes): Kong's foreign key violation.",
  },
  GH_ERR_ADMIN_HOST_NOT_ALLOWED: {
    status: 421,
    summary:
      "The admin or status listener refused the request's Host: only the listener's own IP addresses, localhost and admin.allowed_hosts are served (DNS rebinding), and a request without Host is refused.",
  },
  GH_ERR_ADMIN_CROSS_SITE: {
    status: 403,
    summary:
      "The admin API refused a request a web page sent from another site: its Origin is neither the listener's own nor in admin.allowed_origins, or Sec-Fetch-Site says cross-site or same-site. Nothing was read or changed.",
  },
  GH_ERR_ADMIN_UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    summary:
      'An admin write came with a body that is not application/json (POST /config also takes YAML): forms, multipart and text/plain are refused, as are bodies without Content-Type.',
  },
  GH_ERR_ADMIN_CONSOLE_NOT_BUILT: {
    status: 503,
    summary:
      "The admin console's files (/console/) were not built at install time: `npm install` builds them, or `npm run build:console`. A browser gets a page saying so; the admin API itself works as before.",
  },
  GH_ERR_ADMIN_MANAGED_BY_CONFIG: {
    status: 409,
    summary:
      'The identity provider’s user or client is declared in the configuration file (identity.users, identity.clients): it is read-only through the admin API and the CLI, and changed in the file.',
  },
  GH_ERR_STORE_UNAVAILABLE: {
    status: 503,
    summary:
      'An admin write could not reach the store (PostgreSQL, or the SQLite file locked or unreadable); the write was not applied: retry.',
  },
  GH_ERR_STATUS_NOT_READY: {
    status: 503,
    summary:
      "/status/ready: a dependency the node needs does not answer (the store, Redis); the body's `checks` names which.",
  },
} as const satisfies Record<string, { status: number; summary: string }>

export type GatehouseErrorCode = keyof typeof ERROR_CODES

const kBrand = Symbol.for('gatehouse.error')

/** Base of all Gatehouse errors. `instanceof` works across copies of the package through a brand. */
export class GatehouseError extends Error {
  readonly code: GatehouseErrorCode
  readonly status: number
  /** Whether `message` is safe to send to the client. */
  readonly expose: boolean
  /** Server-side detail for the log; never sent to the client. */
  readonly detail: string | undefined

  constructor(code: GatehouseErrorCode, message: string, options: { detail?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'GatehouseError'
    this.code = code
    this.status = ERROR_CODES[code].status
    // Our messages are fixed strings, safe to show; only unexpected failures hide theirs.
    this.expose = code !== 'GH_ERR_INTERNAL_UNEXPECTED' && code !== 'GH_ERR_PLUGIN_FAILED'
    this.detail = options.detail
    Object.defineProperty(this, kBrand, { value: true })
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[kBrand] === true
  }
}

/** One problem in a configuration: where (file and key path) and what. */
export interface ConfigIssue {
  /** Key path such as `services[0].routes[1].paths[0]`; empty for the document itself. */
  path: string
  message: string
}

/** A configuration that cannot be used. Carries every problem found, not only the first. */
export class ConfigError extends GatehouseError {
  readonly source: string
  readonly issues: readonly ConfigIssue[]

  constructor(
    source: string,
    issues: readonly ConfigIssue[],
    code: GatehouseErrorCode = 'GH_ERR_CONFIG_INVALID',
  ) {
    super(code, formatConfigIssues(source, issues))
    this.name = 'ConfigError'
    this.source = source
    this.issues = issues
  }
}

/** `FILE: path.to.key: message`, one line per issue. */
export function formatConfigIssues(source: string, issues: readonly ConfigIssue[]): string {
  return issues
    .map((i) => (i.path ? `${source}: ${i.path}: ${i.message}` : `${source}: ${i.message}`))
    .join('\n')
}
