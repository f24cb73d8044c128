/**
 * Ids and unique fields of one entity type while a document is normalised: detects duplicates and
 * resolves references by the type's key (a service's name, a consumer's username) or id, reporting each
 * problem at its key path. Which members a reference may have is the schema's (schema/typedefs.ts).
 */
import type { Reference } from './schema/typedefs.ts'

export class EntityIndex {
  readonly #type: string
  readonly #key: 'name' | 'username'
  readonly #issue: (path: string, message: string) => void
  readonly #byId = new Map<string, string>()
  readonly #byField = new Map<string, { id: string; at: string }>()

  /** `key`: the unique field a reference may name instead of the id (Kong's endpoint key). */
  constructor(
    type: string,
    issue: (path: string, message: string) => void,
    key: 'name' | 'username' = 'name',
  ) {
    this.#type = type
    this.#key = key
    this.#issue = issue
  }

  /**
   * Registers an entity. A derived id collides only when the field it is derived from does, which is
   * reported under that field's name, so only an id written in the file is reported as a duplicate.
   */
  add(id: string, explicitId: boolean, at: string, unique: [field: string, value: string | null][]): void {
    const seen = this.#byId.get(id)
    if (!seen) this.#byId.set(id, at)
    else if (explicitId) this.#issue(`${at}.id`, `duplicate ${this.#type} id '${id}' (also at ${seen})`)
    for (const [field, value] of unique) {
      if (value === null) continue
      const key = `${field}\0${value}`
      const other = this.#byField.get(key)
      if (other)
        this.#issue(`${at}.${field}`, `duplicate ${this.#type} ${field} '${value}' (also at ${other.at})`)
      else this.#byField.set(key, { id, at })
    }
  }

  /** The id a reference points at, or undefined after recording a dangling-reference issue. */
  resolve(ref: Reference, at: string): string | undefined {
    const key = this.#key
    const byKey = (text: string) => this.#byField.get(`${key}\0${text}`)?.id
    const byId = (text: string) => (this.#byId.has(text) ? text : undefined)
    let text: string
    let id: string | undefined
    let what: string
    if (typeof ref === 'string') {
      text = ref
      id = byKey(text) ?? byId(text)
      what = `${key} or id`
    } else if ('id' in ref) {
      text = ref.id
      id = byId(text)
      what = 'id'
    } else {
      // The schema allows only this type's key here; anything else never reaches the index.
      text = (ref as Record<string, string>)[key] ?? ''
      id = byKey(text)
      what = key
    }
    if (!id) this.#issue(at, `no ${this.#type} with ${what} '${text}'`)
    return id
  }
}
