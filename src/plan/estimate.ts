/**
 * Estimate arithmetic, kept apart so the numbers can be checked on their own. Index build
 * estimates belong to each store plugin (IndexRules.plan). Storage per row: 4 bytes per float32
 * element (2 per float16) plus 8 bytes of header, pgvector's on-disk layout; stores that keep
 * float32 elsewhere are close to the same figure.
 */
import type { VectorStorage } from '../core/types.js'

export function bytesPerRow(dimensions: number, storage: VectorStorage): number {
  return (storage === 'halfvec' ? 2 : 4) * dimensions + 8
}

export function storageBytes(rows: number, dimensions: number, storage: VectorStorage): number {
  return rows * bytesPerRow(dimensions, storage)
}

export function encodeSeconds(rows: number, textsPerSecond: number | undefined): number | undefined {
  if (textsPerSecond === undefined || textsPerSecond <= 0) return undefined
  return rows / textsPerSecond
}

/** `1.5 GB`, `812 MB`, `-6.1 GB` — decimal units, as storage is usually quoted. */
export function formatBytes(bytes: number): string {
  const sign = bytes < 0 ? '-' : ''
  let v = Math.abs(bytes)
  const units = ['B', 'kB', 'MB', 'GB', 'TB']
  let u = 0
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000
    u++
  }
  // Truncated, not rounded: an estimate should not overstate by a rounding step (6.152 GB → 6.1 GB).
  const shown = u === 0 || v >= 100 ? Math.trunc(v).toString() : (Math.trunc(v * 10) / 10).toFixed(1)
  return `${sign}${shown} ${units[u]}`
}

/** `4h10m`, `12m30s`, `45s`, `<1s`. */
export function formatDuration(seconds: number): string {
  if (seconds < 1) return '<1s'
  const s = Math.round(seconds)
  const h = Math.floor(s / 3600)
  const m = Math.floor((s % 3600) / 60)
  const sec = s % 60
  if (h > 0) return `${h}h${String(m).padStart(2, '0')}m`
  if (m > 0) return `${m}m${String(sec).padStart(2, '0')}s`
  return `${sec}s`
}

export function formatCount(n: number): string {
  return n.toLocaleString('en-US')
}
