/**
 * Shared by the configuration tests: load a YAML text in-process with the bundled plugins, or collect
 * the `FILE: path: message` lines its rejection prints.
 */
import assert from 'node:assert/strict'
import { loadConfigText } from '../../src/config/load.ts'
import type { GatewayConfig } from '../../src/config/model.ts'
import { ConfigError, type GatehouseErrorCode } from '../../src/errors/errors.ts'
import { loadBundledPlugins } from '../../src/plugins/registry.ts'

export const registry = await loadBundledPlugins()
export const FILE = 'gatehouse.yaml'

export function load(text: string, env: NodeJS.ProcessEnv = {}, nowSeconds = 1_700_000_000): GatewayConfig {
  return loadConfigText(text, FILE, { registry, env, nowSeconds })
}

/** The `FILE: path: message` lines of the ConfigError that loading `text` throws. */
export function problems(
  text: string,
  env: NodeJS.ProcessEnv = {},
  code: GatehouseErrorCode = 'GH_ERR_CONFIG_INVALID',
): string[] {
  try {
    load(text, env)
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`)
    assert.equal(err.code, code)
    assert.equal(err.issues.length, err.message.split('\n').length)
    return err.message.split('\n')
  }
  assert.fail('expected the configuration to be rejected')
}

/** A file with one service `orders` and whatever YAML follows (indented as top-level keys). */
export function withService(rest: string): string {
  return `_format_version: "3.0"
services:
- name: orders
  url: http://orders.internal:8080
${rest}`
}
