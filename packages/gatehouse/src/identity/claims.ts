/**
 * Which user claims each OpenID scope releases (OpenID Connect Core §5.4). oidc-provider masks the
 * account's claims with this table, so a profile claim such as `country` never reaches an ID token or
 * userinfo unless listed here; APIs get their configured claims in access tokens instead (resources.ts).
 */
export const SCOPE_CLAIMS = {
  // How and how strongly the user signed in (issue 14, RFC 8176): with every ID token.
  openid: ['sub', 'acr', 'amr'],
  profile: [
    'name',
    'family_name',
    'given_name',
    'middle_name',
    'nickname',
    'preferred_username',
    'profile',
    'picture',
    'website',
    'gender',
    'birthdate',
    'zoneinfo',
    'locale',
    'updated_at',
  ],
  email: ['email', 'email_verified'],
}

/** The scopes oidc-provider knows as its own (OpenID scopes); every other scope belongs to an API. */
export const OPENID_SCOPES: ReadonlySet<string> = new Set(['openid', 'offline_access', 'profile', 'email'])
