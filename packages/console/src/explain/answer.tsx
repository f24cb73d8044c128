/**
 * POST /explain's answer as the refusal page shows it: the outcome first (what the client would get), then
 * each plugin's verdict in the order the access phase ran them — with the status, the stable GH_ERR code
 * and the access log's reason code, the reason in words beside it —, whom they identified, and how the
 * gateway read what was sent (described, never the value: the admin API does not echo secrets).
 */
import { reasonInWords, VERDICTS } from './reasons.ts'

export interface Verdict {
  readonly name: string
  readonly id?: string
  readonly priority: number
  readonly scope: string
  readonly verdict: 'passed' | 'refused' | 'answered' | 'skipped' | 'not_evaluated'
  readonly status?: number | null
  readonly code?: string
  readonly reason?: string | null
  readonly message?: string
  readonly why?: string
}

export interface Explanation {
  readonly request: {
    readonly method?: string
    readonly path?: string
    readonly sent?: readonly {
      readonly where: string
      readonly name: string
      readonly scheme?: string
      readonly looks_like?: Readonly<Record<string, unknown>>
    }[]
  }
  readonly route: { readonly id: string; readonly name?: string | null } | null
  readonly routing?: string
  readonly plugins: readonly Verdict[]
  readonly consumer: { readonly id: string; readonly username?: string | null } | null
  readonly caller?: { readonly subject?: string; readonly method?: string } | null
  readonly outcome: {
    readonly result: 'refused' | 'answered' | 'composed' | 'forwarded'
    readonly status?: number
    readonly code?: string
    readonly reason?: string | null
    /** A gRPC call's refusal: the grpc-status its client reads (sent as HTTP 200). */
    readonly grpc_status?: number
    readonly service?: { readonly name?: string | null; readonly id?: string } | null
    readonly upstream?: { readonly method: string; readonly path: string } | null
  }
}

function Outcome({ outcome, message }: { outcome: Explanation['outcome']; message?: string | undefined }) {
  switch (outcome.result) {
    case 'refused': {
      const words = reasonInWords(outcome.reason, message)
      return (
        <p id="explain-outcome" class="notice notice-error" data-result="refused">
          <strong>Refused</strong> with {outcome.status} <code>{outcome.code}</code>
          {outcome.grpc_status !== undefined && (
            <> (the gRPC client reads grpc-status {outcome.grpc_status})</>
          )}
          {outcome.reason != null && (
            <>
              {' '}
              (reason <code>{outcome.reason}</code>)
            </>
          )}
          {words !== null && <span class="detail-inline"> {words}</span>}
        </p>
      )
    }
    case 'forwarded':
      return (
        <p id="explain-outcome" class="notice notice-ok" data-result="forwarded">
          <strong>Would be forwarded</strong> to service{' '}
          <code>{outcome.service?.name ?? outcome.service?.id ?? '?'}</code>
          {outcome.upstream != null && (
            <>
              {' '}
              as <code>{`${outcome.upstream.method} ${outcome.upstream.path}`}</code>
            </>
          )}
          . Nothing was sent upstream: this was a dry run.
        </p>
      )
    case 'answered':
      return (
        <p id="explain-outcome" class="notice" data-result="answered">
          <strong>Answered by a plugin</strong> with {outcome.status ?? 'its own answer'}; not forwarded.
        </p>
      )
    case 'composed':
      return (
        <p id="explain-outcome" class="notice notice-ok" data-result="composed">
          <strong>Composed</strong>: the route would call its parts.
        </p>
      )
  }
}

function VerdictRow({ v, n }: { v: Verdict; n: number }) {
  const words = reasonInWords(v.reason, v.message)
  const tone =
    v.verdict === 'refused'
      ? 'badge-bad'
      : v.verdict === 'passed'
        ? 'badge-ok'
        : v.verdict === 'answered'
          ? 'badge-warn'
          : 'badge-quiet'
  return (
    <tr data-plugin={v.name} data-verdict={v.verdict}>
      <td class="num">{n}</td>
      <th scope="row">
        {v.name}
        <span class="detail">
          {v.scope}, priority {v.priority}
        </span>
      </th>
      <td>
        <span class={`badge ${tone}`}>{VERDICTS[v.verdict] ?? v.verdict}</span>
      </td>
      <td data-field="status">{v.status ?? ''}</td>
      <td data-field="code">{v.code !== undefined && <code>{v.code}</code>}</td>
      <td data-field="reason" class="wrap">
        {v.reason != null && <code>{v.reason}</code>}
        {words !== null && <span class="detail">{words}</span>}
      </td>
      <td data-field="detail" class="wrap">
        {v.message ?? v.why ?? ''}
      </td>
    </tr>
  )
}

function looksLike(l: Readonly<Record<string, unknown>> | undefined): string {
  if (l === undefined) return ''
  return Object.entries(l)
    .map(([k, v]) => `${k}: ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
    .join(', ')
}

export function ExplanationView({ answer }: { answer: Explanation }) {
  const consumer = answer.consumer
  return (
    <section aria-labelledby="explain-result-title" id="explain-result">
      <h2 id="explain-result-title">The answer</h2>
      <Outcome
        outcome={answer.outcome}
        message={answer.plugins.find((p) => p.verdict === 'refused')?.message}
      />
      <dl class="facts">
        <dt>Route</dt>
        <dd id="explain-answer-route">
          {answer.route === null ? 'none matched' : <code>{answer.route.name ?? answer.route.id}</code>}
          {answer.routing !== undefined && <span class="detail">{answer.routing}</span>}
        </dd>
        <dt>Consumer</dt>
        <dd id="explain-consumer">
          {consumer === null ? 'none identified' : <code>{consumer.username ?? consumer.id}</code>}
        </dd>
      </dl>
      {/* biome-ignore lint/a11y/noNoninteractiveTabindex: a keyboard must be able to scroll the wide table sideways on a phone (axe: scrollable-region-focusable) */}
      <section class="table-scroll" tabIndex={0} aria-label="Plugin verdicts">
        <table class="data" id="explain-verdicts">
          <caption>Each plugin’s verdict, in the order the gateway runs them</caption>
          <thead>
            <tr>
              <th scope="col" class="num">
                #
              </th>
              <th scope="col">Plugin</th>
              <th scope="col">Verdict</th>
              <th scope="col">Status</th>
              <th scope="col">Code</th>
              <th scope="col">Reason</th>
              <th scope="col">Detail</th>
            </tr>
          </thead>
          <tbody>
            {answer.plugins.length === 0 ? (
              <tr>
                <td colSpan={7}>This route has no plugins: nothing checks the request.</td>
              </tr>
            ) : (
              answer.plugins.map((v, i) => <VerdictRow key={v.id ?? `${v.name}-${i}`} v={v} n={i + 1} />)
            )}
          </tbody>
        </table>
      </section>
      {(answer.request.sent?.length ?? 0) > 0 && (
        <>
          <h3>What the gateway read (described, never the value)</h3>
          <ul class="plain" id="explain-sent">
            {answer.request.sent!.map((s) => (
              <li key={`${s.where}:${s.name}`}>
                {s.where} <code>{s.name}</code>
                {s.scheme !== undefined && ` (${s.scheme})`}: {looksLike(s.looks_like)}
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  )
}
