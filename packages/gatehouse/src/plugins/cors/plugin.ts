/**
 * cors: lets browsers on allowed origins call the API, as Kong's cors plugin does. It answers preflights
 * (OPTIONS with Origin and Access-Control-Request-Method) itself, before authentication runs, because
 * browsers send preflights without credentials; and it adds Access-Control-Allow-Origin (with -Credentials
 * and -Expose-Headers) in the response phase, so gateway-made responses (401, 429, 502) carry them too
 * and the browser can show the page the real error.
 *
 * Where this departs from Kong, it is stricter on the wire: an origin that is not allowed gets no CORS
 * headers at all (Kong still sends -Methods, -Headers, -Credentials, and with one configured origin even
 * -Allow-Origin), and `Vary: Origin` is sent whenever the answer depends on the Origin, with or without
 * one in the request, so a shared cache never serves one origin's answer to another.
 */
import type { HeaderMap } from '../../pipeline/request-state.ts'
import type { GatewayPlugin, PluginHandler } from '../types.ts'
import { compileOrigins } from './origins.ts'
import { type CorsConfig, corsSchema } from './schema.ts'

/**
 * The `cors` plugin (Kong's contract, priority 2000).
 *
 * @example
 * ```yaml
 * plugins:
 *   - name: cors
 *     config:
 *       origins: [https://shop.example.com, 'https://.*\.example\.com']
 *       credentials: true
 *       exposed_headers: [X-Total-Count]
 *       max_age: 600
 * ```
 */
export const plugin: GatewayPlugin<CorsConfig> = {
  name: 'cors',
  version: '1.0.0',
  priority: 2000,
  band: 'pre-auth',
  description: 'Answers CORS preflights and adds CORS headers to responses for allowed origins.',
  schema: corsSchema,
  // Kong's cors has `no_consumer`: preflights arrive before anyone is authenticated.
  scopes: { consumer: false },
  create(config) {
    const origins = compileOrigins(config.origins)
    const { credentials, preflight_continue: preflightContinue } = config
    const allowOriginAbsent = config.allow_origin_absent
    const allowMethods = config.methods.join(',')
    const allowHeaders = config.headers && config.headers.length > 0 ? config.headers.join(',') : null
    const exposeHeaders =
      config.exposed_headers && config.exposed_headers.length > 0 ? config.exposed_headers.join(',') : null
    const maxAge = config.max_age === null || config.max_age === undefined ? null : String(config.max_age)
    const privateNetwork = config.private_network
    /** Whether the answer depends on the request's Origin (then caches must key on it). */
    const varies = !origins.any || credentials

    /** The Access-Control-Allow-Origin value for this request, or null for none. */
    function allowOrigin(origin: string | undefined): string | null {
      if (origin === undefined) return allowOriginAbsent ? (origins.any ? '*' : origins.single) : null
      if (origins.any) return credentials ? origin : '*'
      return origins.allowed(origin)
    }

    const handler: PluginHandler = {
      response(state) {
        const req = state.req.headers
        // A preflight was answered in access (or, with preflight_continue, by the upstream).
        if (
          state.method === 'OPTIONS' &&
          req.origin !== undefined &&
          req['access-control-request-method'] !== undefined
        )
          return
        const headers = state.response!.headers
        if (varies) addVaryOrigin(headers)
        const acao = allowOrigin(req.origin)
        if (acao === null) {
          delete headers['access-control-allow-origin']
          return
        }
        headers['access-control-allow-origin'] = acao
        if (credentials && acao !== '*') headers['access-control-allow-credentials'] = 'true'
        if (exposeHeaders !== null) headers['access-control-expose-headers'] = exposeHeaders
      },
    }
    if (!preflightContinue) {
      handler.access = (state) => {
        if (state.method !== 'OPTIONS') return
        const req = state.req.headers
        const origin = req.origin
        if (origin === undefined || req['access-control-request-method'] === undefined) return
        const headers: HeaderMap = Object.create(null)
        if (varies) headers.vary = 'Origin'
        const acao = allowOrigin(origin)
        if (acao !== null) {
          headers['access-control-allow-origin'] = acao
          if (credentials && acao !== '*') headers['access-control-allow-credentials'] = 'true'
          const requested = req['access-control-request-headers']
          const allowed = allowHeaders ?? requested
          if (allowed !== undefined) headers['access-control-allow-headers'] = allowed
          headers['access-control-allow-methods'] = allowMethods
          if (maxAge !== null) headers['access-control-max-age'] = maxAge
          if (privateNetwork && req['access-control-request-private-network'] === 'true')
            headers['access-control-allow-private-network'] = 'true'
        }
        state.exit(200, undefined, headers)
      }
    }
    return handler
  },
}

/** Adds `Origin` to Vary, keeping what the upstream listed (Kong appends a second Vary line instead). */
function addVaryOrigin(headers: HeaderMap): void {
  const vary = headers.vary
  if (vary === undefined) headers.vary = 'Origin'
  else {
    const text = Array.isArray(vary) ? vary.join(', ') : vary
    if (text.trim() !== '*' && !/(^|,)\s*origin\s*(,|$)/i.test(text)) headers.vary = `${text}, Origin`
  }
}
