/**
 * Login throttling over SQL. A failure is counted by one INSERT ... ON CONFLICT DO UPDATE ... RETURNING,
 * so concurrent failures (in this process or on other nodes) are never lost to a read-then-write race.
 */
import type { ThrottleState, ThrottleStore } from '../store.ts'
import type { SqlContext } from './context.ts'

export class SqlThrottleStore implements ThrottleStore {
  readonly #ctx: SqlContext

  constructor(ctx: SqlContext) {
    this.#ctx = ctx
  }

  // The state names the key as asked: PostgreSQL stores a NUL in it as U+FFFD (postgres.ts).
  async get(key: string): Promise<ThrottleState | undefined> {
    const row = await this.#ctx.db
      .selectFrom('login_throttle')
      .selectAll()
      .where('key', '=', key)
      .executeTakeFirst()
    return row && { ...row, key }
  }

  async recordFailure(key: string, now: number, windowSeconds: number): Promise<ThrottleState> {
    const row = await this.#ctx.db
      .insertInto('login_throttle')
      .values({ key, failures: 1, window_start: now, locked_until: null })
      .onConflict((oc) =>
        oc.column('key').doUpdateSet((eb) => {
          const stale = eb('login_throttle.window_start', '<', now - windowSeconds)
          return {
            failures: eb
              .case()
              .when(stale)
              .then(1)
              .else(eb('login_throttle.failures', '+', 1))
              .end(),
            window_start: eb.case().when(stale).then(now).else(eb.ref('login_throttle.window_start')).end(),
          }
        }),
      )
      .returningAll()
      .executeTakeFirstOrThrow()
    return { ...row, key }
  }

  /** Locks a key, counting no failure; a key without failures gets an empty window (start 0). */
  async lock(key: string, until: number): Promise<void> {
    await this.#ctx.db
      .insertInto('login_throttle')
      .values({ key, failures: 0, window_start: 0, locked_until: until })
      .onConflict((oc) =>
        oc.column('key').doUpdateSet((eb) => ({ locked_until: eb.ref('excluded.locked_until') })),
      )
      .execute()
  }

  async clear(key: string): Promise<void> {
    await this.#ctx.db.deleteFrom('login_throttle').where('key', '=', key).execute()
  }
}
