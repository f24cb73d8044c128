/**
 * Whether this node should receive traffic (`/status/ready`, Kubernetes' readiness probe): it is not
 * shutting down, and every dependency it is configured with answers a trivial request within a second
 * (the store a `select 1`, Redis a PING), checked at once in parallel. A dependency that hangs counts as
 * down: a probe must answer before the orchestrator's own timeout. The configuration is always loaded
 * here: the listeners open only after the first one is.
 */

/** Milliseconds each dependency has to answer. */
export const DEPENDENCY_TIMEOUT_MS = 1000

export interface Dependency {
  /** As the answer names it: `store`, `redis`. */
  readonly name: string
  /** Resolves when the dependency answered; rejects (or never settles) when it did not. */
  check(): Promise<void>
}

export type DependencyState = 'ok' | 'unavailable'

export interface Readiness {
  readonly ready: boolean
  readonly draining: boolean
  /** `configuration` and each configured dependency; an unconfigured one is absent. */
  readonly checks: Readonly<Record<string, DependencyState>>
  /** The dependencies that did not answer, in the order checked. */
  readonly failed: readonly string[]
}

export async function checkReadiness(
  draining: boolean,
  dependencies: readonly Dependency[],
  timeout = DEPENDENCY_TIMEOUT_MS,
): Promise<Readiness> {
  const states = await Promise.all(dependencies.map((d) => answers(d, timeout)))
  const checks: Record<string, DependencyState> = { configuration: 'ok' }
  const failed: string[] = []
  dependencies.forEach((d, i) => {
    checks[d.name] = states[i]!
    if (states[i] === 'unavailable') failed.push(d.name)
  })
  return { ready: !draining && failed.length === 0, draining, checks, failed }
}

async function answers(dependency: Dependency, timeout: number): Promise<DependencyState> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timed out')), timeout)
  })
  try {
    await Promise.race([dependency.check(), late])
    return 'ok'
  } catch {
    return 'unavailable'
  } finally {
    clearTimeout(timer)
  }
}
