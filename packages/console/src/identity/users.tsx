/**
 * The identity provider's users: list (the file's read-only, saying why), add with a password, disable and
 * enable, reset a password, unlock after failed sign-ins, remove, and open a user's sign-in security
 * (second factors, external links, sessions: user-security.tsx). Every destructive action asks first; the
 * admin API's field problems show next to the field. Passwords live in this component's state only.
 */
import { Fragment } from 'preact'
import { useState } from 'preact/hooks'
import { SecretInput } from '../secret-input.tsx'
import { adminSend, describeError, fieldProblems } from '../send.ts'
import { attempt, ConfirmButton, FieldError, Scroll, type SectionProps, Status, useList } from './shared.tsx'
import { UserSecurity } from './user-security.tsx'

interface User {
  readonly id: string
  readonly username: string
  readonly email?: string | null
  readonly roles: readonly string[]
  readonly disabled: boolean
  readonly source: string
  readonly read_only: boolean
}

const path = (u: User) => `/identity/users/${encodeURIComponent(u.id)}`

export function Users(props: SectionProps) {
  const { data, error, reload } = useList<User>('/identity/users', props)
  const [status, setStatus] = useState<{ message: string; tone: 'ok' | 'error' } | null>(null)
  /** The users whose second factors, links and sessions are shown (user-security.tsx). */
  const [open, setOpen] = useState<ReadonlySet<string>>(new Set())
  const toggle = (id: string) =>
    setOpen((o) => {
      const next = new Set(o)
      if (!next.delete(id)) next.add(id)
      return next
    })
  /** Runs `run`; its status line is `done`, or what `run` returned when that is a sentence. */
  const act = async (run: () => Promise<unknown>, done: string) => {
    let said = done
    const failed = await attempt(async () => {
      const result = await run()
      if (typeof result === 'string') said = result
    }, props.onUnauthorized)
    // The list first, then the message: when it is announced, the list already says so.
    await reload()
    setStatus(failed === null ? { message: said, tone: 'ok' } : { message: failed, tone: 'error' })
  }
  // The answer says whether there was anything to clear: "unlocked" for a user never locked would mislead.
  const unlock = (u: User) =>
    act(async () => {
      const answer = await adminSend<{ message?: string }>('POST', `${path(u)}/unlock`, props.token)
      return typeof answer?.message === 'string' ? `${u.username}: ${answer.message}.` : undefined
    }, `${u.username}: unlocked.`)
  return (
    <section aria-labelledby="users-title">
      <h2 id="users-title">Users</h2>
      <AddUser {...props} onAdded={(name) => act(async () => {}, `User ${name} added.`)} />
      <Status message={status?.message ?? null} tone={status?.tone ?? 'ok'} />
      {error !== null && <Status message={`Users could not be read: ${error}`} tone="error" />}
      {data !== null && (
        <Scroll label="Users">
          <table class="data" id="users-table">
            <caption>{data.length === 1 ? '1 user' : `${data.length} users`}</caption>
            <thead>
              <tr>
                <th scope="col">Username</th>
                <th scope="col">E-mail</th>
                <th scope="col">Roles</th>
                <th scope="col">State</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {data.map((u) => (
                <Fragment key={u.id}>
                  <tr data-user={u.username}>
                    <th scope="row">
                      {u.username}
                      <span class="detail">{u.id}</span>
                    </th>
                    <td>{u.email ?? '–'}</td>
                    <td>{u.roles.join(', ') || '–'}</td>
                    <td data-field="state">
                      <span class={`badge ${u.disabled ? 'badge-bad' : 'badge-ok'}`}>
                        {u.disabled ? 'Disabled' : 'Enabled'}
                      </span>
                    </td>
                    <td class="wrap">
                      {u.read_only && (
                        <span class="detail">
                          Declared in the configuration file (identity.users): change it there. Only unlock
                          and its sign-in security work here.
                        </span>
                      )}
                      <div class="actions">
                        <button
                          type="button"
                          class="small ghost"
                          aria-label={`Sign-in security of ${u.username}`}
                          aria-expanded={open.has(u.id)}
                          aria-controls={open.has(u.id) ? `security-row-${u.id}` : undefined}
                          onClick={() => toggle(u.id)}
                        >
                          Security
                        </button>
                        <button
                          type="button"
                          class="small ghost"
                          aria-label={`Unlock ${u.username}`}
                          onClick={() => unlock(u)}
                        >
                          Unlock
                        </button>
                        {!u.read_only && u.disabled && (
                          <button
                            type="button"
                            class="small ghost"
                            aria-label={`Enable ${u.username}`}
                            onClick={() =>
                              act(
                                () => adminSend('POST', `${path(u)}/enable`, props.token),
                                `${u.username} enabled.`,
                              )
                            }
                          >
                            Enable
                          </button>
                        )}
                        {!u.read_only && !u.disabled && (
                          <ConfirmButton
                            label={`Disable ${u.username}`}
                            text="Disable"
                            question={`Disable ${u.username}? They can no longer sign in or refresh tokens; access tokens already issued live until they expire.`}
                            confirm="Disable"
                            onConfirm={() =>
                              act(
                                () => adminSend('POST', `${path(u)}/disable`, props.token),
                                `${u.username} disabled.`,
                              )
                            }
                          />
                        )}
                        {!u.read_only && <ResetPassword user={u} {...props} onDone={act} />}
                        {!u.read_only && (
                          <ConfirmButton
                            label={`Remove ${u.username}`}
                            text="Remove"
                            question={`Remove ${u.username}? This cannot be undone.`}
                            confirm="Remove"
                            onConfirm={() =>
                              act(() => adminSend('DELETE', path(u), props.token), `${u.username} removed.`)
                            }
                          />
                        )}
                      </div>
                    </td>
                  </tr>
                  {open.has(u.id) && (
                    <tr id={`security-row-${u.id}`} data-security={u.username}>
                      <td colSpan={5} class="wrap">
                        <UserSecurity user={u} {...props} />
                      </td>
                    </tr>
                  )}
                </Fragment>
              ))}
            </tbody>
          </table>
        </Scroll>
      )}
    </section>
  )
}

function ResetPassword({
  user,
  token,
  onUnauthorized,
  onDone,
}: SectionProps & {
  user: User
  onDone: (run: () => Promise<unknown>, done: string) => Promise<void>
}) {
  const [open, setOpen] = useState(false)
  const [password, setPassword] = useState('')
  const [error, setError] = useState<string | undefined>(undefined)
  const id = `reset-${user.id}`
  if (!open)
    return (
      <button
        type="button"
        class="small ghost"
        aria-label={`Reset password of ${user.username}`}
        onClick={() => setOpen(true)}
      >
        Reset password
      </button>
    )
  const submit = async (e: Event) => {
    e.preventDefault()
    try {
      await adminSend('PUT', `/identity/users/${encodeURIComponent(user.id)}/password`, token, { password })
    } catch (err) {
      const fields = fieldProblems(err)
      if ((err as { status?: number }).status === 401) return onUnauthorized(describeError(err))
      setError(fields.password ?? describeError(err))
      return
    }
    setOpen(false)
    setPassword('')
    await onDone(async () => {}, `${user.username}: password reset.`)
  }
  return (
    <form class="confirm" onSubmit={submit} noValidate>
      <label for={id}>{`New password for ${user.username}`}</label>
      <SecretInput
        id={id}
        value={password}
        autocomplete="new-password"
        onInput={setPassword}
        errorId={error === undefined ? undefined : `${id}-error`}
      />
      <FieldError id={`${id}-error`} error={error} />
      <div class="actions">
        <button type="submit" class="small">
          Set password
        </button>
        <button type="button" class="small ghost" onClick={() => setOpen(false)}>
          Cancel
        </button>
      </div>
    </form>
  )
}

function AddUser({ token, onUnauthorized, onAdded }: SectionProps & { onAdded: (username: string) => void }) {
  const [form, setForm] = useState({ username: '', email: '', password: '', roles: '' })
  const [fields, setFields] = useState<Readonly<Record<string, string>>>({})
  const [error, setError] = useState<string | null>(null)
  const set = (k: keyof typeof form) => (e: Event) =>
    setForm((f) => ({ ...f, [k]: (e.target as HTMLInputElement).value }))
  const submit = async (e: Event) => {
    e.preventDefault()
    const body = {
      username: form.username.trim(),
      password: form.password,
      ...(form.email.trim() === '' ? {} : { email: form.email.trim() }),
      roles: form.roles
        .split(',')
        .map((r) => r.trim())
        .filter((r) => r !== ''),
    }
    const failed = await attempt(async () => {
      try {
        await adminSend('POST', '/identity/users', token, body)
      } catch (err) {
        setFields(fieldProblems(err))
        throw err
      }
    }, onUnauthorized)
    setError(failed)
    if (failed === null) {
      setFields({})
      setForm({ username: '', email: '', password: '', roles: '' })
      onAdded(body.username)
    }
  }
  const attrs = (name: string) =>
    fields[name] === undefined ? {} : { 'aria-invalid': true, 'aria-describedby': `user-${name}-error` }
  return (
    <form class="form" onSubmit={submit} noValidate>
      <fieldset>
        <legend>Add a user</legend>
        <div class="field-row">
          <div class="field">
            <label for="user-username">Username</label>
            <input
              id="user-username"
              value={form.username}
              onInput={set('username')}
              {...attrs('username')}
            />
            <FieldError id="user-username-error" error={fields.username} />
          </div>
          <div class="field">
            <label for="user-email">E-mail (optional)</label>
            <input
              id="user-email"
              type="email"
              value={form.email}
              onInput={set('email')}
              {...attrs('email')}
            />
            <FieldError id="user-email-error" error={fields.email} />
          </div>
        </div>
        <div class="field-row">
          <div class="field">
            <label for="user-password">Password</label>
            <SecretInput
              id="user-password"
              value={form.password}
              autocomplete="new-password"
              onInput={(password) => setForm((f) => ({ ...f, password }))}
              errorId={fields.password === undefined ? undefined : 'user-password-error'}
            />
            <FieldError id="user-password-error" error={fields.password} />
            <span class="detail">
              At least 12 characters; not the username, the e-mail or a common password.
            </span>
          </div>
          <div class="field">
            <label for="user-roles">Roles (comma-separated)</label>
            <input id="user-roles" value={form.roles} onInput={set('roles')} {...attrs('roles')} />
            <FieldError id="user-roles-error" error={fields.roles} />
          </div>
        </div>
        {error !== null && Object.keys(fields).length === 0 && <Status message={error} tone="error" />}
        <button type="submit">Add user</button>
      </fieldset>
    </form>
  )
}
