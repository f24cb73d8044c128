/**
 * docs/errors.md, from ERROR_CODES. The examples are produced by the code that produces real errors
 * (errorEnvelope and errorBody, the config loader), so they cannot drift from what clients and operators
 * see; test/proxy/error-bodies.test.ts checks the rule stated here against every refusing plugin.
 */
import { loadConfigObject } from '../../src/config/load.ts'
import { ConfigError, ERROR_CODES, GatehouseError, type GatehouseErrorCode } from '../../src/errors/errors.ts'
import { ERROR_CODE_HEADER, errorBody, errorEnvelope } from '../../src/errors/respond.ts'
import type { PluginRegistry } from '../../src/plugins/registry.ts'
import { code, codeBlock, document, generatedNotice, table } from './markdown.ts'

/** A file with three mistakes, loaded for real to show what the loader reports. */
const BAD_CONFIG = {
  _format_version: '3.0',
  services: [
    {
      name: 'orders',
      url: 'http://orders.internal:8080',
      connect_timeout: '5s',
      routes: [{ paths: ['/orders'], stirp_path: false }],
    },
  ],
  admin: { token: 'short' },
}

export function renderErrors(registry: PluginRegistry): string {
  const codes = Object.keys(ERROR_CODES) as GatehouseErrorCode[]
  return document([
    '# Errors',
    generatedNotice('`ERROR_CODES` in `packages/gatehouse/src/errors/errors.ts`'),
    'Every error Gatehouse answers on purpose carries a stable code `GH_ERR_<AREA>_<CONDITION>`. A code ' +
      'keeps its meaning for good and is never reused; match on `code`, not on `message`.',
    ENVELOPE,
    codeBlock('json', JSON.stringify(exampleEnvelope(), null, 2)),
    ENVELOPE_FIELDS,
    KONG_BODIES,
    codeBlock('http', exampleRefusal()),
    KONG_BODIES_MORE,
    HEADERS,
    '## Codes',
    table(
      ['Code', 'Status', '`message`', 'Meaning'],
      codes.map((c) => [
        code(c),
        String(ERROR_CODES[c].status),
        new GatehouseError(c, '').expose ? 'specific' : 'generic',
        ERROR_CODES[c].summary,
      ]),
    ),
    configurationErrors(registry),
  ])
}

const ENVELOPE = `## The error envelope

Every error response the proxy and the admin API make themselves has one JSON body, an object built in one \
place (\`errorBody\` in \`packages/gatehouse/src/errors/respond.ts\`). For an error Kong has no answer for, it \
is the envelope alone, for example when no route matches:`

const ENVELOPE_FIELDS = `- \`message\`: what went wrong, in Kong's words where Kong has the same error, so clients written for \
Kong keep working. For a 5xx error it is the generic \`An unexpected error occurred\` unless the table below \
says \`specific\`; the detail goes to the log only.
- \`code\`: the stable code from the table below.
- \`error\`: the HTTP reason phrase of the status.
- \`statusCode\`: the HTTP status of the response.
- \`request_id\`: on proxy responses, the id of the request, also written to the access log and sent \
upstream in \`X-Request-ID\`. The admin API leaves it out.`

const KONG_BODIES = `### Refusals Kong also makes

Where Kong answers the same refusal (key-auth, basic-auth, jwt, acl, rate-limiting…), the body starts with \
**Kong's members, exactly as Kong sends them**: \`message\` in Kong's words (\`No API key found in request\`, \
\`Invalid signature\`, \`You cannot consume this service\`, \`API rate limit exceeded\` or the configured \
\`error_message\`), and any other member Kong's body has (jwt's claim errors, such as \
\`"exp": "token expired"\`, in place of a message). **Then come ours, in this order**: \`message\` (only when \
Kong's members have none; then it is ours), \`code\`, \`error\`, \`statusCode\`, \`request_id\`. Kong 3.5 and \
later append \`request_id\` to their error bodies in the same way, so a client written for Kong finds every \
member it reads, with the same value, and only new members after them. The status and the headers are \
Kong's (\`WWW-Authenticate\`, \`Retry-After\`, the rate-limit headers). For example key-auth, when the \
request has no key (Kong's body is \`{"message":"No API key found in request"}\`):`

const KONG_BODIES_MORE = `A plugin that answers in its own protocol's body puts that body first in the same way: \
openid-connect's RFC 6750 \`error\` and \`error_description\` (there \`error\` keeps its OAuth meaning, \
\`invalid_token\`, and is not replaced by the reason phrase), the session plugin's \`login\` path next to \
its \`message\`, \`/session\`'s \`authenticated: false\`.`

const HEADERS = `### Headers of an error response

- \`X-Gatehouse-Error\`: the code, on every error response the gateway makes itself, JSON or not (the \
session plugin's sign-in pages are HTML) and on the admin API. A client tells a refusal by the gateway from \
an upstream's own 4xx or 5xx without reading the body: the gateway never adds the header to an upstream's \
answer (another Gatehouse in front of the upstream would). Redirects (\`https_redirect_status_code\`, the \
session plugin's sign-in) are not errors and do not carry it.
- \`X-Request-ID\`: on every error response of the proxy, the id of the request (\`request_id\` in the body \
and in the access log). Proxied answers carry it only with the request-id plugin (\`echo_downstream\`).
- The error's own headers, unchanged: \`WWW-Authenticate\`, \`Retry-After\`, \`RateLimit-*\` and \
\`X-RateLimit-*\`, \`Allow\`. The response phase of the route's plugins runs on error responses too \
(CORS headers, request-id, response-transformer).

Not gateway errors in this sense: the identity provider's OAuth and OpenID Connect endpoints answer in \
their protocol's format (\`{"error": "invalid_grant", "error_description": …}\`, RFC 6749 §5.2), and a \
connection whose HTTP the gateway cannot parse gets the envelope and \`X-Gatehouse-Error\` but no request id \
(no request was read).`

function exampleEnvelope() {
  const err = new GatehouseError('GH_ERR_ROUTE_NOT_FOUND', 'no Route matched with those values')
  return errorEnvelope(err, '5f0c3f4e-8d2a-4a57-9b0e-3c1d2e4f5a6b')
}

/** key-auth's 401 without a key, as the proxy sends it. */
function exampleRefusal(): string {
  const id = '0d9a2c71-6f43-4a1e-8a8e-2b7f5c3e9d10'
  const err = new GatehouseError('GH_ERR_AUTH_CREDENTIALS_MISSING', 'No API key found in request')
  const body = errorBody(err, 401, id, { message: 'No API key found in request' })
  const canonical = ERROR_CODE_HEADER.replace(/(^|-)[a-z]/g, (c) => c.toUpperCase())
  return [
    'HTTP/1.1 401 Unauthorized',
    'Content-Type: application/json; charset=utf-8',
    'WWW-Authenticate: Key',
    `${canonical}: ${err.code}`,
    `X-Request-ID: ${id}`,
    '',
    JSON.stringify(body),
  ].join('\n')
}

function configurationErrors(registry: PluginRegistry): string {
  let err: ConfigError
  try {
    loadConfigObject(BAD_CONFIG, 'gatehouse.yaml', { registry, env: {} })
    throw new TypeError('errors.md: the example configuration unexpectedly loads')
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e
    err = e
  }
  // The extra fields admin/config.ts adds to the envelope, Kong's shape for this answer.
  const body = {
    ...errorEnvelope(err),
    message: 'declarative config is invalid',
    name: 'invalid declarative configuration',
    flattened_errors: err.issues,
  }
  return `## Configuration errors

A configuration is checked completely before it is used, and every problem is reported at once, one line \
each: \`FILE: path: message\`, where \`path\` is the key in the file (\`services[0].routes[1].paths[0]\`). For \
example, for a file with a misspelt key, a duration written as text and a short admin token:

${codeBlock('text', err.message)}

- \`gatehouse start\` and \`gatehouse config check\` print these lines to standard error, then a one-line summary, and \
exit with status 1 (${code(err.code)}; ${code('GH_ERR_CONFIG_UNREADABLE')} when the file cannot be read or is \
not YAML or JSON). Nothing is started. A bad command line exits with status 2.
- A reload with \`SIGHUP\` that finds problems logs them and keeps the running configuration.
- \`POST /config\` on the admin API answers ${err.status} with the envelope and the same problems as \
\`flattened_errors\`; the running configuration keeps serving:

${codeBlock('json', JSON.stringify(body, null, 2))}`
}
