import { describe, expect, it } from 'vitest'
import { apply, createEngine, plan, rollback, status } from '../../src/index.js'
import { fakeOpenEncoder } from '../helpers/fake-encoder.js'
import { MemoryAdapter, memoryWorld, rows, testCollection, testProfile } from '../helpers/memory-adapter.js'

describe('createEngine with stores passed by value', () => {
  it('uses the given adapter for its store, leaves it open on close, and runs plan / apply / status / rollback', async () => {
    const adapter = new MemoryAdapter()
    const { ctx } = memoryWorld({ profiles: [testProfile('speed'), testProfile('other', { prefixes: { query: '', document: 'doc: ' } })], collections: [testCollection('docs', 'speed')], adapter })
    adapter.seed('docs', rows(12))
    const engine = await createEngine({ config: ctx.config, adapters: { mem: adapter }, openEncoder: fakeOpenEncoder().open, holder: 'library test' })
    const first = await plan(engine)
    expect(first.collections[0]!.change).toBe('new-generation')
    await apply(engine, first, { retryBaseMs: 1 })
    engine.config.collections.docs!.profile = 'other'
    await apply(engine, await plan(engine), { retryBaseMs: 1 })
    expect((await status(engine)).collections[0]).toMatchObject({ live: { generation: 2 } })
    const back = await rollback(engine, 'docs')
    expect(back).toMatchObject({ to: 1 })
    await engine.close()
    expect((await adapter.inspect(testCollection('docs', 'speed'))).live).toBe(1)
  })
})
