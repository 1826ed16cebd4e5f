import { describe, expect, it } from 'vitest'
import type { Encoder } from '../../../src/encoder/types.js'
import { FailedRows } from '../../../src/sync/failures.js'
import { Wakeup } from '../../../src/sync/wakeup.js'

function encoderRejecting(bad: string, calls: string[][]): Encoder {
  const encode = async (texts: string[]) => {
    calls.push(texts)
    if (texts.some((t) => t.includes(bad))) throw new Error(`cannot tokenize ${bad}`)
    return texts.map((t) => Float32Array.of(t.length))
  }
  return { dimensions: 1, provider: 'test', encode, encodeStream: async function* () {}, close: async () => undefined }
}

async function collect(enc: Encoder, batches: { key: number; text: string }[][]) {
  const out: { keys: number[]; vectors: number[] }[] = []
  async function* pages() {
    yield* batches
  }
  for await (const b of enc.encodeStream(pages(), 'document')) out.push({ keys: b.items.map((i) => i.key), vectors: b.vectors.map((v) => v[0]!) })
  return out
}

describe('FailedRows', () => {
  it('isolates the row that fails alone, keeps the rest of its batch in order, and backs off its retries', async () => {
    let now = 1_000_000
    const failures = new FailedRows({ retryBaseMs: 100, maxRetryMs: 250, now: () => now })
    const calls: string[][] = []
    const enc = failures.isolating(encoderRejecting('BAD', calls), 2)
    const batch = [
      { key: 1, text: 'a' },
      { key: 2, text: 'BAD' },
      { key: 3, text: 'ccc' },
    ]
    expect(await collect(enc, [batch])).toEqual([{ keys: [1, 3], vectors: [1, 3] }])
    expect(failures.list()).toEqual([expect.objectContaining({ generation: 2, key: 2, attempts: 1, error: 'cannot tokenize BAD' })])
    expect(failures.nextRetryIn(2)).toBe(100)

    // Not due yet: left out without being encoded.
    calls.length = 0
    expect(await collect(enc, [[{ key: 2, text: 'BAD' }]])).toEqual([])
    expect(calls).toEqual([])

    now += 100
    await collect(enc, [[{ key: 2, text: 'BAD' }]])
    now += 200
    await collect(enc, [[{ key: 2, text: 'BAD' }]])
    const [f] = failures.list()
    expect(f!.attempts).toBe(3)
    // 100, 200, then capped at 250.
    expect(Date.parse(f!.retryAt) - now).toBe(250)

    now += 250
    expect(await collect(enc, [[{ key: 2, text: 'fixed' }]])).toEqual([{ keys: [2], vectors: [5] }])
    expect(failures.list()).toEqual([])
  })

  it('writes new failures and clearances to the store record once per flush', async () => {
    const failures = new FailedRows({ retryBaseMs: 10, maxRetryMs: 10 })
    const enc = failures.isolating(encoderRejecting('BAD', []), 1)
    const recorded: { failed: unknown[]; cleared: unknown[] }[] = []
    const adapter = { recordFailures: async (_c: unknown, failed: unknown[], cleared: unknown[]) => void recorded.push({ failed, cleared }) }
    const c = { name: 'docs' }
    await collect(enc, [[{ key: 7, text: 'BAD' }]])
    await failures.flush(adapter as never, c as never)
    await failures.flush(adapter as never, c as never)
    await new Promise((r) => setTimeout(r, 15))
    await collect(enc, [[{ key: 7, text: 'good' }]])
    await failures.flush(adapter as never, c as never)
    expect(recorded).toEqual([
      { failed: [expect.objectContaining({ key: 7, attempts: 1 })], cleared: [] },
      { failed: [], cleared: [{ generation: 1, key: 7 }] },
    ])
  })
})

describe('Wakeup', () => {
  it('folds signals that arrive while busy into one wake-up and times out otherwise', async () => {
    const w = new Wakeup()
    w.signal()
    w.signal()
    expect(await w.wait(1000)).toBe(true)
    expect(await w.wait(10)).toBe(false)
    const waiting = w.wait(5000)
    w.signal()
    expect(await waiting).toBe(true)
    const abort = new AbortController()
    const aborted = w.wait(5000, abort.signal)
    abort.abort()
    expect(await aborted).toBe(false)
  })
})
