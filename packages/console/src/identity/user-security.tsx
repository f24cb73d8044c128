/**
 * One user's sign-in security on the Identity page (issue 14): their second factors (kind, name, dates:
 * the admin API never answers a secret) with "Reset second factors", their links to external providers
 * with "Unlink", and their sessions at the provider with "Sign out everywhere". Read when the row's
 * "Security" button opens it and again after each change; every action asks first (ConfirmButton).
 *   GET/DELETE /identity/users/{user}/factors, GET /identity/users/{user}/links,
 *   DELETE /identity/users/{user}/links/{provider}, GET /identity/users/{user}/sessions,
 *   POST /identity/users/{user}/signout
 */
import { useCallback, useEffect, useState } from 'preact/hooks'
import { AdminError, adminGet } from '../api.ts'
import { adminSend, describeError } from '../send.ts'
import { at, attempt, ConfirmButton, type SectionProps, Status } from './shared.tsx'

interface Factor {
  readonly id: string
  readonly kind: string
  readonly name: string
  readonly created_at: number
  readonly last_used_at: number | null
}

interface Factors {
  readonly data: readonly Factor[]
  readonly recovery_codes_left: number
  readonly mfa: string | null
}

interface Link {
  readonly broker: string
  readonly display_name: string | null
  readonly subject: string
  readonly email: string | null
  readonly username: string | null
  readonly created_at: number
  readonly last_used_at: number | null
}

interface Session {
  readonly uid: string
  readonly login_at: number | null
  readonly amr: readonly string[]
  readonly clients: readonly string[]
  readonly expires_at: number | null
  readonly last_ip: string | null
  readonly user_agent: string | null
}

interface Security {
  readonly factors: Factors
  readonly links: readonly Link[]
  readonly sessions: readonly Session[]
}

const count = (n: number | undefined, noun: string) => `${n ?? 0} ${noun}${n === 1 ? '' : 's'}`

const KIND: Readonly<Record<string, string>> = { totp: 'Authenticator app (TOTP)', passkey: 'Passkey' }

export function UserSecurity({
  user,
  token,
  onUnauthorized,
}: SectionProps & { user: { id: string; username: string } }) {
  const base = `/identity/users/${encodeURIComponent(user.id)}`
  const [security, setSecurity] = useState<Security | null>(null)
  const [error, setError] = useState<string | null>(null)
  const [status, setStatus] = useState<{ message: string; tone: 'ok' | 'error' } | null>(null)
  const load = useCallback(async () => {
    try {
      const [factors, links, sessions] = await Promise.all([
        adminGet<Factors>(`${base}/factors`, token),
        adminGet<{ data: Link[] }>(`${base}/links`, token),
        adminGet<{ data: Session[] }>(`${base}/sessions`, token),
      ])
      setSecurity({ factors, links: links.data, sessions: sessions.data })
      setError(null)
    } catch (err) {
      if (err instanceof AdminError && err.status === 401) return onUnauthorized(err.message)
      setError(describeError(err))
    }
  }, [base, token])
  useEffect(() => void load(), [load])
  const act = async (run: () => Promise<unknown>, done: (result: unknown) => string) => {
    let said = ''
    const failed = await attempt(async () => {
      said = done(await run())
    }, onUnauthorized)
    await load()
    setStatus(failed === null ? { message: said, tone: 'ok' } : { message: failed, tone: 'error' })
  }
  const name = user.username
  const headingId = `security-${user.id}`
  return (
    <section class="user-security" aria-labelledby={headingId}>
      <h3 id={headingId}>{`Sign-in security of ${name}`}</h3>
      <Status message={status?.message ?? null} tone={status?.tone ?? 'ok'} />
      {error !== null && <Status message={`Could not be read: ${error}`} tone="error" />}
      {security === null && error === null && <p class="muted">Loading…</p>}
      {security !== null && (
        <>
          <h4>Second factors</h4>
          {security.factors.data.length === 0 ? (
            <p class="muted">None.</p>
          ) : (
            <ul class="plain" data-list="factors">
              {security.factors.data.map((f) => (
                <li key={f.id}>
                  <strong>{f.name}</strong> · {KIND[f.kind] ?? f.kind}
                  <span class="detail">{`Added ${at(f.created_at)}; last used ${at(f.last_used_at)}`}</span>
                </li>
              ))}
            </ul>
          )}
          <p class="detail" data-field="mfa">
            {`Recovery codes left: ${security.factors.recovery_codes_left}. Own policy: ${security.factors.mfa ?? 'none (the client’s and identity.mfa apply)'}.`}
          </p>
          {(security.factors.data.length > 0 || security.factors.recovery_codes_left > 0) && (
            <ConfirmButton
              label={`Reset second factors of ${name}`}
              text="Reset second factors"
              question={`Remove every second factor and recovery code of ${name}? Where a policy requires one, they set up a new one at their next sign-in.`}
              confirm="Reset"
              onConfirm={() =>
                act(
                  () => adminSend('DELETE', `${base}/factors`, token),
                  (r) =>
                    `${name}: ${count((r as { factors_removed?: number } | null)?.factors_removed, 'second factor')} removed.`,
                )
              }
            />
          )}

          <h4>External sign-ins</h4>
          {security.links.length === 0 ? (
            <p class="muted">None.</p>
          ) : (
            <ul class="plain" data-list="links">
              {security.links.map((l) => {
                const provider = l.display_name ?? `${l.broker} (no longer configured)`
                return (
                  <li key={l.broker}>
                    <strong>{provider}</strong> · {l.email ?? l.username ?? l.subject}
                    <span class="detail">{`Linked ${at(l.created_at)}; last used ${at(l.last_used_at)}`}</span>
                    <ConfirmButton
                      label={`Unlink ${name} from ${provider}`}
                      text="Unlink"
                      question={`Unlink ${name} from ${provider}? That identity no longer signs in as ${name}; a user left with neither a password nor a link cannot sign in.`}
                      confirm="Unlink"
                      onConfirm={() =>
                        act(
                          () => adminSend('DELETE', `${base}/links/${encodeURIComponent(l.broker)}`, token),
                          () => `${name}: unlinked from ${provider}.`,
                        )
                      }
                    />
                  </li>
                )
              })}
            </ul>
          )}

          <h4>Sessions</h4>
          {security.sessions.length === 0 ? (
            <p class="muted">Not signed in anywhere.</p>
          ) : (
            <ul class="plain" data-list="sessions">
              {security.sessions.map((s) => (
                <li key={s.uid}>
                  <strong>{`Signed in ${at(s.login_at)}`}</strong>
                  {s.amr.length > 0 && ` · ${s.amr.join(', ')}`}
                  <span class="detail">
                    {[
                      s.clients.length > 0 ? `Applications: ${s.clients.join(', ')}` : 'No applications yet',
                      s.last_ip !== null ? `last used from ${s.last_ip}` : null,
                      `expires ${at(s.expires_at)}`,
                    ]
                      .filter((p) => p !== null)
                      .join('; ')}
                  </span>
                </li>
              ))}
            </ul>
          )}
          <ConfirmButton
            label={`Sign out everywhere (${name})`}
            text="Sign out everywhere"
            question={`Sign ${name} out everywhere? Every session, grant and token of the account ends, and gateway sessions and internal tokens issued until now are revoked on every node.`}
            confirm="Sign out everywhere"
            onConfirm={() =>
              act(
                () => adminSend('POST', `${base}/signout`, token),
                (r) =>
                  `${name}: signed out everywhere (${count((r as { sessions_ended?: number } | null)?.sessions_ended, 'session')} ended).`,
              )
            }
          />
        </>
      )}
    </section>
  )
}
