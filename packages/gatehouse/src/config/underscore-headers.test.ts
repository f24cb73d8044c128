import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { load, problems, withService } from '../../test/harness/config.ts'

describe('edge settings checked at load (proxy.path_normalization, proxy.headers_with_underscores)', () => {
  it('refuses a route header matcher with an underscore while such headers are dropped or refused', () => {
    const routes = '  routes:\n  - name: v2\n    paths: [/v2]\n    headers: { x_version: [v2] }\n'
    assert.deepEqual(problems(withService(routes)), [
      "gatehouse.yaml: services[0].routes[0].headers.x_version: 'x_version' contains '_' and can never match: proxy.headers_with_underscores is drop, so such request headers never reach the router (use '-', or set it to allow)",
    ])
    assert.match(
      problems(`${withService(routes)}proxy: { headers_with_underscores: reject }\n`)[0]!,
      /headers_with_underscores is reject/,
    )
    assert.equal(load(`${withService(routes)}proxy: { headers_with_underscores: allow }\n`).routes.length, 1)
  })

  it('warns, without refusing, when a plugin reads a request header with an underscore', () => {
    const config = load(
      withService(
        '  routes:\n  - name: r\n    paths: [/r]\n    plugins:\n    - name: key-auth\n      config: { key_names: [apikey, api_key] }\n',
      ),
    )
    assert.deepEqual(config.notices, [
      "services[0].routes[0].plugins[0].config.key_names[1]: request header 'api_key' contains '_', and proxy.headers_with_underscores is drop, so plugin 'key-auth' never sees it in a header",
    ])
    const allowed = load(
      `${withService('  routes:\n  - name: r\n    paths: [/r]\n    plugins:\n    - name: jwt\n      config: { header_names: [x_token] }\n')}proxy: { headers_with_underscores: allow }\n`,
    )
    assert.deepEqual(allowed.notices, [])
  })

  it('makes route prefixes canonical with the same settings as requests, and refuses one that could never match', () => {
    const paths = (p: string, proxy = '') =>
      `${withService(`  routes:\n  - name: r\n    paths: ['${p}']\n`)}${proxy}`
    assert.deepEqual(load(paths('/app//admin')).routes[0]!.paths, ['/app/admin'])
    assert.deepEqual(
      load(paths('/app//admin', 'proxy: { path_normalization: { merge_slashes: false } }\n')).routes[0]!
        .paths,
      ['/app//admin'],
    )
    assert.deepEqual(load(paths('/v1.')).routes[0]!.paths, ['/v1.'])
    assert.deepEqual(problems(paths('/a%2Fb')), [
      'gatehouse.yaml: services[0].routes[0].paths[0]: can never match: requests are refused for encoded slash (%2F) in the path (proxy.path_normalization)',
    ])
    assert.deepEqual(
      load(paths('/a%2fb', 'proxy: { path_normalization: { escaped_slashes: keep } }\n')).routes[0]!.paths,
      ['/a%2Fb'],
    )
  })

  it('takes each setting of proxy.path_normalization from its documented set, with the safe defaults', () => {
    const config = load(withService(''))
    assert.deepEqual(config.settings.proxy.path_normalization, {
      merge_slashes: true,
      escaped_slashes: 'reject',
      backslashes: 'reject',
      path_parameters: 'reject',
      trailing_dots: 'reject',
    })
    assert.equal(config.settings.proxy.headers_with_underscores, 'drop')
    assert.deepEqual(
      problems(`${withService('')}proxy: { path_normalization: { escaped_slashes: decode } }\n`),
      [
        'gatehouse.yaml: proxy.path_normalization.escaped_slashes: expected one of "reject"|"keep"|"unescape"',
      ],
    )
  })
})
