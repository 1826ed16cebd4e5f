import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { EmbedformError } from '../../../src/core/errors.js'
import type { Config, QualityGate } from '../../../src/core/types.js'
import { gateRunner } from '../../../src/eval/gate.js'
import type { EngineContext } from '../../../src/plan/types.js'
import { DOCS, MemoryStore, QRELS, QUERIES, collection, fakeOpenEncoder, profile } from './fakes.js'

const good = profile('good')
const alsoGood = profile('also-good', { prefixes: { query: 'find ', document: '' } })
const random = profile('random', { model: { source: 'fake:random' } })

function workspace(): { dir: string; ctx: EngineContext } {
  const dir = mkdtempSync(join(tmpdir(), 'embedform-gate-'))
  writeFileSync(join(dir, 'queries.jsonl'), QUERIES.map((q) => JSON.stringify({ _id: q.id, text: q.text })).join('\n'))
  writeFileSync(
    join(dir, 'qrels.tsv'),
    ['query-id\tcorpus-id\tscore', ...[...QRELS].flatMap(([q, j]) => [...j].map(([d, r]) => `${q}\t${d}\t${r}`))].join('\n'),
  )
  const config = { file: join(dir, 'embedding.config.yaml'), profiles: { good, random } } as unknown as Config
  const ctx = { config, openEncoder: fakeOpenEncoder(), adapterFor: async () => { throw new Error('unused') }, holder: 'test', close: async () => {} } as EngineContext
  return { dir, ctx }
}

const gate: QualityGate = { metric: 'ndcg@3', queries: 'queries.jsonl', qrels: 'qrels.tsv', maxDrop: 0.03 }

describe('gateRunner', () => {
  it('fails a candidate that drops more than max_drop and reports a comparison table', async () => {
    const { ctx } = workspace()
    const s = new MemoryStore(DOCS)
    const live = s.addGeneration(1, 'live', good)
    const candidate = s.addGeneration(2, 'building', random)
    const result = await gateRunner({ ctx, collection, adapter: s.asAdapter(), liveGeneration: live, candidate, gate })
    expect(result.passed).toBe(false)
    expect(result.metric).toBe('ndcg@3')
    expect(result.live).toBeGreaterThan(0.9)
    expect(result.drop).toBeCloseTo(result.live - result.candidate, 12)
    expect(result.drop).toBeGreaterThan(0.03)
    expect(result.maxDrop).toBe(0.03)
    const lines = result.report.split('\n')
    expect(lines[1]).toMatch(/^metric\s+live g1 \(good\)\s+candidate g2 \(random\)\s+delta$/)
    expect(result.report).toMatch(/^ndcg@3 \*\s+\d\.\d{4}\s+\d\.\d{4}\s+-\d\.\d{4}$/m)
    for (const m of ['recall@3', 'mrr@3', 'map@3', 'overlap@3']) expect(result.report).toContain(m)
    expect(result.report).toMatch(/FAILED: ndcg@3 dropped .* more than max_drop 0\.0300; generation g1 stays live/)
  })

  it('passes a candidate within max_drop', async () => {
    const { ctx } = workspace()
    const s = new MemoryStore(DOCS)
    const live = s.addGeneration(1, 'live', good)
    const candidate = s.addGeneration(2, 'building', alsoGood)
    const result = await gateRunner({ ctx, collection, adapter: s.asAdapter(), liveGeneration: live, candidate, gate })
    expect(result.passed).toBe(true)
    expect(result.drop).toBeLessThanOrEqual(0.03)
    expect(result.report).toMatch(/passed: ndcg@3 drop/)
  })

  it('gates on overlap@k without qrels', async () => {
    const { ctx } = workspace()
    const s = new MemoryStore(DOCS)
    const live = s.addGeneration(1, 'live', good)
    const candidate = s.addGeneration(2, 'building', random)
    const result = await gateRunner({ ctx, collection, adapter: s.asAdapter(), liveGeneration: live, candidate, gate: { metric: 'overlap@2', queries: 'queries.jsonl', maxDrop: 0.5 } })
    expect(result.live).toBe(1)
    expect(result.report).not.toContain('ndcg')
    expect(result.passed).toBe(result.drop <= 0.5)
  })

  it('refuses a judged metric without qrels, naming the gate key', async () => {
    const { ctx } = workspace()
    const s = new MemoryStore(DOCS)
    const live = s.addGeneration(1, 'live', good)
    const candidate = s.addGeneration(2, 'building', random)
    const err = await gateRunner({ ctx, collection, adapter: s.asAdapter(), liveGeneration: live, candidate, gate: { metric: 'ndcg@10', queries: 'queries.jsonl', maxDrop: 0.03 } }).catch((e: unknown) => e)
    expect((err as EmbedformError).code).toBe('E_GATE_NO_QRELS')
    expect((err as EmbedformError).location?.path).toBe('profiles.random.gate.qrels')
  })

  it('needs the live model: an adopted generation without adopted_profile is an input error', async () => {
    const { ctx } = workspace()
    const s = new MemoryStore(DOCS)
    const live = s.addGeneration(1, 'live', null, good)
    const candidate = s.addGeneration(2, 'building', random)
    const err = await gateRunner({ ctx, collection, adapter: s.asAdapter(), liveGeneration: live, candidate, gate }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(EmbedformError)
    expect((err as EmbedformError).code).toBe('E_GATE_LIVE_MODEL_UNKNOWN')
    expect((err as EmbedformError).exitCode).toBe(2)
    expect((err as EmbedformError).hint).toMatch(/adopted_profile.*--skip-gate/)
    const declared = await gateRunner({ ctx, collection: { ...collection, adoptedProfile: 'good' }, adapter: s.asAdapter(), liveGeneration: live, candidate, gate })
    expect(declared.passed).toBe(false)
  })

  it('names the queries file when it is missing', async () => {
    const { ctx, dir } = workspace()
    const s = new MemoryStore(DOCS)
    const live = s.addGeneration(1, 'live', good)
    const candidate = s.addGeneration(2, 'building', random)
    const err = await gateRunner({ ctx, collection, adapter: s.asAdapter(), liveGeneration: live, candidate, gate: { ...gate, queries: 'nope.jsonl' } }).catch((e: unknown) => e)
    expect((err as EmbedformError).location?.file).toBe(join(dir, 'nope.jsonl'))
  })
})
