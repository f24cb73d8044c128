/**
 * An entity's create/edit form, its fields made from the schema the admin API validates the write with
 * (read from /openapi.json): text, numbers, yes/no, choices, lists as comma-separated text, references
 * as an id or name, anything nested as JSON. The admin API does the validation; its 400 names each field
 * (`fields`: `paths[0]` → message), and the message is shown under the field it concerns.
 */
import { useState } from 'preact/hooks'
import { adminWrite, type Entity, type Kind, type Schema, WriteError } from './model.ts'

type Widget = 'text' | 'number' | 'boolean' | 'choice' | 'list' | 'reference' | 'json'

const REFERENCES = new Set(['service', 'route', 'consumer', 'upstream'])
const SKIPPED = new Set(['id', 'created_at', 'updated_at'])
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

function typesOf(s: Schema): readonly string[] {
  const own = s.type === undefined ? [] : Array.isArray(s.type) ? s.type : [s.type as string]
  return [...own, ...[...(s.anyOf ?? []), ...(s.oneOf ?? [])].flatMap(typesOf)]
}

function widgetOf(name: string, s: Schema): Widget {
  if (REFERENCES.has(name)) return 'reference'
  if (s.enum !== undefined) return 'choice'
  const types = typesOf(s)
  if (types.includes('object')) return 'json'
  if (types.includes('array')) {
    const items = s.items === undefined ? [] : typesOf(s.items)
    return items.length > 0 && items.every((t) => t === 'string' || t === 'integer' || t === 'number')
      ? 'list'
      : 'json'
  }
  if (types.includes('boolean')) return 'boolean'
  if (types.includes('integer') || types.includes('number')) return 'number'
  return 'text'
}

/** The text a field starts with, from the entity being edited. */
function initialText(widget: Widget, value: unknown): string {
  if (value === null || value === undefined) return ''
  switch (widget) {
    case 'list':
      return Array.isArray(value) ? value.join(', ') : ''
    case 'reference':
      return (value as { id?: string }).id ?? ''
    case 'json':
      return JSON.stringify(value, null, 2)
    default:
      return String(value)
  }
}

/** The value a field's text stands for; undefined leaves the field out of the body. */
function bodyValue(widget: Widget, text: string, s: Schema): unknown {
  const t = text.trim()
  if (t === '') return undefined
  switch (widget) {
    case 'number':
      return Number(t)
    case 'boolean':
      return t === 'true'
    case 'list': {
      const numeric = s.items !== undefined && typesOf(s.items).every((x) => x !== 'string')
      return t
        .split(',')
        .map((x) => x.trim())
        .filter((x) => x !== '')
        .map((x) => (numeric ? Number(x) : x))
    }
    case 'reference':
      return UUID.test(t) ? { id: t } : { name: t }
    case 'json':
      try {
        return JSON.parse(t)
      } catch {
        return t // Sent as is: the admin API names the field it expected an object for.
      }
    default:
      return t
  }
}

/** The top-level field a problem's path concerns: `paths[0]` → `paths`, `config.minute` → `config`. */
export function fieldOf(path: string): string {
  return path.split(/[.[]/)[0] ?? path
}

interface Props {
  readonly kind: Kind
  readonly token: string | null
  /** The entity being edited; null to create one. */
  readonly entity: Entity | null
  /** Where a new one is created (a credential under its consumer); default the collection. */
  readonly createPath?: string
  /** Fields given by where the form is (a credential's consumer): not asked. */
  readonly fixed?: readonly string[]
  readonly onSaved: (saved: Entity) => void
  readonly onCancel: () => void
}

/**
 * A schema description as the docs show it: the admin API's descriptions are the configuration
 * reference's (Markdown), so `code` spans become code and a link's text stays, without its target.
 */
function Described({ text }: { text: string }) {
  const plain = text.replace(/\[([^\]]+)\]\([^)]*\)/g, '$1')
  return (
    <>
      {plain.split('`').map((part, i) =>
        // Odd pieces lay between backticks; the pieces of one fixed string, so the index is a stable key.
        i % 2 === 1 ? <code key={i}>{part}</code> : part,
      )}
    </>
  )
}

export function EntityForm({ kind, token, entity, createPath, fixed = [], onSaved, onCancel }: Props) {
  const props = Object.entries(kind.write?.properties ?? {}).filter(
    // `_comment`/`_ignore` are notes for a declarative file's reader, not settings: not worth a field here.
    ([name]) => !SKIPPED.has(name) && !name.startsWith('_') && !fixed.includes(name),
  )
  const fields = props.map(([name, s]) => ({ name, schema: s, widget: widgetOf(name, s) }))
  const [texts, setTexts] = useState<Record<string, string>>(() =>
    Object.fromEntries(fields.map((f) => [f.name, initialText(f.widget, entity?.[f.name])])),
  )
  const [problems, setProblems] = useState<Readonly<Record<string, string>>>({})
  const [error, setError] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  const required = new Set(kind.write?.required ?? [])

  const submit = async (e: Event) => {
    e.preventDefault()
    setBusy(true)
    const body: Record<string, unknown> = {}
    for (const f of fields) {
      const v = bodyValue(f.widget, texts[f.name] ?? '', f.schema)
      // Editing: an emptied field is cleared (null), as a PATCH can; creating: left to its default.
      if (v !== undefined) body[f.name] = v
      else if (entity !== null && entity[f.name] !== null && entity[f.name] !== undefined) body[f.name] = null
    }
    try {
      const saved =
        entity === null
          ? await adminWrite<Entity>('POST', createPath ?? `/${kind.collection}`, token, body)
          : await adminWrite<Entity>(
              'PATCH',
              `/${kind.collection}/${encodeURIComponent(entity.id)}`,
              token,
              body,
            )
      setProblems({})
      setError(null)
      onSaved(saved!)
    } catch (err) {
      const byField: Record<string, string> = {}
      const other: string[] = []
      if (err instanceof WriteError)
        for (const [path, message] of Object.entries(err.fields)) {
          const at = fieldOf(path)
          if (fields.some((f) => f.name === at)) {
            const line = path === at ? message : `${path}: ${message}`
            byField[at] = byField[at] === undefined ? line : `${byField[at]}; ${line}`
          } else other.push(`${path}: ${message}`)
        }
      setProblems(byField)
      const base = err instanceof Error ? err.message : String(err)
      setError(
        other.length > 0 || Object.keys(byField).length === 0 ? base : 'Some fields need fixing: see below.',
      )
    } finally {
      setBusy(false)
    }
  }

  const idOf = (name: string) => `field-${name}`
  return (
    <form class="entity-form" onSubmit={submit} noValidate>
      {error !== null && (
        <p class="notice notice-error" role="alert" id="form-error">
          {error}
        </p>
      )}
      {fields.map((f) => {
        const id = idOf(f.name)
        const problem = problems[f.name]
        const describedBy = [problem && `${id}-error`, f.schema.description && `${id}-help`]
          .filter(Boolean)
          .join(' ')
        const common = {
          id,
          name: f.name,
          'aria-invalid': problem !== undefined ? ('true' as const) : undefined,
          'aria-describedby': describedBy === '' ? undefined : describedBy,
        }
        const text = texts[f.name] ?? ''
        const set = (v: string) => setTexts((t) => ({ ...t, [f.name]: v }))
        return (
          <div class="form-field" key={f.name} data-field={f.name}>
            <label for={id}>
              {f.name}
              {required.has(f.name) && entity === null ? ' (required)' : ''}
              {f.widget === 'list' && <span class="muted small"> (comma-separated)</span>}
              {f.widget === 'reference' && <span class="muted small"> (id or name)</span>}
              {f.widget === 'json' && <span class="muted small"> (JSON)</span>}
            </label>
            {f.widget === 'boolean' || f.widget === 'choice' ? (
              <select {...common} value={text} onChange={(e) => set((e.target as HTMLSelectElement).value)}>
                <option value="">(default)</option>
                {(f.widget === 'boolean' ? ['true', 'false'] : (f.schema.enum ?? []).map(String)).map((v) => (
                  <option key={v} value={v}>
                    {v}
                  </option>
                ))}
              </select>
            ) : f.widget === 'json' ? (
              <textarea
                {...common}
                rows={4}
                value={text}
                onInput={(e) => set((e.target as HTMLTextAreaElement).value)}
              />
            ) : (
              <input
                {...common}
                type="text"
                inputMode={f.widget === 'number' ? 'decimal' : undefined}
                value={text}
                onInput={(e) => set((e.target as HTMLInputElement).value)}
              />
            )}
            {problem !== undefined && (
              <p class="field-error" id={`${id}-error`}>
                {problem}
              </p>
            )}
            {f.schema.description !== undefined && (
              <p class="muted small help" id={`${id}-help`}>
                <Described text={f.schema.description} />
              </p>
            )}
          </div>
        )
      })}
      <div class="form-actions">
        <button type="submit" disabled={busy}>
          {entity === null ? 'Create' : 'Save'}
        </button>
        <button type="button" class="plain" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  )
}
