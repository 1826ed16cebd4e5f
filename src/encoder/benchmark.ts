import type { OnnxEncoder } from './onnx-encoder.js'
import type { TextKind } from './types.js'

export interface BatchSizeResult {
  batchSize: number
  texts: number
  textsPerSecond: number
  p50Ms: number
  p95Ms: number
  /** Share of wall time spent outside session.run: tokenizing, padding, pooling. */
  overheadPct: number
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[rank] ?? 0
}

/**
 * Encodes `texts` in calls of `batchSize` texts and times each call. The encoder's own batch
 * size must be ≥ every size measured, so each call is exactly one session.run.
 */
export async function measureBatchSize(encoder: OnnxEncoder, texts: readonly string[], batchSize: number, kind: TextKind = 'document'): Promise<BatchSizeResult> {
  await encoder.encode(texts.slice(0, batchSize) as string[], kind)
  const latencies: number[] = []
  const sessionBefore = encoder.sessionMs
  const started = performance.now()
  for (let i = 0; i < texts.length; i += batchSize) {
    const t0 = performance.now()
    await encoder.encode(texts.slice(i, i + batchSize) as string[], kind)
    latencies.push(performance.now() - t0)
  }
  const wall = performance.now() - started
  const session = encoder.sessionMs - sessionBefore
  latencies.sort((a, b) => a - b)
  const round = (n: number, d = 1) => Number(n.toFixed(d))
  return {
    batchSize,
    texts: texts.length,
    textsPerSecond: round(texts.length / (wall / 1000)),
    p50Ms: round(percentile(latencies, 50), 2),
    p95Ms: round(percentile(latencies, 95), 2),
    overheadPct: round(wall > 0 ? (100 * (wall - session)) / wall : 0),
  }
}

/** Peak resident set size of this process so far, in MiB. */
export function peakRssMiB(): number {
  return Number((process.resourceUsage().maxRSS / 1024).toFixed(1))
}
