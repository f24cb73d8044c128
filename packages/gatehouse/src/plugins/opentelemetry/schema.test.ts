import assert from 'node:assert/strict'
import { before, describe, it } from 'node:test'
import { loadConfigObject } from '../../config/load.ts'
import { loadBundledPlugins, type PluginRegistry } from '../registry.ts'
import { exporterOptions } from './plugin.ts'
import type { OpenTelemetryConfig } from './schema.ts'

let registry: PluginRegistry
before(async () => {
  registry = await loadBundledPlugins()
})

const load = (config: unknown) =>
  loadConfigObject({ _format_version: '3.0', plugins: [{ name: 'opentelemetry', config }] }, 'c.yaml', {
    registry,
  }).plugins[0]!.config as OpenTelemetryConfig

const refused = (config: unknown, message: string) =>
  assert.throws(() => load(config), { message: `c.yaml: plugins[0].config${message}` })

const ENDPOINT = 'http://collector.test:4318/v1/traces'

describe('opentelemetry config', () => {
  it("fills in Kong's defaults and maps them onto the exporter", () => {
    const config = load({ traces_endpoint: ENDPOINT })
    assert.equal(config.header_type, 'preserve')
    assert.equal(config.connect_timeout, 1000)
    assert.equal(config.queue.max_batch_size, 200)
    assert.deepEqual(config.propagation, { default_format: 'w3c' })
    assert.deepEqual(exporterOptions(config, null), {
      url: ENDPOINT,
      headers: {},
      resourceAttributes: {},
      samplingRate: 1,
      maxBatchSize: 200,
      maxQueueSize: 10000,
      scheduledDelayMs: 1000,
      exportTimeoutMs: 11000,
    })
  })

  it("applies Kong's deprecated 2.x fields (endpoint, batch_span_count, batch_flush_delay) with warnings", () => {
    const warnings: string[] = []
    const logger = { warn: (_: object, message: string) => warnings.push(message) }
    const options = exporterOptions(
      load({ endpoint: ENDPOINT, batch_span_count: 50, batch_flush_delay: 2 }),
      logger as never,
    )
    assert.equal(options.url, ENDPOINT)
    assert.equal(options.maxBatchSize, 50)
    assert.equal(options.scheduledDelayMs, 2000)
    assert.deepEqual(warnings, [
      'opentelemetry: config.batch_span_count is deprecated, please use config.queue.max_batch_size instead',
      'opentelemetry: config.batch_flush_delay is deprecated, please use config.queue.max_coalescing_delay instead',
      'opentelemetry: config.endpoint is deprecated, please use config.traces_endpoint instead',
    ])
  })

  it('needs an endpoint, and refuses OTLP logs export with what to use instead', () => {
    refused(
      {},
      '.traces_endpoint: at least one of these fields must be non-empty: traces_endpoint, logs_endpoint',
    )
    refused(
      { traces_endpoint: ENDPOINT, logs_endpoint: 'http://collector.test:4318/v1/logs' },
      '.logs_endpoint: OTLP logs export is not supported: leave logs_endpoint unset and ship logs with http-log or file-log',
    )
    refused({ traces_endpoint: 'ftp://collector.test/' }, '.traces_endpoint: expected an http(s) URL')
  })

  it('accepts w3c and preserve, and refuses the other Kong header formats naming W3C as the one supported', () => {
    assert.equal(load({ traces_endpoint: ENDPOINT, header_type: 'w3c' }).header_type, 'w3c')
    assert.deepEqual(
      load({
        traces_endpoint: ENDPOINT,
        propagation: { extract: ['w3c'], inject: ['preserve'], clear: ['x-b3'] },
      }).propagation,
      { extract: ['w3c'], inject: ['preserve'], clear: ['x-b3'], default_format: 'w3c' },
    )
    const unsupported =
      ": header format 'b3' is not supported: Gatehouse reads and writes W3C Trace Context (traceparent, tracestate) only; use 'w3c'"
    refused({ traces_endpoint: ENDPOINT, header_type: 'b3' }, `.header_type${unsupported}`)
    refused(
      { traces_endpoint: ENDPOINT, propagation: { extract: ['b3'] } },
      `.propagation.extract[0]${unsupported}`,
    )
    refused(
      { traces_endpoint: ENDPOINT, propagation: { inject: ['b3'] } },
      `.propagation.inject[0]${unsupported}`,
    )
    refused(
      { traces_endpoint: ENDPOINT, header_type: 'zipkin' },
      '.header_type: expected one of: preserve, ignore, w3c, b3, b3-single, jaeger, ot, aws, gcp, datadog, instana',
    )
  })

  it('bounds sampling_rate to [0, 1] and checks header names', () => {
    assert.equal(load({ traces_endpoint: ENDPOINT, sampling_rate: 0.25 }).sampling_rate, 0.25)
    refused(
      { traces_endpoint: ENDPOINT, sampling_rate: 1.5 },
      '.sampling_rate: value should be between 0 and 1',
    )
    refused(
      { traces_endpoint: ENDPOINT, headers: { 'Bad Header': 'x' } },
      ".headers.Bad Header: bad header name 'Bad Header', allowed characters are A-Z, a-z, 0-9, '_', and '-'",
    )
    refused(
      { traces_endpoint: ENDPOINT, resource_attributes: { 'service.name': '' } },
      '.resource_attributes.service.name: required field missing',
    )
  })
})
