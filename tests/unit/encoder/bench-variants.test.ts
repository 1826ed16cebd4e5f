import { describe, expect, it } from 'vitest'
import { defaultVariants, parseVariants, precisionOf, VARIANTS } from '../../../src/encoder/bench/index.js'

describe('benchmark variants', () => {
  it('runs fp16 by default only on a GPU, where half precision is computed natively', () => {
    expect(defaultVariants('cpu').filter((v) => v.includes('fp16'))).toEqual([])
    expect(defaultVariants('auto').filter((v) => v.includes('fp16'))).toEqual([])
    for (const device of ['cuda', 'cuda:1'] as const) {
      expect(defaultVariants(device)).toEqual([...VARIANTS])
      expect(defaultVariants(device)).toContain('embedform-fp16')
      expect(defaultVariants(device)).toContain('transformersjs-fp16-sorted')
    }
    expect(defaultVariants('cpu')).toContain('transformersjs-int8-sorted')
  })

  it('knows the precision of each variant, and fp16 can be asked for by name on any device', () => {
    expect(precisionOf('embedform-fp16')).toBe('fp16')
    expect(precisionOf('transformersjs-fp16-sorted')).toBe('fp16')
    expect(precisionOf('embedform-int8-count')).toBe('int8')
    expect(precisionOf('transformersjs-fp32-naive')).toBe('fp32')
    expect(parseVariants('embedform-fp32, embedform-fp16')).toEqual(['embedform-fp32', 'embedform-fp16'])
    expect(() => parseVariants('embedform-bf16')).toThrow(/unknown benchmark variant: embedform-bf16/)
  })
})
