/**
 * Shared by the DB-mode tests: admin API calls with JSON bodies, polling with a deadline, the loader's
 * own issues for a declarative document, and configuration files that put a node in DB mode.
 */
import { loadConfigObject } from '../../src/config/load.ts'
import { ConfigError, type ConfigIssue } from '../../src/errors/errors.ts'
import { registry } from '../harness/config.ts'
import type { GatehouseProcess } from '../harness/gatehouse.ts'

export interface Answer {
  status: number
  // biome-ignore lint/suspicious/noExplicitAny: JSON answers are checked field by field
  body: any
}

/** `METHOD path` on the node's admin API, with `body` as JSON. */
export async function admin(
  gh: GatehouseProcess,
  method: string,
  path: string,
  body?: unknown,
): Promise<Answer> {
  const res = await gh.admin(path, {
    method,
    ...(body === undefined
      ? {}
      : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  })
  const text = await res.text()
  return { status: res.status, body: text === '' ? null : JSON.parse(text) }
}

/**
 * Calls `probe` every 20 ms until `done` holds for its value; resolves with the milliseconds it took.
 * Fails after `deadline` ms, showing the last value.
 */
export async function until<T>(
  probe: () => Promise<T>,
  done: (value: T) => boolean,
  deadline = 5000,
): Promise<number> {
  const start = performance.now()
  for (;;) {
    const value = await probe()
    if (done(value)) return performance.now() - start
    if (performance.now() - start > deadline)
      throw new Error(`not within ${deadline} ms; last seen: ${JSON.stringify(value)}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/** The loader's issues for a declarative document (none when it loads). */
export function fileIssues(document: object): ConfigIssue[] {
  try {
    loadConfigObject(document, 'gatehouse.yaml', { registry, env: {} })
    return []
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    return [...err.issues]
  }
}

/** A configuration file that keeps entities in the store. */
export function dbModeConfig(storage: object, extra: object = {}): object {
  return { _format_version: '3.0', storage: { ...storage, entities: 'database' }, ...extra }
}
