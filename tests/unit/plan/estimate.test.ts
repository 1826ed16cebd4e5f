import { describe, expect, it } from 'vitest'
import { bytesPerRow, encodeSeconds, formatBytes, formatDuration, storageBytes } from '../../../src/plan/estimate.js'

describe('estimate arithmetic', () => {
  it('stores 4·d+8 bytes per vector row and 2·d+8 per halfvec row', () => {
    expect(bytesPerRow(1536, 'vector')).toBe(6152)
    expect(bytesPerRow(384, 'vector')).toBe(1544)
    expect(bytesPerRow(3072, 'halfvec')).toBe(6152)
  })

  it('puts a million 1536-d vectors at ~6.1 GB and a million 384-d vectors at ~1.5 GB', () => {
    expect(storageBytes(1_000_000, 1536, 'vector')).toBe(6_152_000_000)
    expect(storageBytes(1_000_000, 384, 'vector')).toBe(1_544_000_000)
    expect(formatBytes(storageBytes(1_000_000, 1536, 'vector'))).toBe('6.1 GB')
    expect(formatBytes(storageBytes(1_000_000, 384, 'vector'))).toBe('1.5 GB')
    expect(formatBytes(storageBytes(1_000_000, 1536, 'halfvec'))).toBe('3.0 GB')
    expect(formatBytes(-1_544_000_000)).toBe('-1.5 GB')
  })

  it('derives time from throughput and says nothing without one', () => {
    expect(encodeSeconds(1_000_000, 1_000_000 / 15_000)).toBeCloseTo(15_000)
    expect(encodeSeconds(1_000, undefined)).toBeUndefined()
    expect(formatDuration(15_000)).toBe('4h10m')
    expect(formatDuration(750)).toBe('12m30s')
    expect(formatDuration(42)).toBe('42s')
    expect(formatDuration(0.2)).toBe('<1s')
  })
})
