/**
 * What the opentelemetry plugin's instances run on: the request trace and the exporter, and through
 * them the OpenTelemetry API and SDK (about 290 modules). Only plugin.ts's `prepare` imports this
 * module, when a configuration uses the plugin; every other process never loads OpenTelemetry.
 */
export { acquireProvider } from '../../observability/tracing/exporter.ts'
export { RequestTrace } from '../../observability/tracing/request-trace.ts'
