import type { RerankerSettings } from '../core/types.js'
import { BufferPool } from './batching.js'
import type { ModelRunner } from './model-runner.js'
import type { TextTokenizer } from './text-tokenizer.js'
import type { Reranker, RerankResult } from './types.js'

export const RERANKER_OUTPUTS = ['logits', 'scores'] as const

/**
 * Cross-encoder scoring: each (query, passage) pair through the model, logits[:, 0] as the score.
 * Raw logits are kept: a sigmoid would not change the order and would hide score margins.
 */
export class OnnxReranker implements Reranker {
  readonly provider: string
  private readonly buffers = new BufferPool()

  constructor(
    private readonly runner: ModelRunner,
    private readonly tokenizer: TextTokenizer,
    private readonly settings: Pick<RerankerSettings, 'batchSize' | 'maxTokens'>,
    provider: string,
  ) {
    this.provider = provider
  }

  /** Scores every passage against the query, in input order. */
  async score(query: string, passages: readonly string[]): Promise<number[]> {
    const scores: number[] = []
    const size = Math.max(1, this.settings.batchSize)
    // This call's own buffer until it returns: a concurrent call must not refill it mid-run.
    const buffer = this.buffers.acquire()
    try {
      for (let start = 0; start < passages.length; start += size) {
        const pairs = passages.slice(start, start + size).map((p) => this.tokenizer.encodePair(query, p, this.settings.maxTokens))
        const out = await this.runner.run(buffer.fill(pairs, this.tokenizer.padId))
        const labels = out.dims[1] ?? 1
        for (let i = 0; i < pairs.length; i++) scores.push(out.data[i * labels] ?? Number.NaN)
      }
    } finally {
      this.buffers.release(buffer)
    }
    return scores
  }

  async rerank(query: string, passages: string[], topN: number): Promise<RerankResult[]> {
    const scores = await this.score(query, passages)
    return scores
      .map((score, index) => ({ index, score }))
      .sort((a, b) => b.score - a.score || a.index - b.index)
      .slice(0, Math.max(0, topN))
  }

  async close(): Promise<void> {
    await this.runner.close()
  }
}
