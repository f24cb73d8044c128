import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { RequestState } from '../../pipeline/request-state.ts'
import { isNavigation, loginLocation } from './navigation.ts'

const CHROME_PAGE = 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8'

describe('page navigations', () => {
  it('takes Fetch Metadata’s word when the browser sends it', () => {
    assert.equal(isNavigation('GET', { 'sec-fetch-mode': 'navigate', accept: CHROME_PAGE }), true)
    assert.equal(isNavigation('HEAD', { 'sec-fetch-mode': 'navigate' }), true)
    // A script asking for HTML is still a script.
    assert.equal(isNavigation('GET', { 'sec-fetch-mode': 'cors', accept: 'text/html' }), false)
    assert.equal(isNavigation('GET', { 'sec-fetch-mode': 'no-cors', accept: CHROME_PAGE }), false)
    assert.equal(isNavigation('POST', { 'sec-fetch-mode': 'navigate', accept: CHROME_PAGE }), false)
  })

  it('without Fetch Metadata, counts a GET that asks for HTML by name', () => {
    assert.equal(isNavigation('GET', { accept: CHROME_PAGE }), true)
    assert.equal(isNavigation('GET', { accept: 'TEXT/HTML ; level=1' }), true)
    for (const accept of ['application/json', '*/*', 'text/*', 'text/html;q=0', 'text/htmlx', undefined])
      assert.equal(isNavigation('GET', { accept }), false, String(accept))
  })
})

describe('the way back after signing in', () => {
  const at = (path: string, query = '') => loginLocation({ path, query } as RequestState, '/login')

  it('is the page’s path and query, as return_to', () => {
    assert.equal(at('/basket'), '/login?return_to=%2Fbasket')
    assert.equal(
      at('/orders/7', '?tab=items&x=%2F'),
      '/login?return_to=%2Forders%2F7%3Ftab%3Ditems%26x%3D%252F',
    )
  })

  it('is dropped when it could lead off this site, and shortened when too long', () => {
    assert.equal(at('//evil.example/x'), '/login')
    assert.equal(at('/\\evil.example'), '/login')
    assert.equal(at('/basket', `?q=${'a'.repeat(3000)}`), '/login?return_to=%2Fbasket')
  })
})
