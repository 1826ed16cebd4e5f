import type { IndexSettings } from 'embedform/plugin'

/** `index.lancedb` in profiles, parsed. */
export interface LanceIndexSettings {
  type: 'ivf_hnsw_sq' | 'ivf_flat' | 'ivf_pq' | 'none'
  /** IVF partitions; undefined: √rows / 4, at least 1. */
  partitions?: number
  /** HNSW graph degree and build beam (ivf_hnsw_sq). */
  m: number
  efConstruction: number
  /** PQ sub-vectors (ivf_pq); must divide the dimensions. */
  subVectors?: number
}

export const DEFAULT_INDEX: LanceIndexSettings = { type: 'ivf_hnsw_sq', m: 20, efConstruction: 300 }

/** The lancedb section of a generation's settings; an adopted generation (no settings) gets the defaults. */
export function lanceIndex(s: IndexSettings | null): LanceIndexSettings {
  return (s?.lancedb as LanceIndexSettings | undefined) ?? DEFAULT_INDEX
}
