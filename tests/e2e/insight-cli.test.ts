/**
 * Issue #15 through the built CLI on an embedded PGlite store holding real email: a sampled plan
 * (speed, tokens, storage, neighbour overlap, the gate's likely verdict) that writes nothing,
 * attestation and drift after someone writes vectors behind embedform's back, lint with its
 * three output formats, and the pull-request rendering of a plan.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import { vector } from '@electric-sql/pglite-pgvector'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { jsonLines, pgliteBodyConfig, runCli } from '../helpers/cli.js'
import { buildRetrievalSet, seedPglite } from '../helpers/retrieval-set.js'

const STARTER = `model: { source: "builtin:starter" }
dimensions: 100
pooling: mean
normalize: true
max_tokens: 256
batch_size: 256
device: cpu
index:
  metric: cosine
  pgvector: { type: hnsw, m: 16, ef_construction: 64 }
gate:
  metric: ndcg@10
  queries: ../eval/queries.jsonl
  qrels: ../eval/qrels.tsv
  max_drop: 0.03
`
const PROFILES: Record<string, string> = {
  starter: STARTER,
  // Same model, another document prefix: a new fingerprint whose neighbours barely move.
  passage: `extends: starter\nprefixes: { document: "passage: ", query: "" }\n`,
  random: `extends: starter\nmodel: { source: "builtin:starter-random" }\n`,
  short: `extends: starter\nmax_tokens: 16\n`,
  ungated: `model: { source: "builtin:starter" }\ndimensions: 100\npooling: mean\nnormalize: true\nmax_tokens: 256\nindex: { metric: cosine }\n`,
}

let dir: string
const ROWS = 300
/** Each test runs several CLI processes; on a loaded 2-core machine that takes minutes. */
const TEST_TIMEOUT_MS = 400_000
const cli = (args: string[]) => runCli(args, { cwd: dir, timeoutMs: 240_000 })
const useProfile = (profile: string, lint = '') => writeFileSync(join(dir, 'embedding.config.yaml'), pgliteBodyConfig(profile, lint))

/** Only while no CLI runs: PGlite is one process's database. */
async function sql(text: string): Promise<void> {
  const db = new PGlite(join(dir, 'pglite'), { extensions: { vector } })
  try {
    await db.exec(text)
  } finally {
    await db.close()
  }
}

async function embeddingDump(): Promise<string> {
  const db = new PGlite(join(dir, 'pglite'), { extensions: { vector } })
  try {
    const r = await db.query<{ d: string }>(`SELECT string_agg(id || ':' || coalesce(embedding::text, '-'), ';' ORDER BY id) AS d FROM docs`)
    return r.rows[0]?.d ?? ''
  } finally {
    await db.close()
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'embedform-insight-'))
  const set = buildRetrievalSet(join(dir, 'eval'), { queries: 200, distractors: 100 })
  expect(set.corpus).toHaveLength(ROWS)
  await seedPglite(join(dir, 'pglite'), set.corpus)
  mkdirSync(join(dir, 'profiles'))
  for (const [name, yaml] of Object.entries(PROFILES)) writeFileSync(join(dir, 'profiles', `${name}.yaml`), yaml)
  useProfile('starter')
  const r = await cli(['apply', '--auto-approve'])
  expect(r.code, r.stderr).toBe(0)
}, 300_000)

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true })
})

describe('plan --sample', () => {
  it('measures the candidate on sampled rows, previews quality, and writes nothing', async () => {
    useProfile('passage')
    const before = await embeddingDump()
    const r = await cli(['plan', '--sample', String(ROWS), '--no-measure', '--json'])
    expect(r.code, r.stderr).toBe(0)
    const s = JSON.parse(r.stdout).samples.collections[0]
    expect(s).toMatchObject({ collection: 'docs', profile: 'passage', sampled: ROWS, eta: { rows: ROWS }, storage: { rows: ROWS, bytesPerRow: 408, bytes: ROWS * 408 } })
    expect(s.throughput.textsPerSecond).toBeGreaterThan(0)
    expect(s.eta.seconds).toBeCloseTo(ROWS / s.throughput.textsPerSecond, 6)
    expect(s.tokens.p50).toBeGreaterThan(10)
    expect(s.tokens.p95).toBeGreaterThanOrEqual(s.tokens.p50)
    expect(s.tokens).toMatchObject({ maxTokens: 256, texts: ROWS })
    // A prefix word shifts every GloVe mean a little: most neighbours stay.
    expect(s.overlap).toMatchObject({ k: 10, rows: ROWS, liveGeneration: 1 })
    expect(s.overlap.overlap).toBeGreaterThan(0.5)
    // Every judged row is sampled (ROWS of ROWS), so all 200 queries count; same model, so the gate would pass.
    expect(s.gate).toMatchObject({ metric: 'ndcg@10', queries: 200, skipped: 0, likely: 'pass' })
    expect(await embeddingDump()).toBe(before)
    const state = await cli(['status', '--json'])
    expect(JSON.parse(state.stdout).collections[0].generations).toHaveLength(1)
  }, TEST_TIMEOUT_MS)

  it('predicts that the gate fails for random weights, and their neighbours disagree', async () => {
    useProfile('random')
    const r = await cli(['plan', '--sample', String(ROWS), '--no-measure', '--json'])
    expect(r.code, r.stderr).toBe(0)
    const s = JSON.parse(r.stdout).samples.collections[0]
    expect(s.overlap.overlap).toBeLessThan(0.5)
    expect(s.gate.likely).toBe('fail')
    expect(s.gate.live - s.gate.candidate).toBeGreaterThan(0.03)
    const text = await cli(['plan', '--sample', '100', '--no-measure'])
    expect(text.stdout).toMatch(/measured \d+ texts\/s over 100 sampled rows → 300 rows in (<1s|~\d)/)
    expect(text.stdout).toMatch(/neighbour overlap@10 with live g1: 0\.\d{4} over 100 rows/)
  }, TEST_TIMEOUT_MS)

  it('renders a pull-request-ready markdown plan with samples, lint findings and rollback', async () => {
    useProfile('short')
    const r = await cli(['plan', '--sample', '50', '--no-measure', '--format', 'markdown'])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/^## embedform plan\n/)
    expect(r.stdout).toContain('| step | rows | time | storage | |')
    expect(r.stdout).toMatch(/\| backfill .*\| 300 \|/)
    expect(r.stdout).toContain('**Sampled (50 rows, nothing written):**')
    expect(r.stdout).toMatch(/- \*\*warning\*\* `max-tokens-truncates`: max_tokens 16 is below/)
    expect(r.stdout).toContain('`embedform rollback --collection docs --to g1`')
  }, TEST_TIMEOUT_MS)

  it('refuses a sample of fewer than 2 rows as bad input', async () => {
    const r = await cli(['plan', '--sample', '1', '--no-measure'])
    expect(r.code).toBe(2)
  }, TEST_TIMEOUT_MS)
})

describe('lint', () => {
  it('reports findings as text, JSON and GitHub annotations, with CI exit codes', async () => {
    useProfile('short')
    const json = await cli(['lint', '--json'])
    expect(json.code, json.stderr).toBe(0)
    const report = JSON.parse(json.stdout)
    const truncates = report.findings.find((f: { rule: string }) => f.rule === 'max-tokens-truncates')
    expect(truncates).toMatchObject({ severity: 'warning', collection: 'docs', line: 2, file: join(dir, 'profiles', 'short.yaml') })
    expect(truncates.message).toMatch(/p95 token length \d+: 100\.0% of sampled texts/)
    expect(report.counts.warning).toBe(1)

    const gh = await cli(['lint', '--format', 'github'])
    expect(gh.stdout).toContain('::warning file=profiles/short.yaml,line=2,title=embedform lint max-tokens-truncates::docs: max_tokens 16')
    expect((await cli(['lint', '--strict'])).code).toBe(1)

    useProfile('ungated', 'lint:\n  rules:\n    no-quality-gate: error\n')
    const failing = await cli(['lint'])
    expect(failing.code).toBe(1)
    expect(failing.stdout).toMatch(/error\s+no-quality-gate\s+docs \(profiles\/ungated.yaml:1\)/)

    useProfile('ungated', 'lint:\n  rules:\n    no-quality-gate: error\n  ignore:\n    docs: [no-quality-gate]\n')
    const suppressed = await cli(['lint', '--json'])
    expect(suppressed.code, suppressed.stdout).toBe(0)
    expect(JSON.parse(suppressed.stdout).findings).toEqual([])

    useProfile('starter', 'lint:\n  rules:\n    no-such-rule: error\n')
    expect((await cli(['lint'])).code).toBe(2)
  }, TEST_TIMEOUT_MS)

  it('asks for sampled evidence before a large re-embedding, and --sample provides it', async () => {
    useProfile('passage', 'lint:\n  reembed_threshold: 100\n')
    const bare = JSON.parse((await cli(['lint', '--json'])).stdout)
    expect(bare.findings.map((f: { rule: string }) => f.rule)).toContain('unsampled-reembed')
    const sampled = JSON.parse((await cli(['lint', '--sample', '50', '--json'])).stdout)
    expect(sampled.findings.map((f: { rule: string }) => f.rule)).not.toContain('unsampled-reembed')
    expect(sampled.samples.collections[0].sampled).toBe(50)
  }, TEST_TIMEOUT_MS)
})

describe('status --attest and drift', () => {
  it('attests a clean live generation, then finds foreign and stale vectors and exits 3', async () => {
    useProfile('starter')
    const clean = await cli(['status', '--attest', '--sample', String(ROWS), '--detailed-exitcode', '--json'])
    expect(clean.code, clean.stderr).toBe(0)
    expect(JSON.parse(clean.stdout).attestations[0]).toMatchObject({ generation: 1, profile: 'starter', sampled: ROWS, fresh: ROWS, stale: 0, foreign: 0, missing: 0, drift: false })
    expect((await cli(['plan', '--detailed-exitcode', '--no-measure'])).code).toBe(0)

    // A writer that passes as embedform (the trigger trusts it, so the text-hash record still says
    // fresh) stores vectors another model made: five rows get vectors that do not fit their text.
    // And the application edits one row's text.
    await sql(`BEGIN; SET LOCAL embedform.writer = 'on';
      UPDATE docs SET embedding = (SELECT embedding FROM docs WHERE id = (SELECT min(id) FROM docs)) WHERE id IN (SELECT id FROM docs ORDER BY id DESC LIMIT 5);
      COMMIT;`)
    await sql(`UPDATE docs SET body = body || ' edited' WHERE id = (SELECT id FROM docs ORDER BY id LIMIT 1 OFFSET 10)`)
    const drift = await cli(['status', '--attest', '--sample', String(ROWS), '--detailed-exitcode', '--json'])
    expect(drift.code, drift.stderr).toBe(3)
    expect(JSON.parse(drift.stdout).attestations[0]).toMatchObject({ fresh: ROWS - 6, foreign: 5, stale: 1, missing: 0, drift: true })
    const human = await cli(['status', '--attest', '--sample', String(ROWS)])
    expect(human.code).toBe(0)
    expect(human.stdout).toContain('DRIFT: 5 vectors do not match what starter makes from their text')

    const plan = await cli(['plan', '--detailed-exitcode', '--no-measure'])
    expect(plan.code).toBe(3)
    expect(plan.stdout).toContain('drift in collection docs: live g1 has 1 stale and 0 missing vectors')
  }, TEST_TIMEOUT_MS)
})

describe('held cutover with shadow traffic', () => {
  it('holds before the cutover, replays queries against both generations, then cuts over', async () => {
    useProfile('passage')
    const held = await cli(['apply', '--auto-approve', '--hold'])
    expect(held.code, held.stderr).toBe(0)
    expect(held.stdout).toContain('docs: HELD before the cutover, g1 still live')
    const status = JSON.parse((await cli(['status', '--json'])).stdout).collections[0]
    expect(status.live.generation).toBe(1)
    expect(status.journal).toMatchObject({ generation: 2, held: { step: 'docs/g2/cutover' } })

    // A write while held: the change queue keeps it for the cutover.
    await sql(`UPDATE docs SET body = 'mortgage rates written while held' WHERE id = (SELECT min(id) FROM docs)`)

    const shadow = await cli(['shadow', '--queries', 'eval/queries.jsonl', '--qrels', 'eval/qrels.tsv', '--metric', 'ndcg@10', '--json'])
    expect(shadow.code, shadow.stderr).toBe(0)
    const s = JSON.parse(shadow.stdout)
    expect(s).toMatchObject({ collection: 'docs', queries: 200, k: 10, metric: 'ndcg@10', live: { generation: 1, profile: 'starter' }, candidate: { generation: 2, profile: 'passage' } })
    expect(s.overlap).toBeGreaterThan(0.5)
    // Same model with a document prefix: judged quality barely moves (the gate test shows random weights score far lower).
    expect(s.live.metric).toBeGreaterThan(0.1)
    expect(Math.abs(s.live.metric - s.candidate.metric)).toBeLessThan(0.05)
    expect(s.live.latency.p50Ms).toBeGreaterThan(0)
    expect(s.candidate.latency.p95Ms).toBeGreaterThanOrEqual(s.candidate.latency.p50Ms)
    const human = await cli(['shadow', '--queries', 'eval/queries.jsonl'])
    expect(human.stdout).toMatch(/candidate\s+g2 \(passage\): latency p50 [\d.]+ ms, p95 [\d.]+ ms/)

    const cut = await cli(['cutover', '--json'])
    expect(cut.code, cut.stderr + cut.stdout).toBe(0)
    expect((jsonLines(cut.stdout).find((l) => l.type === 'result') as any).collections[0]).toMatchObject({ collection: 'docs', generation: 2, ran: ['docs/g2/cutover', 'docs/g2/retain-previous'] })
    const after = JSON.parse((await cli(['status', '--json'])).stdout).collections[0]
    expect(after).toMatchObject({ live: { generation: 2, profile: 'passage' }, journal: null })
    const attested = await cli(['status', '--attest', '--sample', String(ROWS), '--detailed-exitcode', '--json'])
    expect(attested.code, attested.stdout).toBe(0)
    expect(JSON.parse(attested.stdout).attestations[0]).toMatchObject({ generation: 2, fresh: ROWS })
    expect((await cli(['cutover'])).code).toBe(2)
  }, TEST_TIMEOUT_MS)
})
