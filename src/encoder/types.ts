import type { Profile } from '../core/types.js'
import type { SessionTuning } from './providers.js'

export type TextKind = 'query' | 'document'

export interface Encoder {
  readonly dimensions: number
  /** Execution provider actually in use: 'cpu', 'cuda', 'webgpu'. */
  readonly provider: string
  /** Encodes with the profile's prefix for `kind`, truncation, pooling, normalization. */
  encode(texts: string[], kind: TextKind): Promise<Float32Array[]>
  /**
   * Streaming: batches in, vectors out in the same order, bounded memory. Used by the backfill
   * so tokenizing the next batch overlaps session.run of the current one.
   */
  encodeStream<T extends { text: string }>(
    batches: AsyncIterable<T[]>,
    kind: TextKind,
  ): AsyncIterable<{ items: T[]; vectors: Float32Array[] }>
  close(): Promise<void>
}

export interface RerankResult {
  /** Index into the passages passed in. */
  index: number
  score: number
}

export interface Reranker {
  readonly provider: string
  rerank(query: string, passages: string[], topN: number): Promise<RerankResult[]>
  close(): Promise<void>
}

export interface EncoderOptions {
  /** Fail instead of downloading when a model file is not cached. */
  offline?: boolean
  log?: (message: string) => void
  /** Download progress for model files. */
  onDownload?: (file: string, done: number, total: number | undefined) => void
  /** Padded tokens per session.run; default chosen from the model and device (see token-budget.ts). Infinity batches by count only. */
  tokenBudget?: number
  /** InferenceSession options to try instead of the measured defaults (benchmarks). */
  tuning?: Partial<SessionTuning>
}

export type OpenEncoder = (profile: Profile, opts?: EncoderOptions) => Promise<Encoder>
