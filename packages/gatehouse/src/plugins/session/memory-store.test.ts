import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { MemorySessionStore } from './memory-store.ts'
import { record, runSessionStoreContract } from './store.contract.test.ts'
import type { SessionStore } from './store.ts'

runSessionStoreContract(
  'memory',
  async () => new MemorySessionStore(),
  async (store: SessionStore) => (store as MemorySessionStore).close(),
)

describe('the memory session store', () => {
  it('drops the record written longest ago once it holds maxEntries', async () => {
    const store = new MemorySessionStore(2)
    await store.set('a', record({ sub: 'a' }), 60)
    await store.set('b', record({ sub: 'b' }), 60)
    await store.set('a', record({ sub: 'a2' }), 60)
    await store.set('c', record({ sub: 'c' }), 60)
    assert.equal(await store.get('b'), undefined, 'b was written longest ago')
    assert.equal((await store.get('a'))?.sub, 'a2')
    assert.equal((await store.get('c'))?.sub, 'c')
    assert.equal(store.size, 2)
    store.close()
  })

  it('sweeps expired records without being asked for them', async () => {
    const store = new MemorySessionStore(10, 50)
    await store.set('a', record(), 0.1)
    await new Promise((r) => setTimeout(r, 250))
    assert.equal(store.size, 0)
    store.close()
  })
})
