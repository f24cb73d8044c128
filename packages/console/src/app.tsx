/**
 * The console's frame: finds out whether the admin API needs a token (a 401 from /status), asks for it
 * if so, then shows the page the location's hash names, with the navigation. A token the API stops
 * accepting (changed on reload) brings sign-in back.
 */
import { useCallback, useEffect, useState } from 'preact/hooks'
import { AdminError, adminGet, forgetToken, storedToken, storeToken } from './api.ts'
import { Entities } from './entities/page.tsx'
import { ExplainPage } from './explain/page.tsx'
import { IdentityPage } from './identity/page.tsx'
import { Overview } from './overview.tsx'
import { PAGES, type Page } from './pages.ts'
import { SignIn } from './sign-in.tsx'
import { Upstreams } from './upstreams.tsx'

type Auth =
  | { readonly state: 'checking' }
  /** `token` null: the API needs none (loopback, no admin.token). */
  | { readonly state: 'signed-in'; readonly token: string | null }
  | { readonly state: 'sign-in'; readonly notice?: string | undefined }
  | { readonly state: 'refused'; readonly message: string }
  | { readonly state: 'unreachable'; readonly message: string }

/** The page a `#/<id>` location names; null for any other hash (the skip link's `#main`). */
function pageOf(hash: string): Page | null {
  if (hash === '' || hash === '#' || hash === '#/') return PAGES[0]!
  if (!hash.startsWith('#/')) return null
  // `#/entities/routes/<id>`: the page is the first segment, the rest is the page's own.
  const id = hash.slice(2).split('/')[0]
  return PAGES.find((p) => p.id === id) ?? PAGES[0]!
}

function useHashPage(): Page {
  const [page, setPage] = useState(() => pageOf(location.hash) ?? PAGES[0]!)
  useEffect(() => {
    const onHash = () => {
      const next = pageOf(location.hash)
      if (next !== null) setPage(next)
    }
    window.addEventListener('hashchange', onHash)
    return () => window.removeEventListener('hashchange', onHash)
  }, [])
  return page
}

export function App() {
  const [auth, setAuth] = useState<Auth>({ state: 'checking' })
  const probe = useCallback(async (token: string | null) => {
    try {
      await adminGet('/status', token)
      setAuth({ state: 'signed-in', token })
    } catch (err) {
      if (err instanceof AdminError && err.status === 401) {
        forgetToken()
        setAuth({
          state: 'sign-in',
          notice:
            token === null ? undefined : `The saved admin token was refused (${err.message}); sign in again.`,
        })
      } else if (err instanceof AdminError && err.status === 403)
        setAuth({ state: 'refused', message: err.message })
      else setAuth({ state: 'unreachable', message: err instanceof Error ? err.message : String(err) })
    }
  }, [])
  useEffect(() => void probe(storedToken()), [])

  const signedIn = (token: string) => {
    storeToken(token)
    setAuth({ state: 'signed-in', token })
  }
  const unauthorized = useCallback((message: string) => {
    forgetToken()
    setAuth({
      state: 'sign-in',
      notice: `The admin API no longer accepts the token (${message}); sign in again.`,
    })
  }, [])
  const signOut = () => {
    forgetToken()
    setAuth({ state: 'sign-in', notice: 'Signed out: the token is forgotten in this tab.' })
  }

  switch (auth.state) {
    case 'checking':
      return <p class="loading">Connecting to the admin API…</p>
    case 'sign-in':
      return <SignIn notice={auth.notice} onSignedIn={signedIn} />
    case 'refused':
    case 'unreachable':
      return (
        <main id="main" class="sign-in" tabIndex={-1}>
          <h1>Gatehouse console</h1>
          <p class="notice notice-error" role="alert">
            {auth.state === 'refused'
              ? 'The admin API refused this browser: '
              : 'The admin API could not be reached: '}
            {auth.message}
          </p>
          <button type="button" onClick={() => void probe(storedToken())}>
            Try again
          </button>
        </main>
      )
    case 'signed-in':
      return <Shell token={auth.token} onSignOut={signOut} onUnauthorized={unauthorized} />
  }
}

interface ShellProps {
  readonly token: string | null
  readonly onSignOut: () => void
  readonly onUnauthorized: (message: string) => void
}

function Shell({ token, onSignOut, onUnauthorized }: ShellProps) {
  const page = useHashPage()
  useEffect(() => {
    document.title = `${page.title} · Gatehouse console`
    // A page change moves focus to its heading, so keyboard and screen-reader users land on it.
    if (location.hash.startsWith('#/')) document.getElementById('page-title')?.focus()
  }, [page.id])
  return (
    <div class="shell">
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="bar">
        <span class="brand">Gatehouse</span>
        <span class="bar-end">
          {token === null ? (
            <span class="muted small">No admin token needed (loopback)</span>
          ) : (
            <button type="button" class="secondary" onClick={onSignOut}>
              Sign out
            </button>
          )}
        </span>
      </header>
      <nav class="nav" aria-label="Console pages">
        <ul>
          {PAGES.map((p) => (
            <li key={p.id}>
              <a href={`#/${p.id}`} aria-current={p.id === page.id ? 'page' : undefined}>
                {p.title}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" class="content" tabIndex={-1}>
        {page.id === 'entities' ? (
          <Entities token={token} onUnauthorized={onUnauthorized} />
        ) : page.id === 'upstreams' ? (
          <Upstreams token={token} onUnauthorized={onUnauthorized} />
        ) : page.id === 'refused' ? (
          <ExplainPage token={token} onUnauthorized={onUnauthorized} />
        ) : page.id === 'identity' ? (
          <IdentityPage token={token} onUnauthorized={onUnauthorized} />
        ) : (
          <Overview token={token} onUnauthorized={onUnauthorized} />
        )}
      </main>
    </div>
  )
}
