import { describe, expect, it } from 'vitest'
import { defaultTokenBudget } from '../../../src/encoder/token-budget.js'

describe('defaultTokenBudget', () => {
  it('gives bge-small width 4,096 padded tokens on CPU and 16,384 on a GPU', () => {
    expect(defaultTokenBudget('cpu', 384)).toBe(4096)
    expect(defaultTokenBudget('cuda', 384)).toBe(16384)
  })

  it('shrinks as models widen, never below a floor that still batches 512-token texts', () => {
    expect(defaultTokenBudget('cpu', 768)).toBe(2048)
    expect(defaultTokenBudget('cpu', 1024)).toBeLessThan(defaultTokenBudget('cpu', 768))
    expect(defaultTokenBudget('cpu', 100_000)).toBe(512)
    expect(defaultTokenBudget('cuda', 100_000)).toBe(4096)
    expect(defaultTokenBudget('cpu', 32)).toBeGreaterThan(defaultTokenBudget('cpu', 384))
  })
})
