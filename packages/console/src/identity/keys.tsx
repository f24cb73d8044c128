/**
 * Signing keys: the identity provider's (GET /identity/keys, rotate) and the internal-token keys
 * (GET /internal-tokens/keys, rotate). Either kind is withdrawn at once, on every node, through
 * POST /signing-keys/{kid}/revoke, after a confirmation. Never key material: the API gives none.
 */
import { useState } from 'preact/hooks'
import { adminSend } from '../send.ts'
import { at, attempt, ConfirmButton, Scroll, type SectionProps, Status, useList } from './shared.tsx'

interface Key {
  readonly kid: string
  readonly alg: string
  readonly state?: string
  readonly [date: string]: unknown
}

interface Props extends SectionProps {
  readonly id: string
  readonly title: string
  readonly list: string
  readonly rotate: string
  readonly rotateWhat: string
}

/** The dates either kind of key may carry (epoch seconds), in words, in a key's life order. */
const DATES: readonly (readonly [string, string])[] = [
  ['created_at', 'created'],
  ['activate_at', 'signs from'],
  ['retired_at', 'retired'],
  ['remove_at', 'removed at'],
  ['delete_after', 'deleted after'],
]

function dates(k: Key): string {
  return DATES.filter(([name]) => k[name] != null)
    .map(([name, words]) => `${words} ${at(k[name])}`)
    .join('; ')
}

function KeyTable({ id, title, list, rotate, rotateWhat, ...props }: Props) {
  const { data, error, reload } = useList<Key>(list, props)
  const [status, setStatus] = useState<{ message: string; tone: 'ok' | 'error' } | null>(null)
  const act = async (run: () => Promise<unknown>, done: string) => {
    const failed = await attempt(run, props.onUnauthorized)
    // The list first, then the message: when "withdrawn" is announced, the list already says so.
    await reload()
    setStatus(failed === null ? { message: done, tone: 'ok' } : { message: failed, tone: 'error' })
  }
  return (
    <section aria-labelledby={`${id}-title`}>
      <h3 id={`${id}-title`}>{title}</h3>
      <ConfirmButton
        label={`Rotate the ${title.toLowerCase()}`}
        question={rotateWhat}
        confirm="Rotate now"
        onConfirm={() => act(() => adminSend('POST', rotate, props.token), `${title}: rotated.`)}
      />
      <Status message={status?.message ?? null} tone={status?.tone ?? 'ok'} />
      {error !== null && <Status message={`Keys could not be read: ${error}`} tone="error" />}
      {data !== null && (
        <Scroll label={title}>
          <table class="data" id={`${id}-table`}>
            <caption>{data.length === 1 ? '1 key' : `${data.length} keys`}</caption>
            <thead>
              <tr>
                <th scope="col">Key id</th>
                <th scope="col">Algorithm</th>
                <th scope="col">State</th>
                <th scope="col">Dates</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {data.map((k) => (
                <tr key={k.kid} data-kid={k.kid} data-state={k.state ?? ''}>
                  <th scope="row">
                    <code>{k.kid}</code>
                  </th>
                  <td>{k.alg}</td>
                  <td data-field="state">{k.state ?? '–'}</td>
                  <td class="wrap small">{dates(k)}</td>
                  <td>
                    {k.state !== 'revoked' && (
                      <ConfirmButton
                        label={`Withdraw ${k.kid}`}
                        text="Withdraw"
                        question={`Withdraw the key ${k.kid} now, on every node? Tokens it signed stop being accepted at once.`}
                        confirm="Withdraw"
                        onConfirm={() =>
                          act(
                            () =>
                              adminSend(
                                'POST',
                                `/signing-keys/${encodeURIComponent(k.kid)}/revoke`,
                                props.token,
                                {},
                              ),
                            `${k.kid} withdrawn.`,
                          )
                        }
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

export function Keys(props: SectionProps & { readonly identity: boolean }) {
  return (
    <section aria-labelledby="keys-title">
      <h2 id="keys-title">Signing keys</h2>
      {props.identity && (
        <KeyTable
          {...props}
          id="idp-keys"
          title="Identity provider keys"
          list="/identity/keys"
          rotate="/identity/keys/rotate"
          rotateWhat="Rotate the identity provider's keys? The next key signs now; the active one is retired and still verifies what it signed."
        />
      )}
      <KeyTable
        {...props}
        id="internal-keys"
        title="Internal-token keys"
        list="/internal-tokens/keys"
        rotate="/internal-tokens/keys/rotate"
        rotateWhat="Rotate the internal-token keys? A new key signs at once; services fetch it from the JWKS."
      />
    </section>
  )
}
