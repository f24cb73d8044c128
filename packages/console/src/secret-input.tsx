/**
 * A password-type field with a Show/Hide toggle, for what an operator pastes or types that must not sit
 * on screen by default (a token, an API key, a user's new password). The value lives in the caller's
 * state only; autocomplete is off so the browser neither offers nor saves it.
 */
import { useState } from 'preact/hooks'

interface Props {
  readonly id: string
  readonly value: string
  readonly onInput: (value: string) => void
  /** Field error shown below (the caller renders it), for aria-invalid/-describedby. */
  readonly errorId?: string | undefined
  /** `new-password` for a password being set, so password managers offer to generate one. */
  readonly autocomplete?: 'off' | 'new-password'
}

export function SecretInput({ id, value, onInput, errorId, autocomplete = 'off' }: Props) {
  const [show, setShow] = useState(false)
  // Preact's types tie `type` to a literal per attribute set; both values are valid for this input.
  const type = (show ? 'text' : 'password') as 'password'
  return (
    <div class="secret">
      <input
        id={id}
        type={type}
        autocomplete={autocomplete}
        spellcheck={false}
        value={value}
        aria-invalid={errorId !== undefined ? true : undefined}
        aria-describedby={errorId}
        onInput={(e) => onInput((e.target as HTMLInputElement).value)}
      />
      <button
        type="button"
        class="ghost"
        aria-pressed={show}
        aria-controls={id}
        aria-label={`${show ? 'Hide' : 'Show'} the value`}
        onClick={() => setShow((s) => !s)}
      >
        {show ? 'Hide' : 'Show'}
      </button>
    </div>
  )
}
