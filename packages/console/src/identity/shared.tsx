/**
 * What the Identity page's sections share: a list loaded from the admin API and reloaded after each change,
 * a button that asks before it does anything destructive, and a field error shown next to its field.
 */
import type { ComponentChildren } from 'preact'
import { useCallback, useEffect, useRef, useState } from 'preact/hooks'
import { AdminError, adminGet } from '../api.ts'
import { describeError } from '../send.ts'

export interface SectionProps {
  readonly token: string | null
  readonly onUnauthorized: (message: string) => void
}

export function useList<T>(path: string, { token, onUnauthorized }: SectionProps) {
  const [data, setData] = useState<T[] | null>(null)
  const [error, setError] = useState<string | null>(null)
  const reload = useCallback(async () => {
    try {
      setData((await adminGet<{ data: T[] }>(path, token)).data)
      setError(null)
    } catch (err) {
      if (err instanceof AdminError && err.status === 401) return onUnauthorized(err.message)
      setError(describeError(err))
    }
  }, [path, token])
  useEffect(() => void reload(), [reload])
  return { data, error, reload }
}

/** Runs an admin call; a 401 signs out, any other failure becomes the returned message. */
export async function attempt(
  run: () => Promise<unknown>,
  onUnauthorized: (m: string) => void,
): Promise<string | null> {
  try {
    await run()
    return null
  } catch (err) {
    if (err instanceof AdminError && err.status === 401) onUnauthorized(err.message)
    return describeError(err)
  }
}

interface ConfirmProps {
  /** The button's accessible name, naming what it acts on. */
  readonly label: string
  /** Shorter visible text, where the row already names the thing (default: the label). */
  readonly text?: string
  /** The question, naming what will happen and to what. */
  readonly question: string
  readonly confirm: string
  readonly onConfirm: () => Promise<void>
  /** Checks the form first: false shows its problems and asks nothing (default: always ask). */
  readonly ready?: () => boolean
}

/** A destructive action: the first press asks, in place, and only the confirm button acts. */
export function ConfirmButton({ label, text, question, confirm, onConfirm, ready }: ConfirmProps) {
  const [asking, setAsking] = useState(false)
  const confirmRef = useRef<HTMLButtonElement>(null)
  useEffect(() => {
    if (asking) confirmRef.current?.focus()
  }, [asking])
  if (!asking)
    return (
      <button
        type="button"
        class="small ghost"
        aria-label={text === undefined ? undefined : label}
        onClick={() => setAsking(ready?.() ?? true)}
      >
        {text ?? label}
      </button>
    )
  return (
    <div class="confirm" role="alertdialog" aria-label={question}>
      <p>{question}</p>
      <div class="actions">
        <button
          type="button"
          class="small danger"
          ref={confirmRef}
          onClick={async () => {
            await onConfirm()
            setAsking(false)
          }}
        >
          {confirm}
        </button>
        <button type="button" class="small ghost" onClick={() => setAsking(false)}>
          Cancel
        </button>
      </div>
    </div>
  )
}

export function FieldError({ id, error }: { id: string; error: string | undefined }) {
  if (error === undefined) return null
  return (
    <p id={id} class="field-error">
      {error}
    </p>
  )
}

export function Status({ message, tone }: { message: string | null; tone: 'ok' | 'error' }) {
  if (message === null) return null
  return (
    <p
      class={`notice ${tone === 'ok' ? 'notice-ok' : 'notice-error'}`}
      role={tone === 'ok' ? 'status' : 'alert'}
    >
      {message}
    </p>
  )
}

export function Scroll({ label, children }: { label: string; children: ComponentChildren }) {
  return (
    // biome-ignore lint/a11y/noNoninteractiveTabindex: a keyboard must be able to scroll a wide table sideways on a phone (axe: scrollable-region-focusable)
    <section class="table-scroll" tabIndex={0} aria-label={label}>
      {children}
    </section>
  )
}

export function at(epochOrIso: unknown): string {
  if (typeof epochOrIso === 'number') return new Date(epochOrIso * 1000).toLocaleString()
  if (typeof epochOrIso === 'string') return new Date(epochOrIso).toLocaleString()
  return '–'
}
