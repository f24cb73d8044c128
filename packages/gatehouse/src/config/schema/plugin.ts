/** The `plugins` entity: a plugin instance and where it applies (Kong's plugins.lua). */
import { z } from 'zod'
import {
  consumerReference,
  HTTP_PROTOCOLS,
  name,
  routeReference,
  serviceReference,
  tags,
  uuid,
} from './typedefs.ts'

/** The protocols of Kong's http subsystem, which a plugin's `protocols` may name. */
const PLUGIN_PROTOCOLS = ['http', 'https', 'grpc', 'grpcs', 'ws', 'wss'] as const

/**
 * Kong's plugin `protocols`. Kong reads it only to choose the subsystem a plugin runs in (http or stream:
 * `should_process_plugin` in kong/runloop/plugins_iterator.lua), never the request's protocol, so a plugin
 * runs for every request of its scope, http, https, gRPC and WebSocket alike; so it does here. decK writes
 * Kong's default (`grpc, grpcs, http, https`) on every plugin it dumps.
 */
const pluginProtocols = z
  .array(
    z.enum(PLUGIN_PROTOCOLS, {
      error: `expected one of ${PLUGIN_PROTOCOLS.join(', ')} (Kong's stream protocols tcp, tls, udp are not served)`,
    }),
  )
  .min(1)
  .transform((list) => [...new Set(list)])

export const pluginFields = {
  id: uuid.optional().describe('Entity id. Default: a stable UUID derived from the plugin name and scope.'),
  name: z.string().min(1).describe('Plugin name, e.g. `cors` (see docs/plugins.md).'),
  instance_name: name.optional().describe('Unique name of this instance, for the admin API.'),
  config: z
    .record(z.string(), z.unknown())
    .optional()
    .describe("The plugin's own settings, checked against its schema."),
  enabled: z
    .boolean()
    .default(true)
    .describe('A disabled plugin is loaded and checked but never runs. Default: true.'),
  protocols: pluginProtocols
    .default([...HTTP_PROTOCOLS])
    .describe(
      "The protocols the plugin applies to, among `http`, `https`, `grpc`, `grpcs`, `ws` and `wss` (Kong's default, which decK writes on every plugin, is `grpc, grpcs, http, https`). As in Kong, the list does not choose between requests: the plugin runs for every request of its scope, whatever its protocol (limit the route's `protocols` instead; a list of one is loaded with a warning saying so). Default: `[http, https]`.",
    ),
  tags,
}

/** Scope references, allowed on top-level plugins (nested plugins get them from their parent). */
export const pluginScopeFields = {
  service: serviceReference.optional().describe('Run only for this service (name or id).'),
  route: routeReference.optional().describe('Run only for this route (name or id).'),
  consumer: consumerReference.optional().describe('Run only for this consumer (username or id).'),
}
