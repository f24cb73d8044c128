/**
 * Why a change to the identity provider's users or clients was not made, said once for both callers:
 * `gatehouse users|clients` prints it (cli/), the admin API answers it with a code and the field
 * (admin/identity-*.ts). The message names the user or client and the field, never a password or secret.
 */

export type RefusalKind =
  /** The input breaks a rule of `identity.users` / `identity.clients` (or the password policy). */
  | 'invalid'
  /** The configuration file declares it: it is changed there. */
  | 'managed'
  | 'not_found'
  /** A unique value (username, e-mail address, client_id, id) is taken. */
  | 'taken'
  /** A setting it needs is not set (identity.secret, for a confidential client's secret). */
  | 'unconfigured'

/** One problem with the input, at a field path relative to the user or client (`roles[1]`, `claims.tier`). */
export interface FieldProblem {
  readonly path: string
  readonly message: string
}

export class IdentityChangeRefused extends Error {
  readonly kind: RefusalKind
  /** Problems by field (kind `invalid` and `taken`); empty otherwise. */
  readonly problems: readonly FieldProblem[]
  /** What was refused, as a message names it (`user 'carol'`); '' when the input as a whole. */
  readonly what: string

  constructor(kind: RefusalKind, message: string, problems: readonly FieldProblem[] = [], what = '') {
    super(message)
    this.name = 'IdentityChangeRefused'
    this.kind = kind
    this.problems = problems
    this.what = what
  }
}

/** The `invalid` refusal listing every problem as `path: message`. */
export function invalid(problems: readonly FieldProblem[]): IdentityChangeRefused {
  const text = problems.map((p) => (p.path === '' ? p.message : `${p.path}: ${p.message}`)).join('; ')
  return new IdentityChangeRefused('invalid', text, problems)
}
