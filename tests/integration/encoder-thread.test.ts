import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openEncoder, type OnnxEncoder } from '../../src/encoder/index.js'
import { loadPassages } from '../../src/sample/spam-corpus.js'
import { makeProfile } from '../helpers/profile.js'

// A backfill writes page n while page n+1 encodes: the store's round trips need the JS thread
// while inference runs. onnxruntime-node's run is synchronous under its Promise, so inference on
// the JS thread would let the event loop turn only between batches.
describe('inference runs off the JS thread', () => {
  let encoder: OnnxEncoder
  const texts = loadPassages({ limit: 256, words: 120 }).map((p) => `${p.title}\n${p.body}`)
  beforeAll(async () => {
    encoder = await openEncoder(makeProfile({ name: 'bert-tiny', dimensions: 32, batchSize: 256, maxTokens: 256, threads: 1 }))
  }, 60_000)
  afterAll(() => encoder.close())

  it('the event loop keeps turning while a batch is inside session.run', async () => {
    const batches = encoder.stats.batches
    let turns = 0
    let encoding = true
    const spin = async () => {
      while (encoding) {
        await new Promise<void>((resolve) => setImmediate(resolve))
        turns++
      }
    }
    const spinning = spin()
    let vectors: Float32Array[] = []
    for (let round = 0; round < 3; round++) vectors = await encoder.encode(texts, 'document')
    encoding = false
    await spinning
    const runs = encoder.stats.batches - batches
    expect(vectors).toHaveLength(texts.length)
    // On the JS thread a run allows a couple of turns around it; off it, the loop turns all along.
    expect(turns).toBeGreaterThan(50 * runs)
  })

  it('a stream tokenizes the next page in turns, so the session is fed while it does', async () => {
    const page = Array.from({ length: 4 }, () => texts).flat()
    let t = performance.now()
    encoder.tokenize(page, 'document')
    const wholePageMs = performance.now() - t
    let maxGapMs = 0
    let encoding = true
    const spin = async () => {
      let last = performance.now()
      while (encoding) {
        await new Promise<void>((resolve) => setImmediate(resolve))
        const now = performance.now()
        maxGapMs = Math.max(maxGapMs, now - last)
        last = now
      }
    }
    async function* pages() {
      for (let i = 0; i < 3; i++) yield page.map((text) => ({ text }))
    }
    const spinning = spin()
    let encoded = 0
    for await (const { vectors } of encoder.encodeStream(pages(), 'document')) encoded += vectors.length
    encoding = false
    await spinning
    expect(encoded).toBe(3 * page.length)
    // Tokenized in one go, the next page held the JS thread for wholePageMs while the session,
    // which needs the JS thread to start each sub-batch, sat idle.
    expect(maxGapMs).toBeLessThan(wholePageMs / 2)
  })
})
