import { describe, expect, it } from 'vitest'
import { cosine, finishVectors, l2Normalize, pool, truncateDimensions } from '../../../src/encoder/pooling.js'

// Two rows, seqLen 3, hidden 2. Row 0 has 2 real tokens, row 1 has 3. Padding holds junk (99)
// so any leak of a padded position into a result is visible.
const states = {
  data: Float32Array.from([1, 2, 3, 4, 99, 99, 5, 6, 7, 8, 9, 10]),
  batch: 2,
  seqLen: 3,
  hidden: 2,
  lengths: [2, 3],
}

describe('pool', () => {
  it('cls takes the first token', () => {
    expect(pool(states, 'cls').map((v) => [...v])).toEqual([
      [1, 2],
      [5, 6],
    ])
  })

  it('mean averages real tokens only', () => {
    // row 0: ([1,2]+[3,4])/2 = [2,3]; row 1: ([5,6]+[7,8]+[9,10])/3 = [7,8]
    expect(pool(states, 'mean').map((v) => [...v])).toEqual([
      [2, 3],
      [7, 8],
    ])
  })

  it('last-token takes the last real token, not the padding', () => {
    expect(pool(states, 'last-token').map((v) => [...v])).toEqual([
      [3, 4],
      [9, 10],
    ])
  })

  it('mean of an empty row is a zero vector, not NaN', () => {
    const [v] = pool({ data: Float32Array.from([5, 5]), batch: 1, seqLen: 1, hidden: 2, lengths: [0] }, 'mean')
    expect([...(v as Float32Array)]).toEqual([0, 0])
  })
})

describe('normalization and Matryoshka truncation', () => {
  it('l2Normalize divides by the euclidean norm', () => {
    expect([...l2Normalize(Float32Array.from([3, 4]))]).toEqual([Math.fround(0.6), Math.fround(0.8)])
  })

  it('l2Normalize leaves a zero vector at zero', () => {
    expect([...l2Normalize(new Float32Array(3))]).toEqual([0, 0, 0])
  })

  it('truncateDimensions keeps the prefix', () => {
    expect([...truncateDimensions(Float32Array.from([1, 2, 3, 4]), 2)]).toEqual([1, 2])
    expect([...truncateDimensions(Float32Array.from([1, 2]), 4)]).toEqual([1, 2])
  })

  it('finishVectors truncates before normalizing, so the result is a unit vector', () => {
    // [3,4,12] → [3,4] → [0.6,0.8]; normalizing first would give [3/13, 4/13].
    const [v] = finishVectors([Float32Array.from([3, 4, 12])], 2, true)
    expect([...(v as Float32Array)].map((x) => Number(x.toFixed(6)))).toEqual([0.6, 0.8])
  })

  it('finishVectors without normalize keeps raw values', () => {
    const [v] = finishVectors([Float32Array.from([3, 4, 12])], 2, false)
    expect([...(v as Float32Array)]).toEqual([3, 4])
  })

  it('cosine', () => {
    expect(cosine([1, 0], [0, 1])).toBe(0)
    expect(cosine([1, 2], [2, 4])).toBeCloseTo(1, 12)
    expect(cosine([1, 0], [-1, 0])).toBe(-1)
  })
})
