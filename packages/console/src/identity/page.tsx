/**
 * The Identity page: the built-in identity provider's users and clients, the signing keys (the provider's
 * and the internal-token keys) and revocations. Whether the provider is on is asked of the admin API
 * itself (GET /identity/users answers 404 naming identity.enabled while it is off); the internal-token keys
 * and revocations are shown either way, since they do not need the provider.
 */
import { useEffect, useState } from 'preact/hooks'
import { AdminError, adminGet } from '../api.ts'
import { describeError } from '../send.ts'
import { Clients } from './clients.tsx'
import { Keys } from './keys.tsx'
import { Revocations } from './revocations.tsx'
import type { SectionProps } from './shared.tsx'
import { Users } from './users.tsx'

export function IdentityPage(props: SectionProps) {
  const [enabled, setEnabled] = useState<boolean | null>(null)
  const [error, setError] = useState<string | null>(null)
  useEffect(() => {
    adminGet('/identity/users?size=1', props.token).then(
      () => setEnabled(true),
      (err) => {
        if (err instanceof AdminError && err.status === 401) return props.onUnauthorized(err.message)
        if (err instanceof AdminError && err.status === 404) return setEnabled(false)
        setError(describeError(err))
      },
    )
  }, [props.token])
  return (
    <>
      <h1 id="page-title" tabIndex={-1}>
        Identity
      </h1>
      {error !== null && (
        <p class="notice notice-error" role="alert">{`The admin API could not be read: ${error}`}</p>
      )}
      {enabled === false && (
        <p class="notice" id="identity-off">
          The built-in identity provider is off on this gateway: set <code>identity.enabled: true</code> in
          the configuration to manage users, clients and its signing keys here. The internal-token keys and
          revocations below work without it.
        </p>
      )}
      {enabled === null && error === null && <p class="muted">Loading…</p>}
      {enabled !== null && (
        <>
          <nav aria-label="Identity sections">
            <ul class="subnav">
              {enabled && (
                <li>
                  <a href="#users-title">Users</a>
                </li>
              )}
              {enabled && (
                <li>
                  <a href="#clients-title">Clients</a>
                </li>
              )}
              <li>
                <a href="#keys-title">Signing keys</a>
              </li>
              <li>
                <a href="#revocations-title">Revocations</a>
              </li>
            </ul>
          </nav>
          {enabled && <Users {...props} />}
          {enabled && <Clients {...props} />}
          <Keys {...props} identity={enabled} />
          <Revocations {...props} />
        </>
      )}
    </>
  )
}
