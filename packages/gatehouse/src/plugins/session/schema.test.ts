/**
 * The session config as the loader checks it: defaults, and each mistake reported as one
 * `FILE: path: message` line (in-process).
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { FILE, load, problems, withService } from '../../../test/harness/config.ts'
import type { SessionConfig } from './schema.ts'

const BASE = {
  issuer: 'https://id.shop.example',
  client_id: 'shop-web',
  client_secret: 'shop-web-secret',
  secret: 'a-session-secret-of-at-least-32-chars',
}
const AT = `${FILE}: services[0].plugins[0].config`

function configOf(config: object): SessionConfig {
  return load(withPlugin(config)).plugins[0]!.config as SessionConfig
}

function withPlugin(config: object): string {
  return withService(`  plugins:\n  - name: session\n    config: ${JSON.stringify(config)}\n`)
}

describe('session configuration', () => {
  it('fills in every default around the required keys', () => {
    assert.deepEqual(load(withPlugin(BASE)).plugins[0]!.config, {
      ...BASE,
      scopes: ['openid', 'profile', 'offline_access'],
      login_path: '/login',
      callback_path: '/callback',
      logout_path: '/logout',
      session_info_path: '/session',
      redirect_navigations: true,
      post_login_redirect: '/',
      post_logout_redirect: '/',
      storage: 'cookie',
      on_store_failure: 'no_session',
      cookie: { name: 'gh_session', same_site: 'Lax', secure: 'auto', max_size: 4000 },
      idle_timeout: 1800,
      absolute_timeout: 86_400,
      refresh_before: 60,
      login_timeout: 600,
      timeout: 10,
      csrf: {
        check: 'origin-or-token',
        allowed_origins: [],
        header_name: 'X-CSRF-Token',
        cookie_name: 'gh_csrf',
      },
      optional: false,
    })
  })

  it('takes a step-up requirement, and names what is wrong with one', () => {
    const require = { amr: ['mfa'], max_age: 600 }
    const config = load(withPlugin({ ...BASE, require })).plugins[0]!.config as { require?: unknown }
    assert.deepEqual(config.require, require)
    assert.deepEqual(problems(withPlugin({ ...BASE, require: {} })), [
      `${AT}.require: must set at least one of acr, amr, max_age`,
    ])
    assert.deepEqual(problems(withPlugin({ ...BASE, require: { amr: ['m"fa'] } })), [
      `${AT}.require.amr[0]: must be an amr value: printable ASCII, no spaces or quotes`,
    ])
    assert.equal(problems(withPlugin({ ...BASE, require: { max_age: -1 } })).length, 1)
    assert.equal(problems(withPlugin({ ...BASE, require: { acr: [] } })).length, 1)
    assert.equal(problems(withPlugin({ ...BASE, require: { amr: ['mfa'], level: 2 } })).length, 1)
  })

  it('keeps sessions in Redis only with the top-level redis section, and names the key otherwise', () => {
    assert.deepEqual(problems(withPlugin({ ...BASE, storage: 'redis' })), [
      `${AT}.storage: 'redis' needs a Redis server: add the top-level \`redis\` section (shared by every plugin)`,
    ])
    const config = load(
      `redis: { url: "redis://127.0.0.1:6379" }\n${withPlugin({ ...BASE, storage: 'redis', on_store_failure: 'error' })}`,
    ).plugins[0]!.config as { storage: string; on_store_failure: string }
    assert.deepEqual([config.storage, config.on_store_failure], ['redis', 'error'])
  })

  it('requires the provider, the client and the secret, and a secret of 32 characters or more', () => {
    assert.deepEqual(problems(withPlugin({})), [
      `${AT}.issuer: is required`,
      `${AT}.client_id: is required`,
      `${AT}.client_secret: is required`,
      `${AT}.secret: is required`,
    ])
    assert.deepEqual(problems(withPlugin({ ...BASE, secret: 'short' })), [
      `${AT}.secret: must be at least 32 characters (openssl rand -base64 32)`,
    ])
  })

  it('allows plain http only for a provider on loopback', () => {
    assert.equal(
      configOf({ ...BASE, issuer: 'http://127.0.0.1:8000/auth' }).issuer,
      'http://127.0.0.1:8000/auth',
    )
    assert.deepEqual(problems(withPlugin({ ...BASE, issuer: 'http://id.shop.example' })), [
      `${AT}.issuer: must use https (plain http is allowed only for localhost, 127.0.0.1 and [::1])`,
    ])
  })

  it('requires openid among the scopes', () => {
    assert.deepEqual(problems(withPlugin({ ...BASE, scopes: ['profile'] })), [
      `${AT}.scopes: must include openid`,
    ])
  })

  it('refuses paths that are not absolute, or two features on one path', () => {
    assert.deepEqual(problems(withPlugin({ ...BASE, login_path: 'login', logout_path: '/a/../b' })), [
      `${AT}.login_path: must be an absolute path such as /login (no query or fragment)`,
      `${AT}.logout_path: must not contain . or .. segments`,
    ])
    assert.deepEqual(problems(withPlugin({ ...BASE, session_info_path: '/login' })), [
      `${AT}.session_info_path: is the same path as login_path`,
    ])
  })

  it('requires the redirect URI to end at callback_path', () => {
    assert.deepEqual(problems(withPlugin({ ...BASE, redirect_uri: 'https://shop.example/cb' })), [
      `${AT}.redirect_uri: its path must be callback_path (/callback)`,
    ])
    assert.equal(
      configOf({ ...BASE, redirect_uri: 'https://shop.example/callback' }).redirect_uri,
      'https://shop.example/callback',
    )
  })

  it('refuses redirects to other hosts written as paths', () => {
    assert.deepEqual(problems(withPlugin({ ...BASE, post_login_redirect: '//evil.example/' })), [
      `${AT}.post_login_redirect: must be a path on this site (such as /account) or an absolute http(s) URL`,
    ])
    assert.equal(
      configOf({ ...BASE, post_logout_redirect: 'https://shop.example/bye' }).post_logout_redirect,
      'https://shop.example/bye',
    )
  })

  it('refuses cookie settings browsers would reject', () => {
    assert.deepEqual(problems(withPlugin({ ...BASE, cookie: { same_site: 'None' } })), [
      `${AT}.cookie.secure: must be true with same_site None (browsers refuse such cookies otherwise)`,
    ])
    assert.deepEqual(problems(withPlugin({ ...BASE, cookie: { name: '__Host-session' } })), [
      `${AT}.cookie.secure: must be true for a cookie named __Host-… (browsers refuse it otherwise)`,
    ])
    assert.deepEqual(problems(withPlugin({ ...BASE, csrf: { cookie_name: 'gh_session' } })), [
      `${AT}.csrf.cookie_name: must differ from the session cookie and its sign-in cookie`,
    ])
    assert.deepEqual(problems(withPlugin({ ...BASE, cookie: { name: 'a b' } })), [
      `${AT}.cookie.name: must be a cookie name (RFC 6265 token, at most 64 characters)`,
    ])
  })

  it('checks the timeouts against each other and the fallbacks against each other', () => {
    assert.deepEqual(problems(withPlugin({ ...BASE, idle_timeout: 7200, absolute_timeout: 3600 })), [
      `${AT}.idle_timeout: must not exceed absolute_timeout`,
    ])
    assert.deepEqual(problems(withPlugin({ ...BASE, anonymous: 'guest', optional: true })), [
      `${AT}.optional: cannot be set together with anonymous: choose one way to let requests without a session in`,
    ])
  })

  it('takes origins, not URLs, as allowed CSRF origins', () => {
    assert.deepEqual(
      problems(withPlugin({ ...BASE, csrf: { allowed_origins: ['https://shop.example/app'] } })),
      [
        `${AT}.csrf.allowed_origins[0]: must be an origin: scheme, host and port only, such as https://shop.example`,
      ],
    )
  })
})
