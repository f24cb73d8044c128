/**
 * State that outlives a configuration: sessions kept at the gateway (storage: server), sessions ended
 * by logout, and refresh outcomes. A reload (SIGHUP, admin) builds new plugin instances; signing every
 * browser out because a route changed would be wrong, so these live as long as the process, as the
 * internal-token key ring does. Keyed by what the sessions belong to (provider and client).
 */
const homes = new Map<string, unknown>()

export function processWide<T>(key: string, build: () => T): T {
  let value = homes.get(key) as T | undefined
  if (value === undefined) {
    value = build()
    homes.set(key, value)
  }
  return value
}

/** Every value whose key starts with `prefix`, with the rest of its key (a node's state for a new worker). */
export function processWideWith<T>(prefix: string): [string, T][] {
  return [...homes].flatMap(([key, value]) =>
    key.startsWith(prefix) ? [[key.slice(prefix.length), value as T]] : [],
  )
}
