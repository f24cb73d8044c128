/**
 * "Why was this refused?": pick a route (searchable, from GET /routes) or type a method, host and path;
 * paste what the client sends (a bearer token, an API key under the name the route's key-auth reads, Basic
 * credentials or a cookie); POST /explain answers with each plugin's verdict. The pasted secret lives in
 * this component's state only — not in the URL, not in storage — in a password field with a show toggle,
 * and is forgotten when the page is left.
 */
import { useEffect, useMemo, useState } from 'preact/hooks'
import { AdminError } from '../api.ts'
import { SecretInput } from '../secret-input.tsx'
import { adminSend, describeError } from '../send.ts'
import { type Explanation, ExplanationView } from './answer.tsx'
import { type CredentialKind, type ExplainForm, explainBody } from './request.ts'
import { label, loadRoutes, matches, type RouteEntry } from './routes.ts'

interface Props {
  readonly token: string | null
  readonly onUnauthorized: (message: string) => void
}

const KINDS: readonly { readonly kind: CredentialKind; readonly label: string }[] = [
  { kind: 'none', label: 'Nothing' },
  { kind: 'bearer', label: 'Bearer token' },
  { kind: 'api-key', label: 'API key' },
  { kind: 'basic', label: 'Basic credentials' },
  { kind: 'cookie', label: 'Cookie' },
]

const SECRET_LABEL: Readonly<Record<CredentialKind, string>> = {
  none: '',
  bearer: 'Token (sent as Authorization: Bearer)',
  'api-key': 'API key',
  basic: 'Password',
  cookie: 'Cookie header',
}

const EMPTY: ExplainForm = {
  route: '',
  method: '',
  host: '',
  path: '',
  kind: 'bearer',
  secret: '',
  basicUser: '',
  keyWhere: 'header',
  keyName: 'apikey',
}

export function ExplainPage({ token, onUnauthorized }: Props) {
  const [routes, setRoutes] = useState<RouteEntry[] | null>(null)
  const [routesError, setRoutesError] = useState<string | null>(null)
  const [search, setSearch] = useState('')
  const [form, setForm] = useState<ExplainForm>(EMPTY)
  const [busy, setBusy] = useState(false)
  const [answer, setAnswer] = useState<Explanation | null>(null)
  const [error, setError] = useState<{ message: string; fields: Record<string, string> } | null>(null)

  useEffect(() => {
    const abort = new AbortController()
    loadRoutes(token, abort.signal).then(setRoutes, (err) => {
      if (abort.signal.aborted) return
      if (err instanceof AdminError && err.status === 401) return onUnauthorized(err.message)
      setRoutesError(describeError(err))
    })
    return () => abort.abort()
  }, [token])

  const shown = useMemo(
    () => (routes ?? []).filter((r) => r.id === form.route || matches(r, search)),
    [routes, search, form.route],
  )
  const picked = routes?.find((r) => r.id === form.route) ?? null
  const set = (patch: Partial<ExplainForm>) => setForm((f) => ({ ...f, ...patch }))
  const pickRoute = (id: string) => {
    const r = routes?.find((x) => x.id === id)
    // The key name the route's key-auth reads first, so a pasted key goes where the route looks.
    set({ route: id, ...(r !== undefined && r.keyNames.length > 0 ? { keyName: r.keyNames[0]! } : {}) })
  }

  const submit = async (e: Event) => {
    e.preventDefault()
    if (form.route === '' && form.path.trim() === '') {
      setError({ message: 'Pick a route, or type the request’s path.', fields: { path: 'required' } })
      return
    }
    setBusy(true)
    setError(null)
    try {
      setAnswer(await adminSend<Explanation>('POST', '/explain', token, explainBody(form)))
    } catch (err) {
      if (err instanceof AdminError && err.status === 401) return onUnauthorized(err.message)
      setAnswer(null)
      const fields = (err as { fields?: Record<string, string> }).fields ?? {}
      setError({ message: describeError(err), fields })
    } finally {
      setBusy(false)
    }
  }

  const fieldError = (name: string) => error?.fields[name]
  const invalid = (name: string) => (fieldError(name) === undefined ? {} : errAttrs(name))

  return (
    <>
      <h1 id="page-title" tabIndex={-1}>
        Why was this refused?
      </h1>
      <p>
        Describe a request as a client sends it: the gateway runs it through the route’s plugins as a dry run
        and says what each decided. Nothing is forwarded, counted or signed. What you paste stays in this page
        only (not in the address, not in the browser’s storage) and the answer never repeats it.
      </p>
      <form class="form explain-form" onSubmit={submit} noValidate>
        <fieldset>
          <legend>The request</legend>
          <div class="field">
            <label for="explain-search">Search routes</label>
            <input
              id="explain-search"
              type="search"
              value={search}
              placeholder="name, path, host"
              aria-describedby="explain-search-count"
              onInput={(e) => setSearch((e.target as HTMLInputElement).value)}
            />
            <span id="explain-search-count" class="detail" aria-live="polite">
              {routes === null
                ? routesError === null
                  ? 'Loading routes…'
                  : `Routes could not be read: ${routesError}`
                : `${shown.length} of ${routes.length} routes`}
            </span>
          </div>
          <div class="field">
            <label for="explain-route">Route</label>
            <select
              id="explain-route"
              value={form.route}
              onChange={(e) => pickRoute((e.target as HTMLSelectElement).value)}
            >
              <option value="">None: let the router match method, host and path</option>
              {shown.map((r) => (
                <option key={r.id} value={r.id}>
                  {label(r)}
                </option>
              ))}
            </select>
          </div>
          <div class="field-row">
            <div class="field">
              <label for="explain-method">Method</label>
              <input
                id="explain-method"
                value={form.method}
                size={8}
                placeholder={picked?.methods[0] ?? 'GET'}
                onInput={(e) => set({ method: (e.target as HTMLInputElement).value })}
                {...invalid('method')}
              />
              <FieldError name="method" error={fieldError('method')} />
            </div>
            <div class="field">
              <label for="explain-host">Host</label>
              <input
                id="explain-host"
                value={form.host}
                placeholder={picked?.hosts.find((h) => !h.includes('*')) ?? 'localhost'}
                onInput={(e) => set({ host: (e.target as HTMLInputElement).value })}
                {...invalid('host')}
              />
              <FieldError name="host" error={fieldError('host')} />
            </div>
            <div class="field field-grow">
              <label for="explain-path">Path</label>
              <input
                id="explain-path"
                value={form.path}
                placeholder={picked?.paths[0] ?? '/orders/1'}
                onInput={(e) => set({ path: (e.target as HTMLInputElement).value })}
                {...invalid('path')}
              />
              <FieldError name="path" error={fieldError('path')} />
            </div>
          </div>
        </fieldset>
        <fieldset>
          <legend>What the client sends</legend>
          <div class="field">
            <label for="explain-kind">Credential</label>
            <select
              id="explain-kind"
              value={form.kind}
              onChange={(e) => set({ kind: (e.target as HTMLSelectElement).value as CredentialKind })}
            >
              {KINDS.map((k) => (
                <option key={k.kind} value={k.kind}>
                  {k.label}
                </option>
              ))}
            </select>
          </div>
          {form.kind === 'api-key' && (
            <div class="field-row">
              <div class="field">
                <label for="explain-key-where">Sent in</label>
                <select
                  id="explain-key-where"
                  value={form.keyWhere}
                  onChange={(e) =>
                    set({ keyWhere: (e.target as HTMLSelectElement).value as 'header' | 'query' })
                  }
                >
                  <option value="header">a header</option>
                  <option value="query">a query parameter</option>
                </select>
              </div>
              <div class="field">
                <label for="explain-key-name">Name</label>
                <input
                  id="explain-key-name"
                  value={form.keyName}
                  list="explain-key-names"
                  aria-describedby="explain-key-names-hint"
                  onInput={(e) => set({ keyName: (e.target as HTMLInputElement).value })}
                />
                <datalist id="explain-key-names">
                  {(picked?.keyNames ?? []).map((n) => (
                    <option key={n} value={n} />
                  ))}
                </datalist>
                <span id="explain-key-names-hint" class="detail">
                  {picked === null
                    ? 'key-auth reads apikey unless its key_names say otherwise.'
                    : picked.keyNames.length === 0
                      ? 'This route has no key-auth.'
                      : `This route’s key-auth reads: ${picked.keyNames.join(', ')}.`}
                </span>
              </div>
            </div>
          )}
          {form.kind === 'basic' && (
            <div class="field">
              <label for="explain-basic-user">Username</label>
              <input
                id="explain-basic-user"
                autocomplete="off"
                value={form.basicUser}
                onInput={(e) => set({ basicUser: (e.target as HTMLInputElement).value })}
              />
            </div>
          )}
          {form.kind !== 'none' && (
            <div class="field">
              <label for="explain-secret">{SECRET_LABEL[form.kind]}</label>
              <SecretInput id="explain-secret" value={form.secret} onInput={(secret) => set({ secret })} />
            </div>
          )}
        </fieldset>
        {error !== null && (
          <p class="field-error" role="alert" id="explain-error">
            {error.message}
          </p>
        )}
        <button type="submit" disabled={busy}>
          {busy ? 'Explaining…' : 'Explain'}
        </button>
      </form>
      {answer !== null && <ExplanationView answer={answer} />}
    </>
  )
}

function errAttrs(name: string) {
  return { 'aria-invalid': true, 'aria-describedby': `explain-${name}-error` }
}

function FieldError({ name, error }: { name: string; error: string | undefined }) {
  if (error === undefined) return null
  return (
    <p id={`explain-${name}-error`} class="field-error">
      {error}
    </p>
  )
}
