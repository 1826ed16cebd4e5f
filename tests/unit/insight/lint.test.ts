import { describe, expect, it } from 'vitest'
import { renderLintGithub } from '../../../src/lint/render.js'
import { DEFAULT_REEMBED_THRESHOLD, runRules, type LintSettings, type LintSubject } from '../../../src/lint/rules.js'
import type { CollectionPlan } from '../../../src/plan/types.js'
import { testCollection, testProfile } from '../../helpers/memory-adapter.js'

const settings: LintSettings = { severity: {}, reembedThreshold: DEFAULT_REEMBED_THRESHOLD, ignore: {} }
const gate = { metric: 'ndcg@10', queries: 'q.jsonl', qrels: 'r.tsv', maxDrop: 0.02 }

function subject(over: Partial<LintSubject> = {}): LintSubject {
  return {
    collection: testCollection('docs', 'p'),
    profile: testProfile('p', { gate }),
    plan: undefined,
    maxIndexDimensions: { vector: 2000, halfvec: 4000 },
    tokens: undefined,
    sampled: false,
    reembedThreshold: DEFAULT_REEMBED_THRESHOLD,
    ...over,
  }
}

const rules = (s: LintSubject, cfg = settings) => runRules(s, cfg).map((f) => `${f.severity} ${f.rule}`)

describe('lint rules', () => {
  it('is quiet for a sound profile', () => {
    expect(rules(subject())).toEqual([])
  })

  it('flags truncation above p95 with the share, missing prefixes, ip without normalization, unindexable dimensions, no gate', () => {
    const tokens = { texts: 100, p50: 300, p95: 700, max: 900, maxTokens: 512, truncated: 12, truncatedShare: 0.12 }
    const f = runRules(subject({ tokens, profile: testProfile('p', { gate, maxTokens: 512 }) }), settings)
    expect(f).toEqual([expect.objectContaining({ rule: 'max-tokens-truncates', severity: 'warning', path: 'max_tokens', message: expect.stringContaining('12.0% of sampled texts (12 of 100)') })])
    expect(rules(subject({ profile: testProfile('p', { gate, model: { source: 'hf:intfloat/e5-small-v2' } }) }))).toEqual(['warning missing-prefix'])
    expect(rules(subject({ profile: testProfile('p', { gate, model: { source: 'hf:BAAI/bge-small-en-v1.5' }, prefixes: { query: 'Represent this sentence for searching relevant passages: ', document: '' } }) }))).toEqual([])
    const base = testProfile('p', { gate })
    expect(rules(subject({ profile: { ...base, normalize: false, index: { ...base.index, metric: 'ip' } } }))).toEqual(['warning normalization-metric'])
    const wide = runRules(subject({ profile: { ...base, dimensions: 3072 } }), settings)
    expect(wide).toEqual([expect.objectContaining({ rule: 'unindexable-dimensions', severity: 'error', message: expect.stringContaining('use storage: halfvec') })])
    expect(rules(subject({ profile: testProfile('p') }))).toEqual(['notice no-quality-gate'])
  })

  it('asks for sampled evidence above the re-embedding threshold', () => {
    const plan = { collection: 'docs', steps: [{ kind: 'backfill', estimate: { rows: 500 } }] } as unknown as CollectionPlan
    expect(rules(subject({ plan, reembedThreshold: 100 }))).toEqual(['warning unsampled-reembed'])
    expect(rules(subject({ plan, reembedThreshold: 100, sampled: true }))).toEqual([])
    expect(rules(subject({ plan, reembedThreshold: 1000 }))).toEqual([])
  })

  it('takes severities from the config and suppressions per collection', () => {
    const s = subject({ profile: testProfile('p') })
    expect(rules(s, { ...settings, severity: { 'no-quality-gate': 'error' } })).toEqual(['error no-quality-gate'])
    expect(rules(s, { ...settings, severity: { 'no-quality-gate': 'off' } })).toEqual([])
    expect(rules(s, { ...settings, ignore: { docs: ['no-quality-gate'] } })).toEqual([])
    expect(rules(s, { ...settings, ignore: { other: ['no-quality-gate'] } })).toEqual(['notice no-quality-gate'])
  })

  it('escapes GitHub workflow-command properties and data', () => {
    const out = renderLintGithub(
      {
        findings: [{ rule: 'no-quality-gate', severity: 'notice', collection: 'docs', message: '50% lost,\nreally', file: '/repo/profiles/a,b:c.yaml', line: 3 }],
        counts: { error: 0, warning: 0, notice: 1 },
        notes: [],
      },
      '/repo',
    )
    expect(out).toBe('::notice file=profiles/a%2Cb%3Ac.yaml,line=3,title=embedform lint no-quality-gate::docs: 50%25 lost,%0Areally\n')
  })
})
