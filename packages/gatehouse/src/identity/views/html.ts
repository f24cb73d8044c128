/**
 * HTML built with a tagged template that escapes every interpolated value (OWASP XSS rule #1), unless
 * it is markup built the same way. Nothing user-supplied can become markup by accident.
 */
const kSafe = Symbol('gatehouse.safeHtml')

export interface SafeHtml {
  readonly [kSafe]: string
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!)
}

type Value = string | number | SafeHtml | readonly SafeHtml[] | null | undefined | false

function render(value: Value): string {
  if (value === null || value === undefined || value === false) return ''
  if (Array.isArray(value)) return value.map((v: SafeHtml) => v[kSafe]).join('')
  if (typeof value === 'object') return (value as SafeHtml)[kSafe]
  return escapeHtml(String(value))
}

export function html(strings: TemplateStringsArray, ...values: Value[]): SafeHtml {
  let out = strings[0]!
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1]!
  return { [kSafe]: out }
}

/** Markup from a trusted source (oidc-provider's own logout form), taken as is. */
export function trusted(markup: string): SafeHtml {
  return { [kSafe]: markup }
}

export function markupOf(markup: SafeHtml): string {
  return markup[kSafe]
}
