/**
 * One query against one generation: encode with the generation's own profile (so its query
 * prefix applies), kNN (or hybrid) retrieval, optional cross-encoder rerank, with the latency
 * of each stage measured separately so a slow search says where the time went.
 */
import { failure, inputError } from '../core/errors.js'
import type { Collection, Device, Profile, RerankerSettings } from '../core/types.js'
import type { Encoder, EncoderOptions, OpenEncoder, Reranker } from '../encoder/types.js'
import { compareKeys } from '../eval/metrics.js'
import type { GenerationState, Hit, RowKey, StoreAdapter } from '../store/adapter.js'

/** Matches encoder/index.ts openReranker: the reranker runs on the generation profile's device. */
export type OpenReranker = (settings: RerankerSettings, opts?: EncoderOptions & { device?: Device; threads?: number; profileFile?: string }) => Promise<Reranker>

/** Results when neither -k nor a reranker's returnTopK says otherwise. */
export const DEFAULT_K = 10

/** Query encoder (and reranker) of one profile, opened once and reused across searches. */
export interface SearchModels {
  profile: Profile
  encoder: Encoder
  reranker?: { model: Reranker; settings: RerankerSettings }
  /** Time spent opening the sessions: paid once, not per query. */
  loadMs: number
  close(): Promise<void>
}

export interface OpenSearchModelsOptions {
  rerank: boolean
  openEncoder: OpenEncoder
  openReranker?: OpenReranker
  encoderOptions?: EncoderOptions
}

export async function openSearchModels(profile: Profile, opts: OpenSearchModelsOptions): Promise<SearchModels> {
  const settings = opts.rerank ? rerankSettings(profile) : undefined
  if (settings && !opts.openReranker) throw inputError('E_RERANKER_UNAVAILABLE', 'reranking was asked for but no reranker implementation was provided')
  const start = performance.now()
  const encoder = await opts.openEncoder(profile, opts.encoderOptions)
  let model: Reranker | undefined
  try {
    model =
      settings && opts.openReranker
        ? await opts.openReranker(settings, {
            ...opts.encoderOptions,
            device: profile.device,
            ...(profile.threads !== undefined ? { threads: profile.threads } : {}),
            ...(profile.file ? { profileFile: profile.file } : {}),
          })
        : undefined
  } catch (e) {
    await encoder.close()
    throw e
  }
  return {
    profile,
    encoder,
    ...(model && settings ? { reranker: { model, settings } } : {}),
    loadMs: performance.now() - start,
    async close() {
      await encoder.close()
      await model?.close()
    },
  }
}

export interface SearchArgs {
  adapter: StoreAdapter
  collection: Collection
  generation: GenerationState
  /** Opened with the generation's profile (see eval/evaluate.ts generationProfile); reranks when it holds a reranker. */
  models: SearchModels
  query: string
  /** Results wanted; default: the reranker's returnTopK when reranking, else DEFAULT_K. */
  k?: number
  hybrid: boolean
}

export interface SearchHit {
  rank: number
  key: RowKey
  /** Reranker score when reranked, else the store's similarity score. */
  score: number
  /** The store's score, kept when a reranker reordered the hits. */
  retrievalScore?: number
  text: string
}

export interface SearchTimings {
  /** Opening the encoder and reranker sessions (SearchModels.loadMs): paid once, not per query. */
  loadMs: number
  encodeMs: number
  retrieveMs: number
  /** null when not reranking. */
  rerankMs: number | null
  totalMs: number
}

export interface SearchResult {
  collection: string
  generation: number
  profile: string
  query: string
  reranked: boolean
  hybrid: boolean
  /** Candidates retrieved from the store (the reranker's topK when reranking). */
  retrieved: number
  hits: SearchHit[]
  timings: SearchTimings
}

function rerankSettings(profile: Profile): RerankerSettings {
  if (!profile.reranker) {
    throw inputError('E_RERANKER_NOT_CONFIGURED', `profile "${profile.name}" has no reranker`, {
      location: { ...(profile.file ? { file: profile.file } : {}), path: `profiles.${profile.name}.reranker` },
      hint: 'add a `reranker:` section to the profile, or search without --rerank',
    })
  }
  return profile.reranker
}

/** kNN order made deterministic the way eval ranks: score descending, then key ascending. */
function byScoreThenKey(a: Hit, b: Hit): number {
  return b.score - a.score || compareKeys(String(a.key), String(b.key))
}

export async function search(args: SearchArgs): Promise<SearchResult> {
  if (args.hybrid && !args.adapter.capabilities.hybridSearch) {
    throw inputError('E_HYBRID_UNSUPPORTED', `the ${args.adapter.kind} store of collection "${args.collection.name}" does not support hybrid search`, {
      location: { path: `stores.${args.collection.store}` },
      hint: 'hybrid (BM25 + kNN) needs an OpenSearch store; search without --hybrid',
    })
  }
  const { profile, encoder, reranker } = args.models
  const n = args.k ?? reranker?.settings.returnTopK ?? DEFAULT_K
  const retrieveK = reranker ? Math.max(reranker.settings.topK, n) : n

  const start = performance.now()
  const [vector] = await encoder.encode([args.query], 'query')
  const encoded = performance.now()
  if (!vector) throw failure('E_ENCODE_EMPTY', `the encoder of profile "${profile.name}" returned no vector for the query`)
  const found = await args.adapter.search(args.collection, args.generation.id, {
    vector,
    k: retrieveK,
    ...(args.hybrid ? { hybrid: true, text: args.query } : {}),
  })
  const candidates = [...found].sort(byScoreThenKey)
  const retrieved = performance.now()
  let hits: SearchHit[]
  let rerankMs: number | null = null
  if (reranker) {
    const order = await reranker.model.rerank(args.query, candidates.map((h) => h.text), n)
    rerankMs = performance.now() - retrieved
    hits = order.map((r, i) => {
      const h = candidates[r.index]
      if (!h) throw failure('E_RERANK_INDEX', `the reranker returned passage index ${r.index} of ${candidates.length}`)
      return { rank: i + 1, key: h.key, score: r.score, retrievalScore: h.score, text: h.text }
    })
  } else {
    hits = candidates.slice(0, n).map((h, i) => ({ rank: i + 1, key: h.key, score: h.score, text: h.text }))
  }
  return {
    collection: args.collection.name,
    generation: args.generation.id,
    profile: profile.name,
    query: args.query,
    reranked: reranker !== undefined,
    hybrid: args.hybrid,
    retrieved: candidates.length,
    hits,
    timings: {
      loadMs: args.models.loadMs,
      encodeMs: encoded - start,
      retrieveMs: retrieved - encoded,
      rerankMs,
      totalMs: performance.now() - start,
    },
  }
}
