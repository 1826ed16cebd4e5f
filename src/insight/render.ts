/** Human renderings of the sample report, for the terminal and for a pull request. */
import { formatBytes, formatCount, formatDuration } from '../plan/estimate.js'
import type { CollectionSample, SampleReport } from './sample-plan.js'

const pct = (x: number): string => `${(x * 100).toFixed(1)}%`
const fixed = (x: number): string => x.toFixed(4)
const approx = (seconds: number): string => (seconds < 1 ? '<1s' : `~${formatDuration(seconds)}`)

/** One line per fact, shared by the text and the markdown rendering. */
export function sampleFacts(s: CollectionSample): string[] {
  const out = [
    `measured ${s.throughput.textsPerSecond.toFixed(0)} texts/s over ${s.throughput.texts} sampled rows → ${formatCount(s.eta.rows)} rows in ${approx(s.eta.seconds)}`,
    `tokens per text: p50 ${s.tokens.p50}, p95 ${s.tokens.p95}, max ${s.tokens.max}; ${pct(s.tokens.truncatedShare)} truncated by max_tokens ${s.tokens.maxTokens}`,
    `storage: ${formatBytes(s.storage.bytesPerRow)} per row × ${formatCount(s.storage.rows)} rows = +${formatBytes(s.storage.bytes)}`,
  ]
  if (s.overlap) out.push(`neighbour overlap@${s.overlap.k} with live g${s.overlap.liveGeneration}: ${fixed(s.overlap.overlap)} over ${s.overlap.rows} rows (1 = same neighbours, label-free)`)
  if (s.gate) {
    out.push(
      s.gate.likely === 'unknown'
        ? `gate ${s.gate.metric}: no judged row in the sample`
        : `gate ${s.gate.metric} on the sample: live ${fixed(s.gate.live)} → candidate ${fixed(s.gate.candidate)} (drop ${fixed(s.gate.drop)}, max_drop ${fixed(s.gate.maxDrop)}) over ${s.gate.queries} queries: likely ${s.gate.likely === 'pass' ? 'PASS' : 'FAIL'}`,
    )
  }
  return [...out, ...s.notes]
}

export function renderSampleReport(r: SampleReport): string {
  if (r.collections.length === 0) return `Sample: nothing to encode, so nothing to sample.\n`
  const blocks = r.collections.map((s) => [`sample of collection ${s.collection} with profile ${s.profile} (${s.sampled} rows, nothing written):`, ...sampleFacts(s).map((l) => `  ${l}`)].join('\n'))
  return `${blocks.join('\n')}\n`
}
