/**
 * `POST /config`, Kong's DB-less reload: the body is a declarative configuration (JSON or YAML, or JSON
 * `{"config": "<yaml or json text>"}`). 201 when loaded and swapped in; 304 with `?check_hash=1` when it
 * is identical to the running one; 400 with every problem, flattened, when it is invalid (the running
 * configuration keeps serving); 429 while another load is in progress.
 */
import { createHash } from 'node:crypto'
import { parseDocument } from 'yaml'
import { ConfigError, GatehouseError } from '../errors/errors.ts'
import type { AdminContext } from './context.ts'
import { type AdminRequest, readBody, sendError, sendJson } from './http.ts'

export async function handleConfig(ctx: AdminContext, a: AdminRequest, maxBody: number): Promise<void> {
  if (a.method === 'GET') {
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
    return
  }
  if (a.method !== 'POST') {
    sendError(
      a.res,
      new GatehouseError('GH_ERR_ADMIN_METHOD_NOT_ALLOWED', `${a.method} is not supported on /config`),
    )
    return
  }
  if (ctx.busy()) {
    a.res.setHeader('retry-after', '1')
    sendError(a.res, new GatehouseError('GH_ERR_ADMIN_BUSY', 'Currently loading another configuration'))
    return
  }
  const body = await readBody(a.req, maxBody)
  let document: string | object = body.toString('utf8')
  const type = String(a.req.headers['content-type'] ?? '')
  if (/json/i.test(type)) {
    try {
      const parsed = JSON.parse(document as string) as unknown
      document = isWrapped(parsed) ? parsed.config : (parsed as object)
    } catch (err) {
      sendError(
        a.res,
        new GatehouseError(
          'GH_ERR_ADMIN_BAD_REQUEST',
          `request body is not valid JSON: ${(err as Error).message}`,
        ),
      )
      return
    }
  }
  if (a.query.get('check_hash') === '1') {
    const incoming = typeof document === 'string' ? parseDocument(document).toJS() : document
    const hash = createHash('sha256').update(JSON.stringify(incoming)).digest('hex')
    if (hash === ctx.config().hash) {
      sendJson(a.res, 304, null)
      return
    }
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

function isWrapped(value: unknown): value is { config: string } {
  return (
    typeof value === 'object' &&
    value !== null &&
    !('_format_version' in value) &&
    typeof (value as { config?: unknown }).config === 'string'
  )
}
