/**
 * The identity provider's OAuth clients: list (the file's read-only), add — a confidential client's
 * generated secret is shown once, with a copy button and a warning, and forgotten when dismissed —, remove.
 */
import { useState } from 'preact/hooks'
import { adminSend, fieldProblems } from '../send.ts'
import { attempt, ConfirmButton, FieldError, Scroll, type SectionProps, Status, useList } from './shared.tsx'

interface Client {
  readonly client_id: string
  readonly client_name?: string | null
  readonly grant_types: readonly string[]
  readonly redirect_uris: readonly string[]
  readonly public?: boolean
  readonly read_only: boolean
}

export function Clients(props: SectionProps) {
  const { data, error, reload } = useList<Client>('/identity/clients', props)
  const [status, setStatus] = useState<{ message: string; tone: 'ok' | 'error' } | null>(null)
  const [secret, setSecret] = useState<{ id: string; secret: string } | null>(null)
  const [copied, setCopied] = useState(false)
  const [form, setForm] = useState({ client_id: '', redirect_uris: '', public: false })
  const [fields, setFields] = useState<Readonly<Record<string, string>>>({})

  const add = async (e: Event) => {
    e.preventDefault()
    const body = {
      client_id: form.client_id.trim(),
      redirect_uris: form.redirect_uris.split(/\s+/).filter((u) => u !== ''),
      ...(form.public ? { public: true } : {}),
    }
    const failed = await attempt(async () => {
      try {
        const made = await adminSend<{ client_secret?: string }>(
          'POST',
          '/identity/clients',
          props.token,
          body,
        )
        setFields({})
        setCopied(false)
        setSecret(
          made.client_secret === undefined ? null : { id: body.client_id, secret: made.client_secret },
        )
      } catch (err) {
        setFields(fieldProblems(err))
        throw err
      }
    }, props.onUnauthorized)
    setStatus(failed === null ? { message: `Client ${body.client_id} added.`, tone: 'ok' } : null)
    if (failed !== null) setStatus({ message: failed, tone: 'error' })
    if (failed === null) setForm({ client_id: '', redirect_uris: '', public: false })
    await reload()
  }
  const attrs = (name: string) =>
    fields[name] === undefined ? {} : { 'aria-invalid': true, 'aria-describedby': `client-${name}-error` }

  return (
    <section aria-labelledby="clients-title">
      <h2 id="clients-title">Clients</h2>
      <form class="form" onSubmit={add} noValidate>
        <fieldset>
          <legend>Add a client</legend>
          <div class="field-row">
            <div class="field">
              <label for="client-id">Client id</label>
              <input
                id="client-id"
                value={form.client_id}
                onInput={(e) => setForm((f) => ({ ...f, client_id: (e.target as HTMLInputElement).value }))}
                {...attrs('client_id')}
              />
              <FieldError id="client-client_id-error" error={fields.client_id} />
            </div>
            <div class="field field-grow">
              <label for="client-redirects">Redirect URIs (space-separated)</label>
              <input
                id="client-redirects"
                value={form.redirect_uris}
                onInput={(e) =>
                  setForm((f) => ({ ...f, redirect_uris: (e.target as HTMLInputElement).value }))
                }
                {...attrs('redirect_uris')}
              />
              <FieldError
                id="client-redirect_uris-error"
                error={
                  fields.redirect_uris ??
                  Object.entries(fields).find(([k]) => k.startsWith('redirect_uris['))?.[1]
                }
              />
            </div>
          </div>
          <div class="field">
            <label class="inline">
              <input
                type="checkbox"
                checked={form.public}
                onChange={(e) => setForm((f) => ({ ...f, public: (e.target as HTMLInputElement).checked }))}
              />{' '}
              Public client (a browser or mobile app: no secret, PKCE alone)
            </label>
          </div>
          <button type="submit">Add client</button>
        </fieldset>
      </form>
      {secret !== null && (
        <div class="notice notice-warn" id="client-secret" role="status">
          <p>
            <strong>The secret of {secret.id}, shown this once.</strong> Copy it now into the client’s
            configuration: the gateway keeps only a hash, and it will not be shown again.
          </p>
          <code class="secret-once">{secret.secret}</code>
          <div class="actions">
            <button
              type="button"
              class="small"
              onClick={async () => {
                await navigator.clipboard.writeText(secret.secret).then(
                  () => setCopied(true),
                  () => setCopied(false),
                )
              }}
            >
              {copied ? 'Copied' : 'Copy the secret'}
            </button>
            <button type="button" class="small ghost" onClick={() => setSecret(null)}>
              I have stored it: hide it
            </button>
          </div>
        </div>
      )}
      <Status message={status?.message ?? null} tone={status?.tone ?? 'ok'} />
      {error !== null && <Status message={`Clients could not be read: ${error}`} tone="error" />}
      {data !== null && (
        <Scroll label="Clients">
          <table class="data" id="clients-table">
            <caption>{data.length === 1 ? '1 client' : `${data.length} clients`}</caption>
            <thead>
              <tr>
                <th scope="col">Client id</th>
                <th scope="col">Type</th>
                <th scope="col">Grants</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {data.map((c) => (
                <tr key={c.client_id} data-client={c.client_id}>
                  <th scope="row">
                    {c.client_id}
                    {c.client_name != null && c.client_name !== c.client_id && (
                      <span class="detail">{c.client_name}</span>
                    )}
                  </th>
                  <td>{c.public === true ? 'Public' : 'Confidential'}</td>
                  <td>{c.grant_types.join(', ')}</td>
                  <td class="wrap">
                    {c.read_only ? (
                      <span class="detail">
                        Declared in the configuration file (identity.clients): change it there.
                      </span>
                    ) : (
                      <ConfirmButton
                        label={`Remove ${c.client_id}`}
                        text="Remove"
                        question={`Remove the client ${c.client_id}? Its tokens can no longer be refreshed; this cannot be undone.`}
                        confirm="Remove"
                        onConfirm={async () => {
                          const failed = await attempt(
                            () =>
                              adminSend(
                                'DELETE',
                                `/identity/clients/${encodeURIComponent(c.client_id)}`,
                                props.token,
                              ),
                            props.onUnauthorized,
                          )
                          setStatus(
                            failed === null
                              ? { message: `Client ${c.client_id} removed.`, tone: 'ok' }
                              : { message: failed, tone: 'error' },
                          )
                          await reload()
                        }}
                      />
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </Scroll>
      )}
    </section>
  )
}
