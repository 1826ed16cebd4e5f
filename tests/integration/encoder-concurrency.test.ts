import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openEncoder, openReranker, type OnnxEncoder, type Reranker } from '../../src/encoder/index.js'
import { loadPassages } from '../../src/sample/spam-corpus.js'
import { makeProfile } from '../helpers/profile.js'

// Real texts of very different lengths, so concurrent calls pad to different shapes and a
// buffer shared between calls would hand one caller another caller's tokens.
const TEXTS = loadPassages({ limit: 120, words: 60 }).map((p, i) => `${p.title}\n${p.body}`.slice(0, 40 + ((i * 97) % 400)))
const CALLERS = 48

function callerTexts(c: number): string[] {
  const size = 1 + (c % 7)
  return Array.from({ length: size }, (_, k) => TEXTS[(c * 5 + k * 11) % TEXTS.length] as string)
}

function same(a: readonly Float32Array[], b: readonly Float32Array[]): boolean {
  return a.length === b.length && a.every((v, i) => Buffer.from(v.buffer, v.byteOffset, v.byteLength).equals(Buffer.from((b[i] as Float32Array).buffer, (b[i] as Float32Array).byteOffset, (b[i] as Float32Array).byteLength)))
}

describe.each(['bert-tiny', 'starter'])('concurrent callers on one encoder (builtin:%s)', (model) => {
  let encoder: OnnxEncoder
  let sequential: Float32Array[][]
  beforeAll(async () => {
    encoder = await openEncoder(makeProfile({ name: model, dimensions: model === 'starter' ? 100 : 32, batchSize: 3, maxTokens: 64, threads: 1 }))
    sequential = []
    for (let c = 0; c < CALLERS; c++) sequential.push(await encoder.encode(callerTexts(c), 'document'))
  }, 60_000)
  afterAll(() => encoder.close())

  it('encode(): every caller gets exactly the vectors a sequential encode gives', async () => {
    const results = await Promise.all(Array.from({ length: CALLERS }, (_, c) => encoder.encode(callerTexts(c), 'document')))
    const wrong = results.filter((r, c) => !same(r, sequential[c] as Float32Array[])).length
    expect(wrong).toBe(0)
  })

  it('encodeStream(): concurrent streams interleaved with encode() calls stay exact', async () => {
    async function* batches(from: number) {
      for (let c = from; c < from + 6; c++) {
        await Promise.resolve()
        yield callerTexts(c).map((text, k) => ({ caller: c, k, text }))
      }
    }
    async function drain(from: number): Promise<number> {
      let wrong = 0
      for await (const { items, vectors } of encoder.encodeStream(batches(from), 'document')) {
        const caller = items[0]?.caller ?? -1
        if (!same(vectors, sequential[caller] as Float32Array[])) wrong++
      }
      return wrong
    }
    const streams = Array.from({ length: 6 }, (_, s) => drain(s * 6))
    const singles = Array.from({ length: CALLERS }, (_, c) => encoder.encode(callerTexts(c), 'document').then((r) => (same(r, sequential[c] as Float32Array[]) ? 0 : 1)))
    const wrong = (await Promise.all([...streams, ...singles])).reduce((a, b) => a + b, 0)
    expect(wrong).toBe(0)
  })
})

describe('concurrent callers on one reranker (builtin:cross-encoder-tiny)', () => {
  let reranker: Reranker
  beforeAll(async () => {
    reranker = await openReranker({ enabled: true, model: { source: "builtin:cross-encoder-tiny" }, batchSize: 4, maxTokens: 64, topK: 10, returnTopK: 10 }, { threads: 1 })
  }, 60_000)
  afterAll(() => reranker.close())

  it('rerank(): every caller gets exactly the scores a sequential call gives', async () => {
    const query = (c: number) => TEXTS[(c * 13) % TEXTS.length]?.slice(0, 30 + (c % 5) * 20) ?? ''
    const sequential: Awaited<ReturnType<Reranker['rerank']>>[] = []
    for (let c = 0; c < CALLERS; c++) sequential.push(await reranker.rerank(query(c), callerTexts(c), 10))
    const concurrent = await Promise.all(Array.from({ length: CALLERS }, (_, c) => reranker.rerank(query(c), callerTexts(c), 10)))
    const wrong = concurrent.filter((r, c) => JSON.stringify(r) !== JSON.stringify(sequential[c])).length
    expect(wrong).toBe(0)
  })
})
