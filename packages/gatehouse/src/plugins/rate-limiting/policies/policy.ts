/**
 * What a counter store does for one request, whatever it is (this node's memory, Redis): the contract
 * both policies implement and policy.contract.test.ts checks. As in Kong, a request is admitted only
 * while every window has room, and a refused request counts in none of them; unlike Kong's
 * read-then-increment (which lets concurrent requests through past the limit), the check and the
 * increments are one atomic step.
 */

/** `hit`'s answer from the counts before the request: the request is admitted while every window has room. */
export function tallyOf(before: readonly number[], limits: readonly number[]): Tally {
  const admitted = before.every((count, i) => count < limits[i]!)
  return { admitted, counts: admitted ? before.map((count) => count + 1) : [...before] }
}

/** The result for one request, windows in the order they were given. */
export interface Tally {
  readonly admitted: boolean
  /** Per window: the count including this request when admitted, the count before it when refused. */
  readonly counts: readonly number[]
}

export interface CounterPolicy {
  /**
   * Counts the request in every window (`keys[i]`, allowed `limits[i]`, kept until `expiresAt[i]`, epoch
   * ms) if none is full, else in none. Synchronous where the store allows; a rejection means the store
   * could not answer (fault_tolerant decides what the request gets).
   */
  hit(
    keys: readonly string[],
    limits: readonly number[],
    expiresAt: readonly number[],
    now: number,
  ): Tally | Promise<Tally>
  /**
   * What `hit` would answer now, counting nothing (a dry run: POST /explain): admitted while every
   * window has room, with the counts `hit` would give (this request included when admitted).
   */
  peek(
    keys: readonly string[],
    limits: readonly number[],
    expiresAt: readonly number[],
    now: number,
  ): Tally | Promise<Tally>
  /** Releases what the policy holds (a Redis connection). */
  close(): Promise<void>
}
