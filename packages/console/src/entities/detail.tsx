/**
 * One entity: its fields as the admin API shows them (nothing more: secrets the API leaves out stay
 * out), edit and delete in DB mode; a route's plugins in the order they run
 * (GET /routes/{route}/plugins/effective: the chain the proxy compiled); a consumer's credentials, and
 * adding one.
 */
import { useEffect, useState } from 'preact/hooks'
import { adminGet } from '../api.ts'
import { EntityForm } from './form.tsx'
import { adminWrite, type Entity, go, type Kind, labelOf, type PageOf } from './model.ts'

interface Props {
  readonly kinds: readonly Kind[]
  readonly kind: Kind
  readonly id: string
  readonly editing: boolean
  readonly writable: boolean
  readonly token: string | null
}

function show(value: unknown): string {
  if (value === null || value === undefined) return '—'
  if (Array.isArray(value))
    return value.length === 0
      ? '—'
      : value.map((v) => (typeof v === 'object' ? JSON.stringify(v) : String(v))).join(', ')
  if (typeof value === 'object') return JSON.stringify(value, null, 2)
  return String(value)
}

/** The entity kinds a reference field (`{ "id": … }`) points to, for a link to its detail. */
const REFERENCES: Readonly<Record<string, string>> = {
  service: 'services',
  route: 'routes',
  consumer: 'consumers',
}

/** A field's value: a reference as a link, a timestamp also as a UTC date, anything else as text. */
function Value({ name, value }: { readonly name: string; readonly value: unknown }) {
  const ref = (value as { id?: unknown } | null)?.id
  if (name in REFERENCES && typeof ref === 'string')
    return <a href={`#/entities/${REFERENCES[name]}/${encodeURIComponent(ref)}`}>{ref}</a>
  // Kong's created_at/updated_at are Unix seconds; the raw number stays for scripts and comparisons.
  if (name.endsWith('_at') && typeof value === 'number')
    return (
      <>
        {new Date(value * 1000)
          .toISOString()
          .replace('T', ' ')
          .replace(/\.\d+Z$/, ' UTC')}{' '}
        <span class="muted small">({value})</span>
      </>
    )
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) return <pre>{show(value)}</pre>
  return <>{show(value)}</>
}

export function Detail({ kinds, kind, id, editing, writable, token }: Props) {
  const [entity, setEntity] = useState<Entity | null>(null)
  const [error, setError] = useState<string | null>(null)
  const [confirming, setConfirming] = useState(false)
  const path = `/${kind.collection}/${encodeURIComponent(id)}`
  useEffect(() => {
    adminGet<Entity>(path, token).then(setEntity, (err) =>
      setError(err instanceof Error ? err.message : String(err)),
    )
  }, [path])

  const remove = async () => {
    try {
      await adminWrite('DELETE', path, token)
      go(kind.collection)
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err))
      setConfirming(false)
    }
  }
  const singular = kind.title.toLowerCase().replace(/s$/, '')
  return (
    <div class="card card-wide entity-detail">
      <p class="small">
        <a href={`#/entities/${kind.collection}`}>← All {kind.title.toLowerCase()}</a>
      </p>
      {error !== null && (
        <p class="notice notice-error" role="alert">
          {error}
        </p>
      )}
      {entity === null ? (
        error === null && <p class="loading">Loading…</p>
      ) : editing ? (
        <>
          <h2>
            Edit {singular} {labelOf(entity)}
          </h2>
          <EntityForm
            kind={kind}
            token={token}
            entity={entity}
            onSaved={() => go(kind.collection, entity.id)}
            onCancel={() => go(kind.collection, entity.id)}
          />
        </>
      ) : (
        <>
          <div class="section-head">
            <h2 id="entity-title">{kind.credential ? singular : `${singular} ${labelOf(entity)}`}</h2>
            {writable && (
              <span class="actions">
                <a
                  class="button-link"
                  href={`#/entities/${kind.collection}/${encodeURIComponent(entity.id)}/edit`}
                >
                  Edit
                </a>{' '}
                {confirming ? (
                  <>
                    <button type="button" class="danger" onClick={() => void remove()}>
                      Yes, delete
                    </button>{' '}
                    <button type="button" class="plain" onClick={() => setConfirming(false)}>
                      Keep it
                    </button>
                  </>
                ) : (
                  <button type="button" class="danger" onClick={() => setConfirming(true)}>
                    Delete
                  </button>
                )}
              </span>
            )}
          </div>
          <dl class="fields" aria-labelledby="entity-title">
            {Object.entries(entity).map(([k, v]) => (
              <div key={k} data-field={k}>
                <dt>{k}</dt>
                <dd>
                  <Value name={k} value={v} />
                </dd>
              </div>
            ))}
          </dl>
          {kind.collection === 'routes' && <EffectivePlugins route={entity.id} token={token} />}
          {kind.collection === 'consumers' &&
            kinds
              .filter((k) => k.credential)
              .map((k) => (
                <Credentials
                  key={k.collection}
                  kind={k}
                  consumer={entity}
                  token={token}
                  writable={writable}
                />
              ))}
        </>
      )}
    </div>
  )
}

interface Step {
  readonly order: number
  readonly name: string
  readonly priority: number
  readonly band: string | null
  readonly instance: { readonly id: string; readonly scope: string } | null
  readonly consumer_scoped: readonly {
    readonly id: string
    readonly scope: string
    readonly consumer: { id: string } | null
  }[]
}

function EffectivePlugins({ route, token }: { readonly route: string; readonly token: string | null }) {
  const [steps, setSteps] = useState<readonly Step[] | null>(null)
  const [error, setError] = useState<string | null>(null)
  useEffect(() => {
    adminGet<{ data: Step[] }>(`/routes/${encodeURIComponent(route)}/plugins/effective`, token).then(
      (r) => setSteps(r.data),
      (err) => setError(err instanceof Error ? err.message : String(err)),
    )
  }, [route])
  return (
    <section aria-labelledby="effective-title">
      <h3 id="effective-title">Plugins on this route, in the order they run</h3>
      {error !== null && <p class="notice notice-error">{error}</p>}
      {steps !== null && steps.length === 0 && <p class="muted">No plugin applies to this route.</p>}
      {steps !== null && steps.length > 0 && (
        <ol class="effective" id="effective-plugins">
          {steps.map((s) => (
            <li key={s.name} data-plugin={s.name}>
              <strong>{s.name}</strong>{' '}
              <span class="muted small">
                priority {s.priority}
                {s.band ? `, ${s.band}` : ''}
              </span>
              {' — '}
              {s.instance === null ? (
                'only for some consumers'
              ) : (
                <a href={`#/entities/plugins/${encodeURIComponent(s.instance.id)}`}>{s.instance.scope}</a>
              )}
              {s.consumer_scoped.length > 0 && (
                <span class="small">
                  {'; replaced for '}
                  {s.consumer_scoped.map((c, i) => (
                    <span key={c.id}>
                      {i > 0 && ', '}
                      <a href={`#/entities/plugins/${encodeURIComponent(c.id)}`}>
                        consumer {c.consumer?.id ?? ''} ({c.scope})
                      </a>
                    </span>
                  ))}
                </span>
              )}
            </li>
          ))}
        </ol>
      )}
    </section>
  )
}

function Credentials({
  kind,
  consumer,
  token,
  writable,
}: {
  readonly kind: Kind
  readonly consumer: Entity
  readonly token: string | null
  readonly writable: boolean
}) {
  const [items, setItems] = useState<readonly Entity[] | null>(null)
  const [adding, setAdding] = useState(false)
  const [created, setCreated] = useState<Entity | null>(null)
  const [failed, setFailed] = useState<string | null>(null)
  const base = kind.underConsumer?.replace('{consumer}', encodeURIComponent(consumer.id)) ?? null
  const load = () => {
    if (base === null) return
    adminGet<PageOf<Entity>>(base, token).then(
      (p) => {
        setItems(p.data)
        setFailed(null)
      },
      // Said, not shown as "None": an empty list would claim the consumer has no such credential.
      (err) => setFailed(err instanceof Error ? err.message : String(err)),
    )
  }
  useEffect(load, [base])
  if (base === null) return null
  const headingId = `cred-${kind.collection}`
  return (
    <section aria-labelledby={headingId} class="credentials" data-kind={kind.collection}>
      <div class="section-head">
        <h3 id={headingId}>{kind.title}</h3>
        {writable && !adding && (
          <button type="button" onClick={() => setAdding(true)}>
            Add {kind.collection.replace(/s$/, '')}
          </button>
        )}
      </div>
      {created !== null && (
        <p class="notice" role="status">
          Created {kind.collection.replace(/s$/, '')} <code>{created.id}</code>.
        </p>
      )}
      {adding && (
        <EntityForm
          kind={kind}
          token={token}
          entity={null}
          createPath={base}
          fixed={['consumer']}
          onSaved={(e) => {
            setAdding(false)
            setCreated(e)
            load()
          }}
          onCancel={() => setAdding(false)}
        />
      )}
      {failed !== null && (
        <p class="notice notice-error" role="alert">
          {failed}
        </p>
      )}
      {items !== null && items.length === 0 && <p class="muted small">None.</p>}
      {items !== null && items.length > 0 && (
        <ul>
          {items.map((c) => (
            <li key={c.id} data-id={c.id}>
              <a href={`#/entities/${kind.collection}/${encodeURIComponent(c.id)}`}>{labelOf(c)}</a>
            </li>
          ))}
        </ul>
      )}
    </section>
  )
}
