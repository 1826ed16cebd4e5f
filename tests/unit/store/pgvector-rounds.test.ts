import { describe, expect, it } from 'vitest'
import { roundsByPage } from '../../../plugins/pgvector/write-path.js'
import type { VectorRow } from '../../../src/store/adapter.js'

const row = (key: number): VectorRow => ({ key, vector: new Float32Array(2) })

describe('pgvector write rounds by heap page', () => {
  it('writes the first row of each page alone, then 1, 2, 4… rows of the page per round, in line-pointer order', () => {
    const rows = Array.from({ length: 9 }, (_, i) => row(i + 1))
    // Rows 1..8 on page 0 at line pointers 8..1 (reverse key order), row 9 alone on page 7.
    const located = new Map(rows.map((r) => [String(r.key), r.key === 9 ? { page: 7, lp: 1 } : { page: 0, lp: 9 - Number(r.key) }]))
    const rounds = roundsByPage(rows, located).map((round) => round.map((r) => Number(r.key)).sort((a, b) => a - b))
    expect(rounds).toEqual([[8, 9], [7], [5, 6], [1, 2, 3, 4]])
  })

  it('puts rows it could not locate (deleted meanwhile) in the first round, where the guard skips them', () => {
    const rounds = roundsByPage([row(1), row(2)], new Map([['2', { page: 3, lp: 1 }]]))
    expect(rounds.map((r) => r.map((x) => x.key))).toEqual([[1, 2]])
  })

  it('stops growing rounds at four rows of a page, so rows that are already compact keep fitting', () => {
    const rows = Array.from({ length: 20 }, (_, i) => row(i))
    const rounds = roundsByPage(rows, new Map(rows.map((r) => [String(r.key), { page: 0, lp: Number(r.key) + 1 }])))
    expect(rounds.map((r) => r.length)).toEqual([1, 1, 2, 4, 4, 4, 4])
    expect(rounds.flat()).toHaveLength(20)
  })
})
