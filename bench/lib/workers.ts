/**
 * `gatehouse-workers2` (issue 11): plain `gatehouse`'s configuration started with `gatehouse start
 * --workers 2` — one node, a primary process and two worker processes (node:cluster) sharing the proxy
 * port. Every other Gatehouse node of the benchmark and the soak is started with GATEHOUSE_WORKERS=1, so
 * that `gatehouse` keeps meaning one worker whatever `gatehouse start`'s default (`auto`, one worker per
 * available CPU) and whether the servers are pinned.
 *
 * Pinning: the driver starts the primary under `taskset -c SERVER_CPUS`, and a CPU affinity is inherited
 * by every process forked from it, so the primary and both workers share the one server CPU, as every other
 * system does. On this 2-core machine two workers therefore cannot serve more than one; what the row shows
 * is the CPU time per request of the whole tree (lib/proc-tree.ts) against one worker's — the cost of the
 * cluster (the primary, IPC, two event loops and two upstream pools on one core), which carries over to a
 * machine with a core per worker — and the pre-run check proves the pinning by reading every process's
 * Cpus_allowed_list.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { cpusAllowed, snapshot, treeOf } from './proc-tree.ts'
import type { SystemDef } from './systems.ts'

export const WORKERS_SYSTEM = 'gatehouse-workers2'

/** Extra arguments of `gatehouse start` for `def`: `--workers N` when it has several workers. */
export function workersArgs(def: Pick<SystemDef, 'workers'>): string[] {
  return (def.workers ?? 1) > 1 ? ['--workers', String(def.workers)] : []
}

/** Environment for `def`'s nodes: one worker pinned by GATEHOUSE_WORKERS=1 unless the flag names more. */
export function workersEnv(def: Pick<SystemDef, 'workers'>): Record<string, string> {
  return (def.workers ?? 1) > 1 ? {} : { GATEHOUSE_WORKERS: '1' }
}

/**
 * The pre-run check of a node with several workers: within `timeoutMs` its process tree holds at least
 * `workers` processes besides the primary (a flag accepted and ignored would otherwise measure one process
 * under the system's name), and every one of them may run on the same CPUs as the primary (the whole tree
 * pinned, so CPU per request compares like with like).
 */
export async function checkWorkers(
  root: number,
  workers: number,
  timeoutMs = 15_000,
): Promise<{ ok: boolean; detail: string }> {
  const deadline = Date.now() + timeoutMs
  let tree = treeOf(snapshot(), root)
  while (tree.length < workers + 1 && Date.now() < deadline) {
    await sleep(200)
    tree = treeOf(snapshot(), root)
  }
  const cpus = tree.map((p) => cpusAllowed(p.pid) ?? 'gone')
  const described = tree.map((p, i) => `${p.pid} ${p.comm} (CPUs ${cpus[i]})`)
  const detail = `process tree: ${described.join(', ')}`
  if (tree.length < workers + 1)
    return {
      ok: false,
      detail: `${detail}: expected the primary and ${workers} workers, found ${tree.length} process(es) after ${timeoutMs / 1000} s`,
    }
  if (cpus.some((c) => c !== cpus[0]))
    return { ok: false, detail: `${detail}: not every process is pinned like the primary` }
  return { ok: true, detail: `${detail}: the primary and ${tree.length - 1} workers, all on CPUs ${cpus[0]}` }
}
