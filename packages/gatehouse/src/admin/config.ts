/**
 * `POST /config`, Kong's DB-less reload: the body is a declarative configuration, as JSON
 * (`application/json`, also wrapped as `{"config": "<yaml or json text>"}`) or as YAML
 * (`application/yaml`, `application/x-yaml`, `text/yaml`, `text/x-yaml`). Unlike Kong, no form
 * (`curl -F config=@kong.yml`): a web page on any site can post a form (issue 10), so media-type.ts
 * refuses those with 415 before this runs; send `curl -H 'Content-Type: application/yaml' --data-binary
 * @kong.yml`. 201 when loaded and swapped in; 304 with `?check_hash=1` when it is identical to the
 * running one; 400 with every problem, flattened, when it is invalid (the running configuration keeps
 * serving); 413 over admin.max_body_size; 429 while another load is in progress.
 */
import { parseDocument } from 'yaml'
import { hashDocument } from '../config/load.ts'
import { ConfigError, GatehouseError } from '../errors/errors.ts'
import { type AdminHandler, readBody, sendError, sendJson } from './http.ts'
import { essence, isJsonType } from './media-type.ts'

/** `GET /config`: the running configuration's hash, where it came from and how many entities it has. */
export const showConfig: AdminHandler = (ctx, a) => {
  const c = ctx.config()
  sendJson(a.res, 200, {
    config_hash: c.hash,
    source: c.source,
    entities: {
      services: c.services.length,
      routes: c.routes.length,
      consumers: c.consumers.length,
      plugins: c.plugins.length,
    },
  })
}

/** `POST /config`: loads and swaps in a declarative configuration (DB-less nodes only). */
export const loadConfig: AdminHandler = async (ctx, a, env) => {
  if (ctx.entityWrites !== null) {
    sendError(
      a.res,
      new GatehouseError(
        'GH_ERR_ADMIN_METHOD_NOT_ALLOWED',
        'POST /config loads a DB-less configuration; in DB mode write entities through the admin API or gatehouse config import',
      ),
      {},
      { allow: 'GET, HEAD' },
    )
    return
  }
  if (ctx.busy()) {
    a.res.setHeader('retry-after', '1')
    sendError(a.res, new GatehouseError('GH_ERR_ADMIN_BUSY', 'Currently loading another configuration'))
    return
  }
  const body = await readBody(a.req, env.maxBodySize)
  const document = documentFrom(body, essence(a.req.headers['content-type']))
  if (document instanceof GatehouseError) {
    sendError(a.res, document)
    return
  }
  if (a.query.get('check_hash') === '1' && hashOf(document) === ctx.config().hash) {
    sendJson(a.res, 304, null)
    return
  }
  try {
    const loaded = await ctx.reload(document, 'POST /config')
    sendJson(a.res, 201, {
      message: 'configuration loaded',
      config_hash: loaded.hash,
      entities: {
        services: loaded.services.length,
        routes: loaded.routes.length,
        consumers: loaded.consumers.length,
        plugins: loaded.plugins.length,
      },
    })
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    sendError(a.res, err, {
      message: 'declarative config is invalid',
      name: 'invalid declarative configuration',
      flattened_errors: err.issues,
    })
  }
}

/**
 * The declarative document in the body: parsed JSON, or YAML text for the loader to parse. The type is
 * JSON or YAML (media-type.ts); a body without one is empty, and the loader says so.
 */
function documentFrom(body: Buffer, type: string): string | object | GatehouseError {
  const text = body.toString('utf8')
  if (!isJsonType(type)) return text
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (err) {
    // The parser's message quotes the body; keep only where it failed.
    const at = /at position \d+(?: \(line \d+ column \d+\))?/.exec((err as Error).message)
    return new GatehouseError(
      'GH_ERR_ADMIN_BAD_REQUEST',
      `request body is not valid JSON${at ? ` (${at[0]})` : ''}`,
    )
  }
  return isWrapped(parsed) ? parsed.config : (parsed as object)
}

/**
 * The hash the loader would give this document, or null when the text does not parse (the loader then
 * reports why). YAML is parsed with loadConfigText's options, so the two agree.
 */
function hashOf(document: string | object): string | null {
  let value: unknown = document
  if (typeof document === 'string') {
    const doc = parseDocument(document, { uniqueKeys: true, merge: true, prettyErrors: false })
    if (doc.errors.length > 0) return null
    try {
      value = doc.toJS({ maxAliasCount: 1000 })
    } catch {
      return null
    }
  }
  return hashDocument(value)
}

function isWrapped(value: unknown): value is { config: string } {
  return (
    typeof value === 'object' &&
    value !== null &&
    !('_format_version' in value) &&
    typeof (value as { config?: unknown }).config === 'string'
  )
}
