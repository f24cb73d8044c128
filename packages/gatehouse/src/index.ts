/** Programmatic entry points, for embedding Gatehouse or writing tests against it. */
export { loadConfigFile, loadConfigObject, loadConfigText } from './config/load.ts'
export type * from './config/model.ts'
export { ConfigError, GatehouseError, type GatehouseErrorCode } from './errors/errors.ts'
export { Gateway } from './gateway.ts'
export { start } from './main.ts'
export { preparePlugins } from './pipeline/runtime.ts'
export { loadBundledPlugins } from './plugins/registry.ts'
export type { GatewayPlugin, PluginHandler } from './plugins/types.ts'
