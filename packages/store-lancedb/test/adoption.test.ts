import { fakeVector, testSpec } from 'embedform/testing'
import { afterEach, describe, expect, it } from 'vitest'
import { lanceHarness, lanceIndex } from './harness.js'

const D = 16
const rows = Array.from({ length: 8 }, (_, i) => ({ key: i + 1, text: `adopted row ${i + 1}` }))
let cleanup: (() => Promise<void>) | undefined

afterEach(async () => {
  await cleanup?.()
})

describe('LanceDB: a vector column the application made itself', () => {
  it('is adopted as g1, keeps its name-independent identity through a swap, and records what embedform writes into it later', async () => {
    const h = await lanceHarness()
    cleanup = h.cleanup
    const { adapter: a, collection: c } = h
    await h.seedAdopted!(rows.map((r) => ({ ...r, vector: fakeVector(`app|${r.text}`, D) })), D)
    expect(await a.freshness(c, 1)).toMatchObject({ rows: 8, unverified: 8, fresh: 0, stale: 0, missing: 0 })

    await a.createGeneration(c, testSpec(2, D, lanceIndex))
    for await (const page of a.pending(c, 2, { batchSize: 5, phase: 'backfill' })) {
      await a.write(c, 2, page.map((r) => ({ key: r.key, token: r.token, vector: fakeVector(`g2|${r.text}`, D) })))
    }
    expect(await a.cutover(c, 2, { maxHeldRows: 10 })).toMatchObject({ status: 'done' })
    const swapped = await a.inspect(c)
    expect(swapped.generations.map((g) => [g.id, g.status, g.physical])).toEqual([
      [1, 'retained', 'embedding__g1'],
      [2, 'live', 'embedding'],
    ])

    await h.updateText(3, 'row three, edited while g2 was live')
    const back = await a.cutover(c, 1, {
      maxHeldRows: 10,
      embed: async (pending) => pending.map((r) => ({ key: r.key, token: r.token, vector: fakeVector(`g1|${r.text}`, D) })),
    })
    expect(back).toMatchObject({ status: 'done', embeddedWhileHeld: 1, leftStale: 0 })
    expect((await a.inspect(c)).live).toBe(1)
    expect(await a.freshness(c, 1)).toMatchObject({ rows: 8, fresh: 1, unverified: 7, stale: 0, missing: 0 })
  })
})

describe('LanceDB preflight', () => {
  it('warns that searches must name their column before the first generation column appears, and refuses a vector column LanceDB cannot search', async () => {
    const h = await lanceHarness()
    cleanup = h.cleanup
    const { adapter: a, collection: c } = h
    await h.seed(rows)
    const desired = { dimensions: D, storage: 'vector' as const, createsObjects: true, cutsOver: true }
    expect((await a.preflight!(c, desired)).map((p) => [p.severity, p.code])).toEqual([['warning', 'W_SEARCH_COLUMN']])
    expect(await a.preflight!({ ...c, key: 'nope' }, desired)).toEqual(expect.arrayContaining([expect.objectContaining({ severity: 'error', code: 'E_COLUMN_MISSING', object: `${c.target}.nope` })]))
    expect((await a.preflight!({ ...c, vector: 'body' }, desired)).map((p) => p.code)).toContain('E_VECTOR_TYPE')
    expect((await a.preflight!({ ...c, target: 'missing' }, desired)).map((p) => p.code)).toEqual(['E_COLLECTION_MISSING'])
  })
})
