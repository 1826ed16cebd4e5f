/**
 * `embedform search` and `embedform eval` through the built CLI on a small real-email collection
 * in PGlite: rerank mechanics (top_k candidates down to return_top_k), the latency split, and the
 * input errors a user meets first.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { pgliteBodyConfig, runCli } from '../helpers/cli.js'
import { buildRetrievalSet, seedPglite } from '../helpers/retrieval-set.js'

const PROFILE = `model: { source: "builtin:starter" }
dimensions: 100
pooling: mean
normalize: true
max_tokens: 256
batch_size: 256
device: cpu
prefixes: { query: "", document: "" }
reranker:
  enabled: false
  model: { source: "builtin:cross-encoder-tiny" }
  top_k: 20
  return_top_k: 3
index:
  metric: cosine
  pgvector: { type: hnsw, m: 16, ef_construction: 64 }
`
interface ErrorJson {
  ok: false
  error: { code: string; message: string; location?: { file?: string; line?: number; path?: string } }
}

describe('search and eval CLI (PGlite, built CLI)', () => {
  let dir: string
  const cli = (args: string[]) => runCli(args, { cwd: dir, timeoutMs: 180_000 })

  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'embedform-search-e2e-'))
    const set = buildRetrievalSet(join(dir, 'eval'), { queries: 40, distractors: 40 })
    await seedPglite(join(dir, 'pglite'), set.corpus)
    mkdirSync(join(dir, 'profiles'))
    writeFileSync(join(dir, 'profiles', 'starter.yaml'), PROFILE)
    writeFileSync(join(dir, 'embedding.config.yaml'), pgliteBodyConfig('starter'))
    const r = await cli(['apply', '--auto-approve'])
    expect(r.code, r.stderr).toBe(0)
  })

  it('prints rank, key, score, a one-line snippet and the latency split', async () => {
    const r = await cli(['search', 'cheap mortgage rates', '-k', '2'])
    expect(r.code, r.stderr).toBe(0)
    const lines = r.stdout.trimEnd().split('\n')
    expect(lines[0]).toBe('collection "docs", generation g1 (starter)')
    expect(lines[1]).toMatch(/^rank\s+key\s+score\s+text$/)
    expect(lines.slice(3, 5).every((l) => /^\s+[12]\s+\d+\s+-?\d\.\d{4}\s+\S/.test(l))).toBe(true)
    expect(lines[5]).toMatch(/^latency: encode \d+\.\d ms · retrieve \d+\.\d ms · total \d+\.\d ms \(model load \d+\.\d ms\)$/)
  })

  it('--rerank retrieves reranker.top_k candidates and returns reranker.return_top_k', async () => {
    const r = await cli(['search', 'linux kernel', '--rerank', '--json'])
    expect(r.code, r.stderr).toBe(0)
    const out = JSON.parse(r.stdout) as { reranked: boolean; retrieved: number; hits: { rank: number; retrievalScore?: number }[]; timings: { rerankMs: number | null } }
    expect(out.reranked).toBe(true)
    expect(out.retrieved).toBe(20)
    expect(out.hits.map((h) => h.rank)).toEqual([1, 2, 3])
    expect(out.hits.every((h) => typeof h.retrievalScore === 'number')).toBe(true)
    expect(out.timings.rerankMs).toBeGreaterThan(0)
  })

  it('refuses --hybrid on PGlite and an unknown generation as bad input', async () => {
    const hybrid = await cli(['search', 'x', '--hybrid', '--json'])
    expect(hybrid.code).toBe(2)
    expect((JSON.parse(hybrid.stdout) as ErrorJson).error.code).toBe('E_HYBRID_UNSUPPORTED')
    const missing = await cli(['search', 'x', '--generation', 'g7', '--json'])
    expect(missing.code).toBe(2)
    expect((JSON.parse(missing.stdout) as ErrorJson).error).toMatchObject({ code: 'E_GENERATION_NOT_FOUND' })
  })

  it('eval without qrels reports overlap@k with the live generation', async () => {
    const r = await cli(['eval', '--queries', 'eval/queries.jsonl', '-k', '5,10', '--json'])
    expect(r.code, r.stderr).toBe(0)
    const out = JSON.parse(r.stdout) as { judged: boolean; metrics: string[]; generations: { metrics: Record<string, { value: number; queries: number }> }[] }
    expect(out.judged).toBe(false)
    expect(out.metrics).toEqual(['overlap@5', 'overlap@10'])
    expect(out.generations[0]?.metrics['overlap@10']).toEqual({ value: 1, queries: 40, skipped: 0 })
  })

  it('eval names file and line of a bad query', async () => {
    writeFileSync(join(dir, 'bad.jsonl'), '{"_id": "q1", "text": "fine"}\n{"_id": "q2", "txt": "typo"}\n')
    const r = await cli(['eval', '--queries', 'bad.jsonl', '--json'])
    expect(r.code).toBe(2)
    expect((JSON.parse(r.stdout) as ErrorJson).error).toMatchObject({ code: 'E_QUERIES_FORMAT', location: { file: join(dir, 'bad.jsonl'), line: 2 } })
  })
})
