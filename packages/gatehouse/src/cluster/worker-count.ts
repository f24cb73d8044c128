/** `--workers`, GATEHOUSE_WORKERS and `proxy.workers`: a number of processes, or `auto`. */
import { availableParallelism } from 'node:os'

export type WorkerCount = number | 'auto'

/** The number `value` names (`auto`: the CPUs this process may use), or null when it names none. */
export function workerCount(value: string): number | null {
  if (value === 'auto') return availableParallelism()
  if (!/^[1-9][0-9]{0,3}$/.test(value)) return null
  const n = Number(value)
  return n <= 1024 ? n : null
}
