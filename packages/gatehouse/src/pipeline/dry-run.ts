/**
 * A dry run of a request's access phase ("Why was this refused?", POST /explain, issue 12): the plugin
 * runner (plugin-phases.ts runAccessPhaseDry) runs every plugin's own access handler, in the route's
 * order, on a request that is never forwarded, and records what each decided. So the explanation comes
 * from the code real requests run and cannot drift from it.
 *
 * A plugin sees `state.dryRun !== null` and then does nothing that outlives the request, saying instead
 * what it found or would have done (`note`):
 *   rate-limiting   reads the counters (CounterPolicy.peek) instead of counting the request;
 *   internal-token  says what it would sign (claims, audience, key) and signs nothing; a user-info answer
 *                   is taken from its cache, never asked for;
 *   session         refreshes, touches and ends no session and sets no cookie; its own paths
 *                   (login, callback, logout, session info) are not run (`wouldAnswer`);
 *   proxy-cache     looks up, and stores nothing;
 *   openid-connect  neither checks a DPoP proof's jti against the used ones nor records it.
 * A plugin also says why it did nothing for this request (`skip`: an OPTIONS preflight it leaves alone,
 * an earlier plugin already identified the caller). Everything else a plugin does on a real request
 * only changes this request's state, which a dry run throws away.
 */
import type { GatehouseError } from '../errors/errors.ts'
import type { PluginInstance, PluginStep } from './plugin-chain.ts'
import type { RequestState } from './request-state.ts'

export type Verdict = 'passed' | 'refused' | 'answered' | 'skipped' | 'not_evaluated'

/** What one plugin of the route's chain decided, in the order the access phase runs them. */
export interface StepVerdict {
  readonly name: string
  /** The instance's id; null when the step had none for this caller (consumer-scoped only). */
  readonly id: string | null
  readonly priority: number
  /** Where the instance is attached: `global`, or the entities it is scoped to (`route`, `service`, `consumer`). */
  readonly scope: string
  readonly verdict: Verdict
  /** `refused` and `answered`: the status the client would get (null when not known without running it). */
  readonly status?: number | null
  /** `refused`: the stable code and reason, as the access log's error_code and error_detail. */
  readonly code?: string
  readonly reason?: string | null
  readonly message?: string
  /** `skipped` and `answered`-without-running: why. */
  readonly why?: string
  /** What the plugin found or would have done (its own words, never a credential). */
  readonly notes?: Readonly<Record<string, unknown>>
}

interface Current {
  readonly step: PluginStep
  readonly instance: PluginInstance | null
  skipped: string | null
  answers: string | null
  notes: Record<string, unknown> | null
}

export class DryRun {
  readonly verdicts: StepVerdict[] = []
  /** Set when a plugin would answer the request itself (`wouldAnswer`): the steps after it do not run. */
  answeredBy: { readonly plugin: string; readonly what: string } | null = null
  /** A plugin's access handler threw: the request would be answered with this error. */
  failure: GatehouseError | null = null
  #current: Current | null = null

  /** Plugin API: this plugin does nothing for this request, and why. The first reason given is kept. */
  skip(why: string): void {
    if (this.#current !== null) this.#current.skipped ??= why
  }

  /** Plugin API: something the plugin found or would have done, under a key of its choosing. */
  note(key: string, value: unknown): void {
    if (this.#current === null) return
    this.#current.notes ??= {}
    this.#current.notes[key] = value
  }

  /**
   * Plugin API: the plugin would answer this request itself in a way a dry run does not perform (a
   * sign-in redirect, a callback spending a one-time code); it returns without doing it.
   */
  wouldAnswer(what: string): void {
    if (this.#current !== null) this.#current.answers = what
  }

  /** Runner: the step about to run (before its access handler; the request is not decided yet). */
  begin(step: PluginStep, instance: PluginInstance | null): void {
    this.#current = { step, instance, skipped: null, answers: null, notes: null }
  }

  /** Runner: the step has run (or threw `failure`); records its verdict from what it did to the request. */
  end(state: RequestState, failure: GatehouseError | null = null): void {
    const c = this.#current
    if (c === null) return
    this.#current = null
    const id = identify(c.step, c.instance)
    const notes = c.notes !== null ? { notes: c.notes } : {}
    const verdict = (v: Omit<StepVerdict, keyof typeof id | 'notes'>): void => {
      this.verdicts.push({ ...id, ...v, ...notes })
    }
    if (failure !== null) {
      this.failure = failure
      verdict({
        verdict: 'refused',
        status: failure.status,
        code: failure.code,
        reason: failure.detail ?? null,
        message: failure.expose ? failure.message : 'An unexpected error occurred',
      })
    } else if (state.exited) {
      const error = state.error
      const status = state.response?.status ?? null
      if (error === null) verdict({ verdict: 'answered', status })
      else
        verdict({
          verdict: 'refused',
          status,
          code: error.code,
          reason: error.detail ?? null,
          message: error.expose ? error.message : 'An unexpected error occurred',
        })
    } else if (c.answers !== null) {
      this.answeredBy = { plugin: c.step.name, what: c.answers }
      verdict({ verdict: 'answered', status: null, why: c.answers })
    } else if (c.instance === null)
      verdict({
        verdict: 'skipped',
        why: 'configured for other consumers only (consumer-scoped instances), not this caller',
      })
    else if (c.instance.handler.access === undefined)
      verdict({ verdict: 'skipped', why: 'no access phase: it acts on the response or the log only' })
    else if (c.skipped !== null) verdict({ verdict: 'skipped', why: c.skipped })
    else verdict({ verdict: 'passed' })
  }

  /** Runner: a step after the request was decided. */
  notEvaluated(step: PluginStep): void {
    this.verdicts.push({ ...identify(step, step.instance), verdict: 'not_evaluated' })
  }
}

function identify(step: PluginStep, instance: PluginInstance | null) {
  const entity = instance?.entity ?? null
  const scope =
    entity === null
      ? []
      : [entity.route && 'route', entity.service && 'service', entity.consumer && 'consumer']
  return {
    name: step.name,
    id: entity?.id ?? null,
    priority: step.priority,
    scope: entity === null ? 'consumer' : scope.filter(Boolean).join('+') || 'global',
  }
}
