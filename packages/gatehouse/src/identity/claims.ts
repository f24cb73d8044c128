/**
 * Which user claims each OpenID scope releases (OpenID Connect Core §5.4). oidc-provider masks the
 * account's claims with this table, so a profile claim such as `country` never reaches an ID token or
 * userinfo unless listed here; APIs get their configured claims in access tokens instead (resources.ts).
 */
export const SCOPE_CLAIMS = {
  // How and when the user signed in (issue 14): in every ID token, not only when a client asks for it
  // (oidc-provider otherwise releases acr with acr_values and auth_time with max_age only).
  openid: ['sub', 'acr', 'amr', 'auth_time'],
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
