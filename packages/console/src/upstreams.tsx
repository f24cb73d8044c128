/**
 * The Upstreams page: each upstream with its targets as this node sees them (GET /upstreams/{u}/health:
 * Kong's shape), their weights and health, each address the target resolves to with its own health, and
 * the failures each address showed (connection failures, timeouts, failing statuses; the latest with its
 * time), which the report adds to Kong's shape.
 */
import { useEffect, useState } from 'preact/hooks'
import { AdminError, adminGet } from './api.ts'

interface Props {
  readonly token: string | null
  readonly onUnauthorized: (message: string) => void
}

interface Upstream {
  readonly id: string
  readonly name: string
  readonly algorithm?: string
}

interface Failures {
  readonly tcp_failures: number
  readonly timeouts: number
  readonly http_failures: number
  readonly last: { readonly kind: string; readonly at: string } | null
}

interface Address {
  readonly ip: string
  readonly port: number
  readonly health: string
  readonly weight: number
  readonly failures?: Failures
}

interface TargetHealth {
  readonly id: string
  readonly target: string
  readonly weight: number
  readonly health: string
  readonly data: {
    readonly addresses: readonly Address[]
    readonly weight: { readonly total: number; readonly available: number; readonly unavailable: number }
  }
}

const REFRESH_MS = 5000

function badge(health: string): string {
  return health === 'HEALTHY' ? 'badge badge-ok' : health === 'HEALTHCHECKS_OFF' ? 'badge' : 'badge badge-bad'
}

const KIND: Readonly<Record<string, string>> = {
  tcp_failure: 'connection failure',
  timeout: 'timeout',
  http_failure: 'failing status',
}

/** An address's failures in words: "2 connection failures, 1 timeout; last: timeout at 12:03:04". */
function failuresText(f: Failures | undefined): string {
  if (f === undefined) return '—'
  const parts = [
    [f.tcp_failures, 'connection failure'],
    [f.timeouts, 'timeout'],
    [f.http_failures, 'failing status'],
  ]
    .filter(([n]) => (n as number) > 0)
    .map(([n, what]) => `${n} ${what}${n === 1 ? '' : 's'}`)
  if (parts.length === 0) return 'none'
  const last =
    f.last === null
      ? ''
      : `; last: ${KIND[f.last.kind] ?? f.last.kind} at ${new Date(f.last.at).toLocaleTimeString()}`
  return `${parts.join(', ')}${last}`
}

export function Upstreams({ token, onUnauthorized }: Props) {
  const [upstreams, setUpstreams] = useState<readonly Upstream[] | null>(null)
  const [health, setHealth] = useState<Readonly<Record<string, readonly TargetHealth[]>>>({})
  const [error, setError] = useState<string | null>(null)
  useEffect(() => {
    let timer: number | undefined
    let stopped = false
    const load = async () => {
      try {
        const list = (await adminGet<{ data: Upstream[] }>('/upstreams', token)).data
        const reports = await Promise.all(
          list.map((u) =>
            adminGet<{ data: TargetHealth[] }>(`/upstreams/${encodeURIComponent(u.id)}/health`, token),
          ),
        )
        if (stopped) return
        setUpstreams(list)
        setHealth(Object.fromEntries(list.map((u, i) => [u.id, reports[i]!.data])))
        setError(null)
      } catch (err) {
        if (err instanceof AdminError && err.status === 401) return onUnauthorized(err.message)
        setError(err instanceof Error ? err.message : String(err))
      }
      if (!stopped) timer = window.setTimeout(load, REFRESH_MS)
    }
    void load()
    return () => {
      stopped = true
      window.clearTimeout(timer)
    }
  }, [token])

  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title" tabIndex={-1}>
        Upstreams
      </h1>
      <p class="muted">
        This node's view of its targets' health, read every 5 seconds; each node checks on its own.
      </p>
      {error !== null && (
        <p class="notice notice-error" role="alert">
          {error}
        </p>
      )}
      {upstreams === null && error === null && <p class="loading">Loading…</p>}
      {upstreams !== null && upstreams.length === 0 && (
        <p class="muted">No upstreams: services send to the host their URL names.</p>
      )}
      {upstreams?.map((u) => (
        <div class="card card-wide" key={u.id} data-upstream={u.name}>
          <h2 id={`upstream-${u.id}`}>
            {u.name} {u.algorithm !== undefined && <span class="muted small">({u.algorithm})</span>}
          </h2>
          {/* biome-ignore lint/a11y/noNoninteractiveTabindex: a table that scrolls sideways (on a phone) must be reachable by keyboard */}
          <section class="table-scroll" tabIndex={0} aria-labelledby={`upstream-${u.id}`}>
            <table aria-labelledby={`upstream-${u.id}`} class="entity-table">
              <thead>
                <tr>
                  <th scope="col">Target</th>
                  <th scope="col">Health</th>
                  <th scope="col">Weight</th>
                  <th scope="col">Available weight</th>
                  <th scope="col">Addresses</th>
                  <th scope="col">Recent failures</th>
                </tr>
              </thead>
              <tbody>
                {(health[u.id] ?? []).map((t) => (
                  <tr key={t.id} data-target={t.target}>
                    <td>
                      <code>{t.target}</code>
                    </td>
                    <td>
                      <span class={badge(t.health)} data-field="health">
                        {t.health}
                      </span>
                    </td>
                    <td data-field="weight">{t.weight}</td>
                    <td data-field="available">
                      {t.data.weight.available} of {t.data.weight.total}
                    </td>
                    <td class="small">
                      {t.data.addresses.length === 0
                        ? '—'
                        : t.data.addresses.map((a) => (
                            <div key={`${a.ip}:${a.port}`}>
                              {a.ip}:{a.port} {a.health}
                            </div>
                          ))}
                    </td>
                    <td class="small" data-field="failures">
                      {t.data.addresses.length === 0
                        ? '—'
                        : t.data.addresses.map((a) => (
                            <div key={`${a.ip}:${a.port}`}>
                              {t.data.addresses.length > 1 && `${a.ip}:${a.port}: `}
                              {failuresText(a.failures)}
                            </div>
                          ))}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </section>
        </div>
      ))}
    </section>
  )
}
