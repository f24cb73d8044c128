/**
 * Asks for the admin token when the admin API needs one (it answered 401), tries it on /status and keeps
 * it for this tab (sessionStorage) only once the API has accepted it.
 */
import { useEffect, useRef, useState } from 'preact/hooks'
import { AdminError, adminGet } from './api.ts'

interface Props {
  /** Why sign-in is shown again (a token refused, signed out), if it is. */
  readonly notice?: string | undefined
  readonly onSignedIn: (token: string) => void
}

export function SignIn({ notice, onSignedIn }: Props) {
  const [token, setToken] = useState('')
  const [error, setError] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  const input = useRef<HTMLInputElement>(null)
  useEffect(() => input.current?.focus(), [error])

  const submit = async (e: Event) => {
    e.preventDefault()
    const value = token.trim()
    if (value === '') {
      setError('Enter the admin token (admin.token or GATEHOUSE_ADMIN_TOKEN of this gateway).')
      return
    }
    setBusy(true)
    try {
      await adminGet('/status', value)
      onSignedIn(value)
    } catch (err) {
      setError(
        err instanceof AdminError && err.status === 401
          ? `The admin API refused this token: ${err.message}.`
          : `The admin API could not be reached: ${err instanceof Error ? err.message : String(err)}`,
      )
    } finally {
      setBusy(false)
    }
  }

  return (
    <main id="main" class="sign-in" tabIndex={-1}>
      <h1>Gatehouse console</h1>
      <p>
        This gateway's admin API needs its admin token. It is kept in this browser tab only, and sent with
        every request the console makes.
      </p>
      {notice !== undefined && (
        <p class="notice" role="status">
          {notice}
        </p>
      )}
      <form onSubmit={submit} noValidate>
        <label for="admin-token">Admin token</label>
        <input
          id="admin-token"
          ref={input}
          type="password"
          autocomplete="off"
          spellcheck={false}
          value={token}
          aria-invalid={error !== null}
          aria-describedby={error !== null ? 'sign-in-error' : undefined}
          onInput={(e) => setToken((e.target as HTMLInputElement).value)}
        />
        {error !== null && (
          <p id="sign-in-error" class="field-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  )
}
