/**
 * Token lengths of texts as the profile's own tokenizer sees them (document prefix included,
 * special tokens included), before truncation: what max_tokens cuts off.
 */
import { percentile } from '../encoder/benchmark.js'
import type { Profile } from '../core/types.js'
import { resolveModel } from '../encoder/resolve-model.js'
import { TextTokenizer } from '../encoder/text-tokenizer.js'
import type { EncoderOptions } from '../encoder/types.js'

export type CountTokens = (text: string) => number
export type OpenTokenCounter = (profile: Profile, opts?: EncoderOptions) => Promise<CountTokens>

export const openTokenCounter: OpenTokenCounter = async (profile, opts = {}) => {
  const model = await resolveModel(profile.model, { offline: opts.offline, log: opts.log, onDownload: opts.onDownload, profileFile: profile.file })
  const tokenizer = await TextTokenizer.load(model.tokenizerPath, model.tokenizerConfigPath)
  return (text) => tokenizer.encode(profile.prefixes.document + text, Number.MAX_SAFE_INTEGER).ids.length
}

export interface TokenStats {
  texts: number
  p50: number
  p95: number
  max: number
  maxTokens: number
  /** Texts longer than max_tokens: their tail is not embedded. */
  truncated: number
  truncatedShare: number
}


export function tokenStats(lengths: readonly number[], maxTokens: number): TokenStats {
  const sorted = [...lengths].sort((a, b) => a - b)
  const truncated = sorted.filter((n) => n > maxTokens).length
  return {
    texts: sorted.length,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    max: sorted[sorted.length - 1] ?? 0,
    maxTokens,
    truncated,
    truncatedShare: sorted.length === 0 ? 0 : truncated / sorted.length,
  }
}
