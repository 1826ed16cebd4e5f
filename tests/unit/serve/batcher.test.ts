import { describe, expect, it } from 'vitest'
import type { TextKind } from '../../../src/encoder/types.js'
import { ApiError } from '../../../src/serve/api-error.js'
import { EncodeBatcher } from '../../../src/serve/batcher.js'

/** A vector that says which text and kind it was made from. */
const vectorOf = (text: string, kind: TextKind) => Float32Array.from([text.length, kind === 'query' ? 1 : 0, Number(text.replace(/\D/g, '') || 0)])

/**
 * As strict as the real encoder is fragile: a second encode() while one runs fails the test
 * (that is the bug a shared encoder has), and each call can be held open until released.
 */
function strictEncoder() {
  const calls: { texts: string[]; kind: TextKind }[] = []
  let running = false
  let hold: Promise<void> | undefined
  let release = () => {}
  return {
    calls,
    holdNext() {
      hold = new Promise((r) => (release = r))
    },
    release: () => release(),
    encode: async (texts: string[], kind: TextKind) => {
      if (running) throw new Error('encode() called while another encode() is running')
      running = true
      calls.push({ texts: [...texts], kind })
      try {
        await (hold ?? new Promise((r) => setTimeout(r, 1)))
        hold = undefined
        return texts.map((t) => vectorOf(t, kind))
      } finally {
        running = false
      }
    },
  }
}

const opts = { crossRequest: true, maxBatchTokens: 1000, maxQueuedTexts: 1000 }
const tokensOf = (texts: string[]) => texts.map(() => 10)

describe('EncodeBatcher', () => {
  it('merges concurrent requests into few encode calls, never two at once, and gives each request its own vectors', async () => {
    const enc = strictEncoder()
    const b = new EncodeBatcher(enc.encode, opts)
    const requests = Array.from({ length: 64 }, (_, i) => [`text ${i}`])
    const results = await Promise.all(requests.map((texts) => b.submit(texts, tokensOf(texts), 'document')))
    results.forEach((vectors, i) => expect(Array.from(vectors[0]!)).toEqual(Array.from(vectorOf(`text ${i}`, 'document'))))
    expect(enc.calls.length).toBeLessThanOrEqual(2)
    expect(enc.calls.flatMap((c) => c.texts)).toHaveLength(64)
  })

  it('keeps a batch within the token budget, splitting a long request across batches in order', async () => {
    const enc = strictEncoder()
    const b = new EncodeBatcher(enc.encode, { ...opts, maxBatchTokens: 25 })
    const texts = Array.from({ length: 7 }, (_, i) => `t${i}`)
    const vectors = await b.submit(texts, tokensOf(texts), 'query')
    expect(vectors.map((v) => v[2])).toEqual([0, 1, 2, 3, 4, 5, 6])
    expect(enc.calls.map((c) => c.texts.length)).toEqual([2, 2, 2, 1])
  })

  it('counts the budget padded: texts × the longest text', async () => {
    const enc = strictEncoder()
    const b = new EncodeBatcher(enc.encode, { ...opts, maxBatchTokens: 100 })
    // 10 + 10 + 10 tokens would fit 100 summed, but padded to 40 the third text does not.
    await b.submit(['s1', 'l2', 's3', 's4'], [10, 40, 10, 10], 'document')
    expect(enc.calls.map((c) => c.texts)).toEqual([['s1', 'l2'], ['s3', 's4']])
  })

  it('encodes a single text over the budget alone rather than never', async () => {
    const enc = strictEncoder()
    const b = new EncodeBatcher(enc.encode, { ...opts, maxBatchTokens: 5 })
    await expect(b.submit(['long'], [50], 'document')).resolves.toHaveLength(1)
  })

  it('never mixes query and document texts in one call', async () => {
    const enc = strictEncoder()
    const b = new EncodeBatcher(enc.encode, opts)
    const [q, d] = await Promise.all([b.submit(['q1'], [10], 'query'), b.submit(['d1'], [10], 'document'), b.submit(['q2'], [10], 'query')])
    expect(q![0]![1]).toBe(1)
    expect(d![0]![1]).toBe(0)
    for (const c of enc.calls) expect(new Set(c.texts.map((t) => t[0])).size).toBe(1)
  })

  it('without cross-request batching, each encode call holds one request only', async () => {
    const enc = strictEncoder()
    const b = new EncodeBatcher(enc.encode, { ...opts, crossRequest: false })
    await Promise.all(Array.from({ length: 10 }, (_, i) => b.submit([`a${i}`, `b${i}`], [10, 10], 'document')))
    expect(enc.calls).toHaveLength(10)
    for (const c of enc.calls) expect(c.texts.map((t) => t.slice(1))).toEqual([c.texts[0]!.slice(1), c.texts[0]!.slice(1)])
  })

  it('refuses with 429 and a Retry-After when the queue is full', async () => {
    const enc = strictEncoder()
    const b = new EncodeBatcher(enc.encode, { ...opts, maxQueuedTexts: 4 })
    enc.holdNext()
    const first = b.submit(['a'], [10], 'document')
    await new Promise((r) => setImmediate(r))
    // `a` is being encoded; four more texts fill the queue.
    const second = b.submit(['b', 'c', 'd', 'e'], tokensOf(['b', 'c', 'd', 'e']), 'document')
    expect(b.depth).toBe(4)
    const refused = await b.submit(['f'], [10], 'document').catch((e: unknown) => e)
    expect(refused).toBeInstanceOf(ApiError)
    expect((refused as ApiError).status).toBe(429)
    expect((refused as ApiError).retryAfter).toBeGreaterThanOrEqual(1)
    enc.release()
    await expect(Promise.all([first, second])).resolves.toHaveLength(2)
    expect(b.depth).toBe(0)
  })

  it('drops an aborted request from the queue and still serves the others', async () => {
    const enc = strictEncoder()
    const b = new EncodeBatcher(enc.encode, opts)
    enc.holdNext()
    const first = b.submit(['a'], [10], 'document')
    await new Promise((r) => setImmediate(r))
    const controller = new AbortController()
    const aborted = b.submit(['x1', 'x2'], [10, 10], 'document', controller.signal)
    const kept = b.submit(['k'], [10], 'document')
    controller.abort(new Error('client went away'))
    await expect(aborted).rejects.toThrow('client went away')
    expect(b.depth).toBe(1)
    enc.release()
    await Promise.all([first, kept])
    expect(enc.calls.flatMap((c) => c.texts)).toEqual(['a', 'k'])
  })

  it('fails every request of a failed batch and keeps serving afterwards', async () => {
    let fail = true
    const b = new EncodeBatcher(async (texts) => {
      if (fail) {
        fail = false
        throw new Error('session.run failed')
      }
      return texts.map((t) => vectorOf(t, 'document'))
    }, opts)
    const results = await Promise.allSettled([b.submit(['a'], [1], 'document'), b.submit(['b'], [1], 'document')])
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected'])
    await expect(b.submit(['c'], [1], 'document')).resolves.toHaveLength(1)
    await b.idle()
  })
})
