/**
 * Estimate arithmetic, kept apart so the numbers can be checked on their own.
 * Storage per row follows pgvector's on-disk layout (STORE-NOTES.md): 4·d+8 bytes for
 * `vector`, 2·d+8 for `halfvec`; OpenSearch stores float32 too, so the same figure holds.
 */
import type { PgIndexSettings, VectorStorage } from '../core/types.js'

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

/**
 * Single-core build rates: pgvector's HNSW inserts a few thousand rows/s per core at m=16,
 * ef_construction=64 (scaling roughly with ef_construction); IVFFlat is a k-means pass plus
 * one assignment per row. We assume one core because PGlite has no parallel workers and a
 * shared server may not grant them; real builds with parallel workers finish sooner.
 */
export const HNSW_ROWS_PER_SECOND_AT_EF64 = 2000
export const IVFFLAT_ROWS_PER_SECOND = 20000

export function indexBuildSeconds(rows: number, index: PgIndexSettings): number | undefined {
  if (index.type === 'none') return undefined
  if (index.type === 'ivfflat') return rows / IVFFLAT_ROWS_PER_SECOND
  const rate = HNSW_ROWS_PER_SECOND_AT_EF64 * (64 / Math.max(index.efConstruction, 1))
  return rows / rate
}

export function indexBuildBasis(index: PgIndexSettings): string {
  if (index.type === 'ivfflat') return `ivfflat ~${IVFFLAT_ROWS_PER_SECOND.toLocaleString('en-US')} rows/s on one core`
  return `hnsw ~${HNSW_ROWS_PER_SECOND_AT_EF64.toLocaleString('en-US')} rows/s on one core at ef_construction=64`
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
