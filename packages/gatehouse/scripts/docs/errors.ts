/**
 * docs/errors.md, from ERROR_CODES. The examples are produced by the code that produces real errors
 * (errorEnvelope, the config loader), so they cannot drift from what clients and operators see.
 */
import { loadConfigObject } from '../../src/config/load.ts'
import { ConfigError, ERROR_CODES, GatehouseError, type GatehouseErrorCode } from '../../src/errors/errors.ts'
import { errorEnvelope } from '../../src/errors/respond.ts'
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

The proxy and the admin API answer every error with the same JSON body, for example when no route matches:`

const ENVELOPE_FIELDS = `- \`message\`: what went wrong, in Kong's words where Kong has the same error, so clients written for \
Kong keep working. For a 5xx error it is the generic \`An unexpected error occurred\` unless the table below \
says \`specific\`; the detail goes to the log only.
- \`code\`: the stable code from the table below.
- \`error\`: the HTTP reason phrase of the status.
- \`statusCode\`: the HTTP status, repeated.
- \`request_id\`: on proxy responses, the id of the request, also written to the access log and sent \
upstream in \`X-Request-ID\`. The admin API leaves it out.`

function exampleEnvelope() {
  const err = new GatehouseError('GH_ERR_ROUTE_NOT_FOUND', 'no Route matched with those values')
  return errorEnvelope(err, '5f0c3f4e-8d2a-4a57-9b0e-3c1d2e4f5a6b')
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
