import { describe, expect, it } from 'vitest'
import { msPerTextOfPages, pipelineMsPerRow } from '../../../src/plan/measure.js'

describe("plan's backfill time per row from the measured pipeline", () => {
  const perRow = { read: 0.01, encode: 1, write: 0.2 }

  it('a write that does not slow the encoder costs nothing: the encoder sets the pace', () => {
    expect(pipelineMsPerRow(perRow, 1 / perRow.encode)).toBeCloseTo(0.01 + 1, 6)
  })

  it('a write that stops the encoder while it runs adds its whole time', () => {
    expect(pipelineMsPerRow(perRow, 0)).toBeCloseTo(0.01 + 0.2 + 1, 6)
  })

  it('a write that halves the encoder adds half its time', () => {
    expect(pipelineMsPerRow(perRow, 0.5 / perRow.encode)).toBeCloseTo(0.01 + 0.2 + 0.9, 6)
  })

  it('a write slower than the encoder sets the pace itself', () => {
    expect(pipelineMsPerRow({ read: 0, encode: 0.1, write: 2 }, 1 / 0.1)).toBeCloseTo(2, 6)
  })
})

describe("the probe's encoding rate", () => {
  it('is the median page\'s, so one page slowed by another process does not set it', () => {
    const steady = { ms: 64, texts: 64 }
    expect(msPerTextOfPages([steady, { ms: 200, texts: 64 }, steady, steady])).toBeCloseTo(1, 6)
    // A short last page counts by its own rate.
    expect(msPerTextOfPages([{ ms: 128, texts: 64 }, { ms: 64, texts: 32 }, { ms: 132, texts: 66 }])).toBeCloseTo(2, 6)
  })

  it('is the mean of the middle two pages when their number is even', () => {
    expect(msPerTextOfPages([{ ms: 10, texts: 10 }, { ms: 30, texts: 10 }, { ms: 20, texts: 10 }, { ms: 40, texts: 10 }])).toBeCloseTo(2.5, 6)
  })
})
