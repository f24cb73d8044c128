/** Revocations: the most recent (GET /revocations), and revoking a subject, a session or a grant. */
import { useState } from 'preact/hooks'
import { adminSend, fieldProblems } from '../send.ts'
import {
  at,
  attempt,
  ConfirmButton,
  FieldError,
  Scroll,
  type SectionProps,
  Status,
  useList,
} from './shared.tsx'

interface Revocation {
  readonly kind: string
  readonly id: string
  readonly revoked_at: number
  readonly expires_at: number
  readonly reason?: string | null
}

type Kind = 'subject' | 'session' | 'grant'
const WHAT: Readonly<Record<Kind, string>> = {
  subject: 'every token of this subject (a user id or a client id)',
  session: 'every token of this sign-in session (sid)',
  grant: 'every token of this grant (a consent, with its refresh tokens)',
}

export function Revocations(props: SectionProps) {
  const { data, error, reload } = useList<Revocation>('/revocations', props)
  const [kind, setKind] = useState<Kind>('subject')
  const [value, setValue] = useState('')
  const [reason, setReason] = useState('')
  const [fields, setFields] = useState<Readonly<Record<string, string>>>({})
  const [status, setStatus] = useState<{ message: string; tone: 'ok' | 'error' } | null>(null)
  const revoke = async () => {
    const failed = await attempt(async () => {
      try {
        await adminSend('POST', '/revocations', props.token, {
          [kind]: value.trim(),
          ...(reason.trim() === '' ? {} : { reason: reason.trim() }),
        })
        setFields({})
      } catch (err) {
        setFields(fieldProblems(err))
        throw err
      }
    }, props.onUnauthorized)
    setStatus(
      failed === null
        ? { message: `Revoked ${kind} ${value.trim()}.`, tone: 'ok' }
        : { message: failed, tone: 'error' },
    )
    if (failed === null) setValue('')
    await reload()
  }
  // POST /revocations names no fields; the one free field is checked here so its problem sits beside it.
  const ready = () => {
    if (value.trim() !== '') return true
    setFields({ [kind]: `Enter the id of the ${kind} to revoke.` })
    return false
  }
  const problem = fields[kind]
  return (
    <section aria-labelledby="revocations-title">
      <h2 id="revocations-title">Revocations</h2>
      <form class="form" onSubmit={(e) => e.preventDefault()} noValidate>
        <fieldset>
          <legend>Revoke</legend>
          <div class="field-row">
            <div class="field">
              <label for="revoke-kind">What</label>
              <select
                id="revoke-kind"
                value={kind}
                onChange={(e) => setKind((e.target as HTMLSelectElement).value as Kind)}
              >
                <option value="subject">A subject</option>
                <option value="session">A session</option>
                <option value="grant">A grant</option>
              </select>
            </div>
            <div class="field field-grow">
              <label for="revoke-value">Its id</label>
              <input
                id="revoke-value"
                value={value}
                onInput={(e) => {
                  setValue((e.target as HTMLInputElement).value)
                  setFields({})
                }}
                aria-invalid={problem !== undefined ? true : undefined}
                aria-describedby={problem !== undefined ? 'revoke-value-error' : 'revoke-value-hint'}
              />
              <span id="revoke-value-hint" class="detail">
                Ends {WHAT[kind]}.
              </span>
              <FieldError id="revoke-value-error" error={problem} />
            </div>
            <div class="field">
              <label for="revoke-reason">Reason (optional)</label>
              <input
                id="revoke-reason"
                value={reason}
                onInput={(e) => setReason((e.target as HTMLInputElement).value)}
              />
            </div>
          </div>
          <ConfirmButton
            label="Revoke"
            question={`Revoke the ${kind} ${value.trim()}? This ends ${WHAT[kind]}, at once.`}
            confirm="Revoke now"
            onConfirm={revoke}
            ready={ready}
          />
        </fieldset>
      </form>
      <Status message={status?.message ?? null} tone={status?.tone ?? 'ok'} />
      {error !== null && <Status message={`Revocations could not be read: ${error}`} tone="error" />}
      {data !== null && (
        <Scroll label="Revocations">
          <table class="data" id="revocations-table">
            <caption>
              {data.length === 0 ? 'No revocations' : `The latest ${data.length}, newest first`}
            </caption>
            <thead>
              <tr>
                <th scope="col">Kind</th>
                <th scope="col">Id</th>
                <th scope="col">Revoked</th>
                <th scope="col">Kept until</th>
                <th scope="col">Reason</th>
              </tr>
            </thead>
            <tbody>
              {data.map((r) => (
                <tr key={`${r.kind}:${r.id}`}>
                  <td>{r.kind}</td>
                  <th scope="row">
                    <code>{r.id}</code>
                  </th>
                  <td>{at(r.revoked_at)}</td>
                  <td>{at(r.expires_at)}</td>
                  <td>{r.reason ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </Scroll>
      )}
    </section>
  )
}
