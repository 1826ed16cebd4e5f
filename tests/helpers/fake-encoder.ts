/**
 * Deterministic encoder double: a vector is a seeded pseudo-random function of (prefix + text),
 * so the same text always gets the same vector and different texts almost surely differ.
 */
import type { Profile } from '../../src/core/types.js'
import type { Encoder, OpenEncoder, TextKind } from '../../src/encoder/types.js'

function hash32(s: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}

export function fakeVector(text: string, dimensions: number): Float32Array {
  let state = hash32(text) || 1
  const v = new Float32Array(dimensions)
  let norm = 0
  for (let i = 0; i < dimensions; i++) {
    state ^= state << 13
    state ^= state >>> 17
    state ^= state << 5
    v[i] = ((state >>> 0) / 0xffffffff) * 2 - 1
    norm += (v[i] as number) ** 2
  }
  const n = Math.sqrt(norm) || 1
  for (let i = 0; i < dimensions; i++) v[i] = (v[i] as number) / n
  return v
}

export interface FakeEncoderStats {
  opened: number
  closed: number
  encodedTexts: number
}

export interface FakeEncoderOptions {
  /** Produce this many dimensions regardless of the profile (to test E_DIMENSIONS). */
  dimensions?: number
  /** Runs between pages, e.g. to mutate the store while a backfill is in progress. */
  onBatch?: (batchIndex: number) => void | Promise<void>
  /** Texts the model has no word for: encoded to all zeros, as a real model does empty text. */
  zeroFor?: (text: string) => boolean
}

export function fakeEncoder(profile: Profile, opts: FakeEncoderOptions = {}, stats?: FakeEncoderStats): Encoder {
  const dims = opts.dimensions ?? profile.dimensions
  let batches = 0
  const encode = async (texts: string[], kind: TextKind): Promise<Float32Array[]> => {
    await opts.onBatch?.(batches++)
    if (stats) stats.encodedTexts += texts.length
    const prefix = kind === 'query' ? profile.prefixes.query : profile.prefixes.document
    return texts.map((t) => (opts.zeroFor?.(t) ? new Float32Array(dims) : fakeVector(prefix + t, dims)))
  }
  return {
    dimensions: dims,
    provider: 'cpu',
    encode,
    async *encodeStream(batches, kind) {
      for await (const items of batches) {
        yield { items, vectors: await encode(items.map((i) => i.text), kind) }
      }
    },
    async close() {
      if (stats) stats.closed++
    },
  }
}

export function fakeOpenEncoder(opts: FakeEncoderOptions = {}): { open: OpenEncoder; stats: FakeEncoderStats } {
  const stats: FakeEncoderStats = { opened: 0, closed: 0, encodedTexts: 0 }
  return {
    stats,
    open: async (profile) => {
      stats.opened++
      return fakeEncoder(profile, opts, stats)
    },
  }
}
