/**
 * The Entities page: one list per kind (services, routes, consumers, plugins, each credential) with
 * search and the admin API's tag filter and paging; an entity's detail (a route's plugins in the order
 * they run, a consumer's credentials); in DB mode creating, editing and deleting; on a DB-less node
 * read-only, with the admin API's reason, and the entities downloadable as a declarative file.
 * Locations: `#/entities/<collection>`, `…/<collection>/new`, `…/<collection>/<id>`, `…/<id>/edit`.
 */
import { useEffect, useState } from 'preact/hooks'
import { AdminError, adminGet } from '../api.ts'
import { Detail } from './detail.tsx'
import { declarativeDocument, download } from './export.ts'
import { EntityForm } from './form.tsx'
import {
  type Entity,
  go,
  type Kind,
  labelOf,
  loadKinds,
  matches,
  type PageOf,
  summaryOf,
  writeMode,
} from './model.ts'

interface Props {
  readonly token: string | null
  readonly onUnauthorized: (message: string) => void
}

type Mode = { readonly writable: true } | { readonly writable: false; readonly reason: string }

function useLocation(): readonly string[] {
  const parts = () => location.hash.replace(/^#\/?/, '').split('/').slice(1).map(decodeURIComponent)
  const [at, setAt] = useState(parts)
  useEffect(() => {
    const on = () => setAt(parts())
    window.addEventListener('hashchange', on)
    return () => window.removeEventListener('hashchange', on)
  }, [])
  return at
}

export function Entities({ token, onUnauthorized }: Props) {
  const [kinds, setKinds] = useState<readonly Kind[] | null>(null)
  const [mode, setMode] = useState<Mode | null>(null)
  const [error, setError] = useState<string | null>(null)
  const at = useLocation()
  useEffect(() => {
    Promise.all([loadKinds(token), writeMode(token)]).then(
      ([k, m]) => {
        setKinds(k)
        setMode(m)
      },
      (err) => {
        if (err instanceof AdminError && err.status === 401) onUnauthorized(err.message)
        else setError(err instanceof Error ? err.message : String(err))
      },
    )
  }, [token])

  const kind = kinds?.find((k) => k.collection === at[0]) ?? kinds?.[0]
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title" tabIndex={-1}>
        Entities
      </h1>
      {error !== null && (
        <p class="notice notice-error" role="alert">
          {error}
        </p>
      )}
      {mode !== null && !mode.writable && (
        <div class="notice read-only" id="read-only">
          <p>
            <strong>Read-only:</strong> {mode.reason}. This node runs a declarative file (DB-less); change the
            file and reload it (<code>POST /config</code>, or a restart).
          </p>
          <DownloadButton kinds={kinds ?? []} token={token} />
        </div>
      )}
      {kinds === null || kind === undefined || mode === null ? (
        error === null && <p class="loading">Loading…</p>
      ) : (
        <>
          <nav aria-label="Entity kinds" class="kinds">
            <ul>
              {kinds.map((k) => (
                <li key={k.collection}>
                  <a
                    href={`#/entities/${k.collection}`}
                    // `location`, not `page`: the page is Entities (the main navigation says so); this is where in it.
                    aria-current={k === kind ? 'location' : undefined}
                    data-kind={k.collection}
                  >
                    {k.title}
                  </a>
                </li>
              ))}
            </ul>
          </nav>
          {at[1] === 'new' && mode.writable ? (
            <div class="card card-wide">
              <h2>New {kind.title.toLowerCase().replace(/s$/, '')}</h2>
              <EntityForm
                kind={kind}
                token={token}
                entity={null}
                onSaved={(e) => go(kind.collection, e.id)}
                onCancel={() => go(kind.collection)}
              />
            </div>
          ) : at[1] !== undefined && at[1] !== 'new' ? (
            <Detail
              key={`${kind.collection}/${at[1]}/${at[2] ?? ''}`}
              kinds={kinds}
              kind={kind}
              id={at[1]}
              editing={at[2] === 'edit' && mode.writable}
              writable={mode.writable}
              token={token}
            />
          ) : (
            <List key={kind.collection} kind={kind} token={token} writable={mode.writable} />
          )}
        </>
      )}
    </section>
  )
}

function DownloadButton({
  kinds,
  token,
}: {
  readonly kinds: readonly Kind[]
  readonly token: string | null
}) {
  const [state, setState] = useState<string | null>(null)
  const run = async () => {
    setState('Preparing…')
    try {
      download(await declarativeDocument(kinds, token), 'gatehouse-entities.json')
      setState('Downloaded gatehouse-entities.json.')
    } catch (err) {
      setState(`Could not prepare the file: ${err instanceof Error ? err.message : String(err)}`)
    }
  }
  return (
    <p>
      <button type="button" onClick={() => void run()} id="download-declarative">
        Download as declarative file
      </button>{' '}
      <span role="status" class="small">
        {state ?? ''}
      </span>
    </p>
  )
}

function List({
  kind,
  token,
  writable,
}: {
  readonly kind: Kind
  readonly token: string | null
  readonly writable: boolean
}) {
  const [items, setItems] = useState<readonly Entity[]>([])
  const [next, setNext] = useState<string | null>(null)
  const [search, setSearch] = useState('')
  const [tags, setTags] = useState('')
  const [applied, setApplied] = useState('')
  const [error, setError] = useState<string | null>(null)
  const [loading, setLoading] = useState(true)

  const load = async (path: string, append: boolean) => {
    setLoading(true)
    try {
      const page = await adminGet<PageOf<Entity>>(path, token)
      setItems((old) => (append ? [...old, ...page.data] : page.data))
      setNext(page.next)
      setError(null)
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err))
      if (!append) setItems([])
    } finally {
      setLoading(false)
    }
  }
  useEffect(() => {
    const q = applied === '' ? '' : `?tags=${encodeURIComponent(applied)}`
    void load(`/${kind.collection}${q}`, false)
  }, [kind.collection, applied])

  const shown = items.filter((e) => matches(e, search))
  const singular = kind.title.toLowerCase().replace(/s$/, '')
  return (
    <div class="card card-wide">
      <div class="section-head">
        <h2 id="list-title">{kind.title}</h2>
        {writable && !kind.credential && (
          <a class="button-link" href={`#/entities/${kind.collection}/new`}>
            New {singular}
          </a>
        )}
      </div>
      {kind.credential && writable && (
        <p class="muted small">Credentials are created on their consumer's page.</p>
      )}
      <form
        class="filters"
        onSubmit={(e) => {
          e.preventDefault()
          setApplied(tags.trim())
        }}
      >
        <div>
          <label for="entity-search">Search</label>
          <input
            id="entity-search"
            type="search"
            value={search}
            placeholder="name, id, host, path…"
            onInput={(e) => setSearch((e.target as HTMLInputElement).value)}
          />
        </div>
        <div>
          <label for="entity-tags">Tags</label>
          <input
            id="entity-tags"
            value={tags}
            placeholder="a,b (all) or a/b (any)"
            aria-describedby={error !== null ? 'list-error' : undefined}
            onInput={(e) => setTags((e.target as HTMLInputElement).value)}
          />
        </div>
        <button type="submit">Filter</button>
      </form>
      {error !== null && (
        <p class="notice notice-error" role="alert" id="list-error">
          {error}
        </p>
      )}
      <p class="muted small" role="status">
        {loading
          ? 'Loading…'
          : `${shown.length} of ${items.length} shown${next !== null ? ' (more on the server)' : ''}`}
      </p>
      {/* biome-ignore lint/a11y/noNoninteractiveTabindex: a table that scrolls sideways (on a phone) must be reachable by keyboard */}
      <section class="table-scroll" tabIndex={0} aria-labelledby="list-title">
        <table class="entity-table" aria-labelledby="list-title">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Details</th>
              <th scope="col">Tags</th>
              <th scope="col" class="col-id">
                Id
              </th>
            </tr>
          </thead>
          <tbody>
            {shown.map((e) => (
              <tr key={e.id} data-id={e.id}>
                <td>
                  <a href={`#/entities/${kind.collection}/${encodeURIComponent(e.id)}`}>{labelOf(e)}</a>
                </td>
                <td>{summaryOf(kind, e)}</td>
                <td>{(e.tags ?? []).join(', ')}</td>
                <td class="col-id">
                  <code class="small">{e.id}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      {next !== null && (
        <button type="button" onClick={() => void load(next, true)} disabled={loading}>
          Load more
        </button>
      )}
    </div>
  )
}
