/**
 * A short encoder run on this machine, so plan's time estimates come from measurement rather
 * than a guess. The texts are fixed, realistic sentences of mixed length: the same sample every
 * time keeps measurements comparable between runs and machines.
 */
import type { Collection, Profile } from '../core/types.js'
import type { Encoder, EncoderOptions, OpenEncoder } from '../encoder/types.js'
import type { StoreAdapter } from '../store/adapter.js'
import { formatCount } from './estimate.js'
import type { Throughput } from './steps.js'

const SUBJECTS = [
  'The quarterly report',
  'A customer support ticket about a failed payment',
  'Release notes for version 2.4 of the mobile app',
  'An email thread discussing the migration of the billing database',
  'The onboarding guide for new engineers',
  'A product review of a lightweight hiking backpack',
  'Meeting minutes from the infrastructure planning session',
  'A recipe for slow-cooked tomato sauce with fresh basil',
]
const PREDICATES = [
  'summarizes revenue growth across regions and flags two markets that missed their targets.',
  'explains how to reset a password, rotate API keys and contact the on-call team when alerts fire during the night.',
  'lists breaking changes, deprecated endpoints and the steps needed to upgrade without downtime.',
  'describes the trade-offs between rebuilding the index online and taking a short maintenance window on Sunday.',
  'is short.',
  'compares battery life, weight, price and durability with three competing products that were tested outdoors for a month in wet weather.',
  'mentions that the cache hit rate dropped after the last deploy.',
  'asks whether the new vector search results are better than keyword search for long technical questions.',
]

export const MEASURE_TEXTS: readonly string[] = SUBJECTS.flatMap((s) => PREDICATES.map((p) => `${s} ${p}`))

/** Texts per second for documents, after one warm-up batch (session creation and first-run costs excluded). */
export async function measureThroughput(openEncoder: OpenEncoder, profile: Profile, opts?: EncoderOptions): Promise<number> {
  const encoder = await openEncoder(profile, opts)
  try {
    const batch = Math.max(1, Math.min(profile.batchSize, MEASURE_TEXTS.length))
    await encoder.encode(MEASURE_TEXTS.slice(0, batch), 'document')
    const started = performance.now()
    for (let i = 0; i < MEASURE_TEXTS.length; i += batch) {
      await encoder.encode(MEASURE_TEXTS.slice(i, i + batch), 'document')
    }
    const seconds = (performance.now() - started) / 1000
    return MEASURE_TEXTS.length / Math.max(seconds, 1e-6)
  } finally {
    await encoder.close()
  }
}

/** Rows written by the pipeline probe; the write path's cost per row settles well before this. */
export const PROBE_ROWS = 2000
/** Below this share of heap-only writes, plan warns that the backfill re-enters the table's indexes. */
const HEAP_ONLY_EXPECTED = 0.9
/** Texts encoded by the probe (the encoder's per-text cost is measured on real rows, then applied to all). */
export const PROBE_ENCODE_TEXTS = 256

/**
 * Encoding kept going while the store writes, as in a backfill, where page n+1 encodes while
 * page n is written: how fast the encoder runs when the write competes for the same cores (a
 * store on this machine, an encoder on the CPU) or does not (a remote store, a GPU).
 */
function encodeMeanwhile(encode: () => Promise<number>): { stop(): Promise<{ texts: number; ms: number }> } {
  let running = true
  let texts = 0
  const started = performance.now()
  let ended = started
  const loop = (async () => {
    while (running) {
      texts += await encode()
      ended = performance.now()
    }
  })()
  return {
    async stop() {
      running = false
      await loop
      return { texts, ms: ended - started }
    },
  }
}

/**
 * Encoded in pages as a backfill does (encodeStream): the next page is tokenized while the
 * current one is inside the model, which a single encode() call of all texts would not show.
 * Returns the vectors and how long each page took to come out.
 */
async function encodeStreamed(encoder: Encoder, texts: string[], pageSize: number): Promise<{ vectors: Float32Array[]; pages: { ms: number; texts: number }[] }> {
  async function* pages() {
    for (let i = 0; i < texts.length; i += pageSize) yield texts.slice(i, i + pageSize).map((text) => ({ text }))
  }
  const vectors: Float32Array[] = []
  const timed: { ms: number; texts: number }[] = []
  let last = performance.now()
  for await (const page of encoder.encodeStream(pages(), 'document')) {
    const now = performance.now()
    timed.push({ ms: now - last, texts: page.vectors.length })
    last = now
    vectors.push(...page.vectors)
  }
  return { vectors, pages: timed }
}

/**
 * Milliseconds per text over the probe's pages: the median page's, so that a page slowed by
 * something else on the machine does not set the rate of the whole estimate (measured: one such
 * hiccup during the probe's quarter second of encoding made a 200k-row estimate 69% too slow).
 */
export function msPerTextOfPages(pages: readonly { ms: number; texts: number }[]): number {
  const rates = pages.filter((p) => p.texts > 0).map((p) => p.ms / p.texts).sort((a, b) => a - b)
  if (rates.length === 0) return 0
  const mid = Math.floor(rates.length / 2)
  return rates.length % 2 === 1 ? rates[mid]! : (rates[mid - 1]! + rates[mid]!) / 2
}

/**
 * Backfill milliseconds per row from what the probe measured. The engine writes page n while it
 * encodes page n+1, so a write costs time only as far as it slows the encoder down (or outlasts
 * it): per row, the write's `write` ms, plus the rest of the row's encoding at the encoder's own
 * speed once the `contended` rate (texts per ms while writing) has done its share.
 */
export function pipelineMsPerRow(perRow: { read: number; encode: number; write: number }, contended: number): number {
  // Nothing is left when the encoder finishes the row while the write runs: the write sets the pace.
  const leftToEncode = Math.max(0, 1 - perRow.write * contended)
  return perRow.read + perRow.write + leftToEncode * perRow.encode
}

/**
 * The whole pipeline measured on the collection's own rows: the adapter reads a sample, the
 * encoder encodes real texts from it, and the adapter writes through its real write path into a
 * throwaway copy with the table's own indexes (nothing in the store changes) while the encoder
 * keeps encoding those texts, as it would during a backfill (pipelineMsPerRow).
 */
export async function measurePipeline(openEncoder: OpenEncoder, adapter: StoreAdapter, c: Collection, profile: Profile, opts?: EncoderOptions): Promise<Throughput | undefined> {
  if (!adapter.measurePipeline) return undefined
  const encoder = await openEncoder(profile, opts)
  let meanwhile: ReturnType<typeof encodeMeanwhile> | undefined
  try {
    let msPerText = 0
    const m = await adapter.measurePipeline(c, {
      dimensions: profile.dimensions,
      storage: profile.index.storage,
      sampleRows: PROBE_ROWS,
      encode: async (texts) => {
        const real = texts.slice(0, PROBE_ENCODE_TEXTS)
        if (real.length === 0) return []
        const batch = real.slice(0, Math.min(profile.batchSize, real.length))
        // Once unmeasured: ONNX Runtime's first run of each padded shape allocates and plans, which
        // the backfill pays once and the probe's few hundred texts would pay in full (measured on
        // bert-tiny: estimate 41% too slow with one warm-up batch, 10% too fast with this).
        await encodeStreamed(encoder, real, batch.length)
        const { vectors, pages } = await encodeStreamed(encoder, real, batch.length)
        msPerText = msPerTextOfPages(pages)
        meanwhile = encodeMeanwhile(async () => (await encoder.encode(batch, 'document')).length)
        return texts.map((_, i) => vectors[i % vectors.length] as Float32Array)
      },
    })
    const during = await meanwhile?.stop()
    meanwhile = undefined
    if (m.rows === 0 || msPerText === 0) return undefined
    const perRow = { read: m.readMs / m.rows, encode: msPerText, write: m.writeMs / m.rows }
    const contended = during && during.ms > 0 ? during.texts / during.ms : 0
    const msPerRow = pipelineMsPerRow(perRow, contended)
    const rate = (ms: number) => formatCount(Math.round(1000 / Math.max(ms, 1e-6)))
    const heapOnly = m.heapOnlyShare === undefined ? '' : `, ${Math.round(m.heapOnlyShare * 100)}% heap-only`
    const amplified =
      // Only where it costs time: the write path at least nearly as slow as the encoder.
      m.heapOnlyShare !== undefined && m.heapOnlyShare < HEAP_ONLY_EXPECTED && perRow.write >= 0.8 * perRow.encode
        ? `only ${Math.round(m.heapOnlyShare * 100)}% of sampled backfill writes were heap-only: these rows are too small to move their vectors out of line, so each other write re-enters all ${m.indexes.length} index(es) of the table (${m.indexes.join(', ')}); measured write path ${rate(perRow.write)} rows/s${perRow.write > perRow.encode ? ', slower than the encoder: the backfill is write-bound' : ''}; \`embedform gc --indexes\` drops retained generations' indexes (rollback rebuilds them)`
        : undefined
    return {
      textsPerSecond: 1000 / Math.max(msPerRow, 1e-6),
      source: 'measured',
      ...(amplified ? { warning: amplified } : {}),
      basis: `measured pipeline on ${formatCount(m.rows)} sampled rows: read ${rate(perRow.read)} rows/s, encode ${rate(perRow.encode)} texts/s (${rate(1 / Math.max(contended, 1e-9))} while the store writes), write ${rate(perRow.write)} rows/s through ${m.indexes.length} index(es)${heapOnly}`,
    }
  } finally {
    await meanwhile?.stop()
    await encoder.close()
  }
}
