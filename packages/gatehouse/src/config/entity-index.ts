/**
 * Ids and unique fields of one entity type while a document is normalised: detects duplicates and
 * resolves references by name, username or id, reporting each problem at its key path.
 */
import type { Reference } from './schema/typedefs.ts'

export class EntityIndex {
  readonly #type: string
  readonly #issue: (path: string, message: string) => void
  readonly #byId = new Map<string, string>()
  readonly #byField = new Map<string, { id: string; at: string }>()

  constructor(type: string, issue: (path: string, message: string) => void) {
    this.#type = type
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
    const text =
      typeof ref === 'string' ? ref : 'id' in ref ? ref.id : 'name' in ref ? ref.name : ref.username
    const byField = (field: string) => this.#byField.get(`${field}\0${text}`)?.id
    let id: string | undefined
    if (typeof ref === 'string')
      id = byField('name') ?? byField('username') ?? (this.#byId.has(text) ? text : undefined)
    else if ('id' in ref) id = this.#byId.has(text) ? text : undefined
    else id = byField('name' in ref ? 'name' : 'username')
    if (!id) this.#issue(at, `no ${this.#type} with name or id '${text}'`)
    return id
  }
}
