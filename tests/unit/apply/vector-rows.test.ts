import { describe, expect, it } from 'vitest'
import { pump } from '../../../src/apply/pump.js'
import { embedder } from '../../../src/apply/switch.js'
import { vectorRow } from '../../../src/apply/vector-rows.js'
import type { VectorRow } from '../../../src/store/adapter.js'
import { fakeEncoder } from '../../helpers/fake-encoder.js'
import { MemoryAdapter, rows, testCollection, testProfile } from '../../helpers/memory-adapter.js'
import { testSpec } from '../../../src/testing/spec.js'

const zero = new Float32Array(3)
const real = Float32Array.from([0, 1, 0])

describe('encoder output → VectorRow', () => {
  it('maps an all-zero vector to null only under skip, keeping key, token and version', () => {
    const row = { key: 7, text: '', token: 'h', version: 12 }
    expect(vectorRow(row, zero, 'skip')).toEqual({ key: 7, vector: null, token: 'h', version: 12 })
    expect(vectorRow(row, zero, 'keep')).toEqual({ key: 7, vector: zero, token: 'h', version: 12 })
    expect(vectorRow(row, real, 'skip')).toEqual({ key: 7, vector: real, token: 'h', version: 12 })
  })

  it("the cutover's embedder maps the same way", async () => {
    const encoder = fakeEncoder(testProfile('p', { dimensions: 3 }), { zeroFor: (t) => t === '' })
    const pending = [
      { key: 1, text: '', token: 'a' },
      { key: 2, text: 'words', token: 'b' },
    ]
    const skip = await embedder(encoder, 'skip')(pending)
    expect(skip.map((r) => r.vector)).toEqual([null, expect.any(Float32Array)])
    const keep = await embedder(encoder, 'keep')(pending)
    expect(keep[0]!.vector).toEqual(new Float32Array(3))
  })

  for (const zeroVectors of ['keep', 'skip'] as const) {
    it(`the pump writes what the generation's setting says (${zeroVectors})`, async () => {
      const adapter = new MemoryAdapter()
      const c = testCollection('docs', 'p')
      adapter.seed('docs', [...rows(3), { key: 4, text: '' }])
      await adapter.createGeneration(c, testSpec(1, 8, undefined, zeroVectors))
      const written: VectorRow[] = []
      const write = adapter.write.bind(adapter)
      adapter.write = async (col, g, batch, opts) => {
        written.push(...batch)
        return write(col, g, batch, opts)
      }
      const encoder = fakeEncoder(testProfile('p'), { zeroFor: (t) => t === '' })
      const res = await pump({ adapter, collection: c, generation: 1, encoder, zeroVectors, phase: 'backfill', batchSize: 2, retryBaseMs: 1 })
      expect(res.found).toBe(4)
      const empty = written.find((r) => r.key === 4)!
      if (zeroVectors === 'skip') expect(empty.vector).toBeNull()
      else expect(empty.vector).toEqual(new Float32Array(8))
      expect(written.filter((r) => r.key !== 4).every((r) => r.vector instanceof Float32Array)).toBe(true)
      expect(await adapter.freshness(c, 1)).toMatchObject({ fresh: zeroVectors === 'skip' ? 3 : 4, missing: 0, skipped: zeroVectors === 'skip' ? 1 : 0 })
    })
  }
})
