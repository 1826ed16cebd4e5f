/**
 * Lint rules: named, each with a default severity, each a pure function of what was gathered
 * about one collection (profile, store limits, the plan, a token sample). Severities and
 * per-collection suppressions come from the `lint:` section of embedding.config.yaml.
 */
import type { Collection, Profile, VectorStorage } from '../core/types.js'
import type { TokenStats } from '../insight/tokens.js'
import type { CollectionPlan } from '../plan/types.js'

export type Severity = 'error' | 'warning' | 'notice'
export type SeveritySetting = Severity | 'off'

export const RULE_NAMES = ['max-tokens-truncates', 'missing-prefix', 'normalization-metric', 'unindexable-dimensions', 'no-quality-gate', 'unsampled-reembed'] as const
export type RuleName = (typeof RULE_NAMES)[number]

export const DEFAULT_SEVERITY: Record<RuleName, Severity> = {
  'max-tokens-truncates': 'warning',
  'missing-prefix': 'warning',
  'normalization-metric': 'warning',
  'unindexable-dimensions': 'error',
  'no-quality-gate': 'notice',
  'unsampled-reembed': 'warning',
}

export const DEFAULT_REEMBED_THRESHOLD = 100_000

export interface LintFinding {
  rule: RuleName
  severity: Severity
  collection?: string
  profile?: string
  message: string
  /** Where to fix it: the profile or config file, and the key. */
  file?: string
  line?: number
  path?: string
}

/** What the rules look at for one collection. */
export interface LintSubject {
  collection: Collection
  profile: Profile
  plan: CollectionPlan | undefined
  /** Largest indexable dimensions per storage in the collection's store; undefined when the store was not opened. */
  maxIndexDimensions: Record<VectorStorage, number> | undefined
  /** Token lengths of sampled rows with this profile; undefined when the store cannot sample. */
  tokens: TokenStats | undefined
  /** Whether a sampled plan (`--sample`) backs this run. */
  sampled: boolean
  reembedThreshold: number
}

type Draft = Omit<LintFinding, 'rule' | 'severity' | 'collection' | 'profile'>
type Rule = (s: LintSubject) => Draft[]

/**
 * Model families whose cards ask for instruction prefixes; embedding without them silently
 * costs retrieval quality. `query`/`document` say which side needs one.
 */
const PREFIXED_MODELS: { pattern: RegExp; query: boolean; document: boolean; example: string }[] = [
  { pattern: /(^|[/:_-])(multilingual-)?e5([-_]|$)/i, query: true, document: true, example: '"query: " / "passage: "' },
  { pattern: /nomic-embed/i, query: true, document: true, example: '"search_query: " / "search_document: "' },
  { pattern: /(^|[/:_-])bge-(small|base|large)-(en|zh)/i, query: true, document: false, example: '"Represent this sentence for searching relevant passages: "' },
  { pattern: /mxbai-embed/i, query: true, document: false, example: '"Represent this sentence for searching relevant passages: "' },
  { pattern: /arctic-embed/i, query: true, document: false, example: '"Represent this sentence for searching relevant passages: "' },
]

const where = (p: Profile, key: string): Pick<Draft, 'file' | 'path'> => ({ ...(p.file ? { file: p.file } : {}), path: key })

const RULES: Record<RuleName, Rule> = {
  'max-tokens-truncates': ({ profile, tokens }) =>
    tokens && tokens.p95 > profile.maxTokens
      ? [
          {
            message: `max_tokens ${profile.maxTokens} is below the collection's p95 token length ${tokens.p95}: ${(tokens.truncatedShare * 100).toFixed(1)}% of sampled texts (${tokens.truncated} of ${tokens.texts}) lose their tail`,
            ...where(profile, 'max_tokens'),
          },
        ]
      : [],
  'missing-prefix': ({ profile }) => {
    const known = PREFIXED_MODELS.find((m) => m.pattern.test(profile.model.source))
    if (!known) return []
    const missing = [...(known.query && !profile.prefixes.query ? ['query'] : []), ...(known.document && !profile.prefixes.document ? ['document'] : [])]
    return missing.length === 0
      ? []
      : [{ message: `model ${profile.model.source} expects instruction prefixes (${known.example}) but the profile has no ${missing.join(' or ')} prefix`, ...where(profile, 'prefixes') }]
  },
  'normalization-metric': ({ profile }) =>
    profile.index.metric === 'ip' && !profile.normalize
      ? [{ message: `metric ip on vectors that are not normalized ranks by vector length as much as by direction; set normalize: true or use metric cosine`, ...where(profile, 'normalize') }]
      : [],
  'unindexable-dimensions': ({ profile, maxIndexDimensions }) => {
    if (!maxIndexDimensions) return []
    const limit = maxIndexDimensions[profile.index.storage]
    if (profile.index.pgvector.type === 'none' || profile.dimensions <= limit) return []
    const better = (Object.entries(maxIndexDimensions) as [VectorStorage, number][]).find(([, max]) => profile.dimensions <= max)
    return [
      {
        message: `${profile.dimensions} dimensions cannot be indexed as ${profile.index.storage} in this store (at most ${limit})${better ? `; use storage: ${better[0]}` : '; reduce dimensions (Matryoshka truncation) or set index type none'}`,
        ...where(profile, 'index.storage'),
      },
    ]
  },
  'no-quality-gate': ({ profile }) =>
    profile.gate ? [] : [{ message: `profile ${profile.name} has no quality gate: a worse model would cut over unchecked; add gate: { metric, queries, qrels, max_drop }`, ...where(profile, 'gate') }],
  'unsampled-reembed': ({ plan, sampled, reembedThreshold }) => {
    if (!plan || sampled) return []
    const rows = plan.steps.filter((s) => s.kind === 'backfill').reduce((n, s) => n + (s.estimate.rows ?? 0), 0)
    return rows > reembedThreshold
      ? [{ message: `the plan re-embeds ${rows} rows (more than ${reembedThreshold}) without sampled evidence; run \`embedform lint --sample 500\` or \`embedform plan --sample 500\` first`, path: `collections.${plan.collection}` }]
      : []
  },
}

export interface LintSettings {
  severity: Partial<Record<RuleName, SeveritySetting>>
  reembedThreshold: number
  ignore: Record<string, string[]>
}

export function runRules(subject: LintSubject, settings: LintSettings): LintFinding[] {
  const ignored = new Set(settings.ignore[subject.collection.name] ?? [])
  const out: LintFinding[] = []
  for (const rule of RULE_NAMES) {
    const severity = settings.severity[rule] ?? DEFAULT_SEVERITY[rule]
    if (severity === 'off' || ignored.has(rule)) continue
    for (const d of RULES[rule](subject)) out.push({ rule, severity, collection: subject.collection.name, profile: subject.profile.name, ...d })
  }
  return out
}
