/**
 * In-memory stand-ins for the store and the encoder, so eval/search logic is tested without a
 * database or a model. The encoder is a deterministic bag-of-words hash: texts sharing words get
 * similar vectors, and a profile's `seed` changes the space the way a different model would.
 */
import type { Collection, Profile } from '../../../src/core/types.js'
import type { Encoder, OpenEncoder, Reranker, TextKind } from '../../../src/encoder/types.js'
import type { GenerationState, GenerationStatus, Hit, LiveState, SearchQuery, StoreAdapter } from '../../../src/store/adapter.js'
import { makeProfile } from '../../helpers/profile.js'

export function profile(name: string, extra: Partial<Profile> = {}): Profile {
  return makeProfile({
    name,
    model: { source: `fake:${name}` },
    dimensions: 64,
    batchSize: 4,
    index: { ...makeProfile({ name }).index, pgvector: { type: 'none', m: 16, efConstruction: 64 } },
    ...extra,
  })
}

export const collection: Collection = {
  name: 'docs',
  store: 'mem',
  profile: 'good',
  target: 'docs',
  key: 'id',
  text: { columns: ['body'], separator: '\n' },
  vector: 'embedding',
}

function hash(s: string, seed: number): number {
  let h = 2166136261 ^ seed
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619)
  return h >>> 0
}

/** `random: true` ignores the words, like a model with random weights on a fixed vocabulary. */
export function embed(text: string, p: Profile, kind: TextKind): Float32Array {
  const v = new Float32Array(p.dimensions)
  const seed = p.model.source.length
  const words = `${kind === 'query' ? p.prefixes.query : p.prefixes.document}${text}`.toLowerCase().split(/\W+/).filter(Boolean)
  const random = p.model.source.includes('random')
  for (const w of words) {
    const h = random ? hash(`${w}:${text}`, seed) : hash(w, seed)
    v[h % p.dimensions] = (v[h % p.dimensions] ?? 0) + 1
  }
  const norm = Math.hypot(...v) || 1
  return v.map((x) => x / norm)
}

export interface EncoderLog {
  opened: string[]
  encoded: { profile: string; kind: TextKind; texts: string[] }[]
  closed: number
}

export function fakeOpenEncoder(log: EncoderLog = { opened: [], encoded: [], closed: 0 }): OpenEncoder {
  return async (p: Profile): Promise<Encoder> => {
    log.opened.push(p.name)
    return {
      dimensions: p.dimensions,
      provider: 'cpu',
      async encode(texts, kind) {
        log.encoded.push({ profile: p.name, kind, texts })
        return texts.map((t) => embed(t, p, kind))
      },
      encodeStream() {
        throw new Error('not used by eval or search')
      },
      async close() {
        log.closed++
      },
    }
  }
}

/** Scores a passage by the number of query words it contains. */
export function fakeReranker(): Reranker {
  return {
    provider: 'cpu',
    async rerank(query, passages, topN) {
      const words = new Set(query.toLowerCase().split(/\W+/).filter(Boolean))
      return passages
        .map((p, index) => ({ index, score: p.toLowerCase().split(/\W+/).filter((w) => words.has(w)).length }))
        .sort((a, b) => b.score - a.score || a.index - b.index)
        .slice(0, topN)
    },
    async close() {},
  }
}

interface MemGeneration {
  state: GenerationState
  vectors: Map<string, Float32Array>
}

/** Holds generations embedded with the fake encoder; implements what eval and search call. */
export class MemoryStore {
  readonly kind = 'pglite' as const
  readonly capabilities = { concurrentIndex: false, hybridSearch: false, inPlaceIndexRebuild: true, maxIndexDimensions: { vector: 2000, halfvec: 4000 } }
  readonly generations = new Map<number, MemGeneration>()
  readonly searches: { generation: number; q: SearchQuery }[] = []

  constructor(readonly docs: Map<string, string>) {}

  addGeneration(id: number, status: GenerationStatus, p: Profile | null, space: Profile = p ?? profile('unknown')): GenerationState {
    const state: GenerationState = {
      id,
      status,
      physical: id === 1 ? 'embedding' : `embedding__g${id}`,
      profile: p?.name ?? null,
      fingerprint: p ? `fp-${p.name}` : null,
      model: p?.model.source ?? null,
      dimensions: space.dimensions,
      storage: 'vector',
      populated: this.docs.size,
      index: null,
      indexSettings: null,
      profileSnapshot: p,
      createdAt: '2026-11-23T00:00:00Z',
    }
    const vectors = new Map([...this.docs].map(([k, t]) => [k, embed(t, space, 'document')]))
    this.generations.set(id, { state, vectors })
    return state
  }

  async inspect(c: Collection): Promise<LiveState> {
    const gens = [...this.generations.values()].map((g) => g.state)
    return {
      collection: c.name,
      exists: true,
      rows: this.docs.size,
      rowsExact: true,
      generations: gens,
      live: gens.find((g) => g.status === 'live')?.id ?? null,
      lock: null,
      journal: null,
      version: 'v1',
    }
  }

  async search(_c: Collection, generation: number, q: SearchQuery): Promise<Hit[]> {
    this.searches.push({ generation, q })
    const g = this.generations.get(generation)
    if (!g) throw new Error(`no generation ${generation}`)
    return [...g.vectors]
      .map(([key, v]) => ({ key, text: this.docs.get(key) ?? '', score: v.reduce((s, x, i) => s + x * (q.vector[i] ?? 0), 0) }))
      .sort((a, b) => b.score - a.score)
      .slice(0, q.k)
  }

  asAdapter(): StoreAdapter {
    return this as unknown as StoreAdapter
  }
}

export const DOCS = new Map([
  ['d1', 'cheap mortgage rates refinance your home loan today'],
  ['d2', 'linux kernel patch for the scheduler and memory manager'],
  ['d3', 'spamassassin rules to catch nigerian prince scams'],
  ['d4', 'python script to parse mail headers with regular expressions'],
  ['d5', 'weekend hiking trip in the mountains with friends'],
  ['d6', 'free vacation offer click here to claim your prize'],
])

export const QUERIES = [
  { id: 'q1', text: 'mortgage rates refinance' },
  { id: 'q2', text: 'linux kernel scheduler' },
  { id: 'q3', text: 'parse mail headers python' },
  { id: 'q4', text: 'hiking in the mountains' },
]

export const QRELS = new Map([
  ['q1', new Map([['d1', 1]])],
  ['q2', new Map([['d2', 1]])],
  ['q3', new Map([['d4', 2], ['d3', 1]])],
  ['q4', new Map([['d5', 1]])],
])
