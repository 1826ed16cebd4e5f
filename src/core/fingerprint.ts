import { createHash } from 'node:crypto'
import type { Profile } from './types.js'

/**
 * Everything that changes vector values, and nothing else: batch size, device and threads are
 * deliberately absent so changing them never re-embeds anything (DESIGN.md).
 */
export function fingerprintInputs(p: Profile): Record<string, unknown> {
  return {
    model: p.model.source,
    file: p.model.file ?? null,
    sha256: p.model.sha256 ?? null,
    // Absent (not null) for fp32, so profiles written before quantization existed keep their fingerprints.
    quantize: p.model.quantize,
    pooling: p.pooling,
    normalize: p.normalize,
    // Absent for keep, so fingerprints made before the setting existed stay what they were; skip
    // changes what a generation holds (no vector instead of zeros), so it makes a new generation.
    zeroVectors: p.zeroVectors === 'skip' ? 'skip' : undefined,
    prefixes: { query: p.prefixes.query, document: p.prefixes.document },
    maxTokens: p.maxTokens,
    dimensions: p.dimensions,
  }
}

export function fingerprint(p: Profile): string {
  return createHash('sha256').update(stableJson(fingerprintInputs(p))).digest('hex').slice(0, 16)
}

export function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>
    return `{${Object.keys(o)
      .sort()
      .filter((k) => o[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${stableJson(o[k])}`)
      .join(',')}}`
  }
  return JSON.stringify(v)
}
