import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { appendSetCookie, clearCookie, readCookie, serializeCookie } from './cookies.ts'
import { safeReturnTo } from './origin.ts'

const ATTRIBUTES = { path: '/', httpOnly: true, secure: true, sameSite: 'Lax', maxAge: 3600 } as const

describe('cookies', () => {
  it('reads the first cookie of that name, and only values that could be ours', () => {
    assert.equal(readCookie('a=1; gh_session=abc.def-_; b=2', 'gh_session'), 'abc.def-_')
    assert.equal(readCookie(['x=1', 'gh_session=first', 'gh_session=second'], 'gh_session'), 'first')
    assert.equal(readCookie('gh_session_login=zz', 'gh_session'), null)
    assert.equal(readCookie('gh_session="quoted"', 'gh_session'), null)
    assert.equal(readCookie(undefined, 'gh_session'), null)
  })

  it('writes and clears with the attributes given', () => {
    assert.equal(
      serializeCookie('gh_session', 'v', ATTRIBUTES),
      'gh_session=v; Path=/; Max-Age=3600; HttpOnly; Secure; SameSite=Lax',
    )
    assert.equal(
      clearCookie('gh_csrf', { ...ATTRIBUTES, httpOnly: false, secure: false }),
      'gh_csrf=; Path=/; Max-Age=0; SameSite=Lax; Expires=Thu, 01 Jan 1970 00:00:00 GMT',
    )
  })

  it('adds its cookies to the upstream’s', () => {
    const headers: Record<string, string | string[]> = { 'set-cookie': 'theme=dark' }
    appendSetCookie(headers, ['a=1', 'b=2'])
    assert.deepEqual(headers['set-cookie'], ['theme=dark', 'a=1', 'b=2'])
  })
})

describe('return_to', () => {
  it('keeps paths on this site and drops everything that could leave it', () => {
    assert.equal(safeReturnTo('/basket?item=1#top'), '/basket?item=1#top')
    for (const bad of [
      '//evil.example',
      '/\\evil.example',
      'https://evil.example/',
      'basket',
      '/a b',
      '/\t/x',
      null,
    ])
      assert.equal(safeReturnTo(bad), null, String(bad))
  })
})
