/**
 * Running a route's plugin chain for one phase. The access phase stays synchronous until a handler
 * returns a promise, so chains of synchronous plugins cost no microtask per step.
 */
import type { Span } from '@opentelemetry/api'
import { GatehouseError } from '../errors/errors.ts'
import type { RequestTrace } from '../observability/tracing/request-trace.ts'
import type { DryRun } from './dry-run.ts'
import type { PluginInstance, PluginStep } from './plugin-chain.ts'
import type { RequestState } from './request-state.ts'

/** The instance a step uses for this request: the consumer's own when there is one. */
function instanceFor(step: PluginStep, state: RequestState): PluginInstance | null {
  if (step.byConsumer !== null && state.consumer !== null) {
    const scoped = step.byConsumer.get(state.consumer.id)
    if (scoped) return scoped
  }
  return step.instance
}

/**
 * Runs access handlers from `from` on. Returns undefined when every handler finished synchronously,
 * else a promise that settles when the phase is done. Stops early once `state.exited` is set.
 */
export function runAccessPhase(state: RequestState, from = 0): Promise<void> | undefined {
  const steps = state.route!.chain.steps
  for (let i = from; i < steps.length; i++) {
    state.stepsRun = i + 1
    const instance = instanceFor(steps[i]!, state)
    if (state.chosenInstances !== null) state.chosenInstances[i] = instance
    if (instance?.handler.access === undefined) continue
    // A traced request: each plugin's access phase is a child span (null when not traced or sampled).
    const trace = state.trace
    const span = trace !== null ? trace.child(`access ${instance.entity.name}`, PLUGIN) : null
    let result: void | Promise<void>
    try {
      result = instance.handler.access(state)
    } catch (err) {
      const error = asPluginError(err, instance)
      if (span !== null) endPluginSpan(trace!, span, state, error)
      throw error
    }
    if (result !== undefined && typeof (result as Promise<void>).then === 'function') {
      return (result as Promise<void>).then(
        () => {
          if (span !== null) endPluginSpan(trace!, span, state, null)
          return state.exited ? undefined : runAccessPhase(state, i + 1)
        },
        (err: unknown) => {
          const error = asPluginError(err, instance)
          if (span !== null) endPluginSpan(trace!, span, state, error)
          throw error
        },
      )
    }
    if (span !== null) endPluginSpan(trace!, span, state, null)
    if (state.exited) return undefined
  }
  return undefined
}

/**
 * The access phase of a dry run (dry-run.ts, POST /explain): the same steps and instances as
 * runAccessPhase, each access handler awaited in turn, with what each decided recorded in `dryRun`; the
 * steps after the one that decided the request are recorded as not evaluated. A handler that throws
 * is recorded as the refusal it would be (`dryRun.failure`), as the pipeline answers it.
 */
export async function runAccessPhaseDry(state: RequestState, dryRun: DryRun): Promise<void> {
  state.dryRun = dryRun
  const steps = state.route!.chain.steps
  for (let i = 0; i < steps.length; i++) {
    const step = steps[i]!
    if (state.exited || dryRun.answeredBy !== null || dryRun.failure !== null) {
      dryRun.notEvaluated(step)
      continue
    }
    state.stepsRun = i + 1
    const instance = instanceFor(step, state)
    if (state.chosenInstances !== null) state.chosenInstances[i] = instance
    dryRun.begin(step, instance)
    let failure: GatehouseError | null = null
    if (instance?.handler.access !== undefined) {
      try {
        await instance.handler.access(state)
      } catch (err) {
        failure = asPluginError(err, instance)
      }
    }
    dryRun.end(state, failure)
  }
}

/**
 * The instance a step chose in the access phase. Response and log phases use the same one, even if a
 * consumer became known after that step ran (as Kong's plugin iterator does).
 */
function chosenFor(steps: readonly PluginStep[], i: number, state: RequestState): PluginInstance | null {
  return state.chosenInstances !== null ? (state.chosenInstances[i] ?? null) : steps[i]!.instance
}

export function runResponsePhase(state: RequestState): void {
  const count = state.stepsRun
  const steps = state.route!.chain.steps
  for (let i = 0; i < count; i++) {
    const instance = chosenFor(steps, i, state)
    if (instance?.handler.response === undefined) continue
    try {
      instance.handler.response(state)
    } catch (err) {
      state.error ??= asPluginError(err, instance)
    }
  }
}

/**
 * Every step's log handler, those after a plugin that answered included: a refusal (a 401 from key-auth,
 * a 429) is what a log plugin most needs to record. Kong's log phase does the same: after an exit it still
 * collects the remaining plugins and runs their `log`. A step that did not run uses the instance it would
 * have chosen.
 */
export function runLogPhase(state: RequestState, onError: (err: unknown, plugin: string) => void): void {
  const ran = state.stepsRun
  const steps = state.route!.chain.steps
  for (let i = 0; i < steps.length; i++) {
    const instance = i < ran ? chosenFor(steps, i, state) : instanceFor(steps[i]!, state)
    if (instance?.handler.log === undefined) continue
    try {
      instance.handler.log(state)
    } catch (err) {
      onError(err, instance.entity.name)
    }
  }
}

const PLUGIN = { 'gatehouse.phase': 'access' }

/** A plugin's access span: an error when it threw, and the status when it answered the request itself. */
function endPluginSpan(
  trace: RequestTrace,
  span: Span,
  state: RequestState,
  error: GatehouseError | null,
): void {
  if (error !== null) span.setAttribute('gatehouse.error_code', error.code)
  else if (state.exited && state.response !== null)
    span.setAttribute('gatehouse.exit_status', state.response.status)
  trace.endChild(span, error?.code ?? null)
}

function asPluginError(err: unknown, instance: PluginInstance): GatehouseError {
  if (err instanceof GatehouseError) return err
  return new GatehouseError('GH_ERR_PLUGIN_FAILED', 'An unexpected error occurred', {
    detail: `plugin '${instance.entity.name}' (${instance.entity.id}) failed: ${(err as Error)?.message ?? String(err)}`,
    cause: err,
  })
}
