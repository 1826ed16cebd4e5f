/**
 * `embedform lint`: gathers what the rules need per collection (the plan without measuring, the
 * store's index limits, token lengths of a sample of rows) and runs them. Reads only.
 */
import { isEmbedformError } from '../core/errors.js'
import { unresolvedStoreErrors } from '../config/unresolved-store.js'
import { locate, readYamlFile, type YamlFile } from '../config/yaml-file.js'
import { samplePlan, type SampleReport } from '../insight/sample-plan.js'
import { openTokenCounter, tokenStats, type OpenTokenCounter, type TokenStats } from '../insight/tokens.js'
import { desiredProfile, makePlan, selectCollections } from '../plan/make.js'
import type { EngineContext, Plan } from '../plan/types.js'
import { runRules, type LintFinding, type Severity } from './rules.js'
import { readLintSettings } from './settings.js'

export const DEFAULT_TOKEN_SAMPLE = 200

export interface LintOptions {
  collections?: string[]
  /** Rows to sample for a full sampled plan (throughput, quality preview): evidence for unsampled-reembed. */
  sample?: number
  /** Rows whose tokens are counted for max-tokens-truncates. */
  tokenSample?: number
  openTokenCounter?: OpenTokenCounter
  /** A plan (and its samples) already made by the caller, e.g. `plan --format markdown`. */
  plan?: Plan
  samples?: SampleReport
}

export interface LintReport {
  findings: LintFinding[]
  counts: Record<Severity, number>
  /** Collections the rules could not fully check, and why. */
  notes: string[]
  samples?: SampleReport
}

/** `max_tokens` → `['max_tokens']`; profile keys are snake_case in YAML. */
function keyPath(path: string): string[] {
  return path.split('.')
}

async function withLines(findings: LintFinding[], configFile: YamlFile): Promise<LintFinding[]> {
  const files = new Map<string, YamlFile | null>([[configFile.file, configFile]])
  const out: LintFinding[] = []
  for (const f of findings) {
    const file = f.file ?? configFile.file
    if (!files.has(file)) files.set(file, await readYamlFile(file).catch(() => null))
    const yf = files.get(file)
    out.push(yf && f.path ? { ...f, file, line: locate(yf, keyPath(f.path)).line ?? 1 } : { ...f, file })
  }
  return out
}

export async function lintProject(ctx: EngineContext, opts: LintOptions = {}): Promise<LintReport> {
  const { settings, file } = await readLintSettings(ctx.config)
  const notes: string[] = []
  let plan: Plan | undefined = opts.plan
  if (!plan) {
    try {
      plan = await makePlan(ctx, { ...(opts.collections ? { collections: opts.collections } : {}), measure: false })
    } catch (e) {
      if (!isEmbedformError(e)) throw e
      notes.push(`no plan (${e.code}: ${e.message}); unsampled-reembed not checked`)
    }
  }
  const samples = opts.samples ?? (opts.sample !== undefined && plan ? await samplePlan(ctx, plan, { rows: opts.sample, ...(opts.openTokenCounter ? { openTokenCounter: opts.openTokenCounter } : {}) }) : undefined)
  const findings: LintFinding[] = []
  const names = opts.collections ?? opts.plan?.collections.map((p) => p.collection)
  for (const c of selectCollections(ctx, names)) {
    const profile = desiredProfile(ctx, c)
    const base = { collection: c, profile, plan: plan?.collections.find((p) => p.collection === c.name), sampled: samples !== undefined, reembedThreshold: settings.reembedThreshold }
    // The config rules need no connection: a store whose URL is not in this environment (CI) skips only the store rules.
    const unset = unresolvedStoreErrors(ctx.config.stores[c.store]!)
    if (unset.length > 0) {
      notes.push(`collection ${c.name}: store ${c.store} not opened (${unset.map((e) => e.message).join('; ')}); unindexable-dimensions and max-tokens-truncates not checked`)
      findings.push(...runRules({ ...base, maxIndexDimensions: undefined, tokens: undefined }, settings))
      continue
    }
    const adapter = await ctx.adapterFor(c.store)
    let tokens: TokenStats | undefined = samples?.collections.find((s) => s.collection === c.name)?.tokens
    if (!tokens && adapter.sample) {
      const rows = await adapter.sample(c, opts.tokenSample ?? DEFAULT_TOKEN_SAMPLE).catch((e: unknown) => {
        if (!isEmbedformError(e)) throw e
        notes.push(`collection ${c.name}: no token sample (${e.message}); max-tokens-truncates not checked`)
        return []
      })
      if (rows.length > 0) {
        const count = await (opts.openTokenCounter ?? openTokenCounter)(profile, ctx.encoderOptions)
        tokens = tokenStats(
          rows.map((r) => count(r.text)),
          profile.maxTokens,
        )
      }
    } else if (!tokens) {
      notes.push(`collection ${c.name}: store ${c.store} cannot sample rows; max-tokens-truncates not checked`)
    }
    findings.push(
      ...runRules({ ...base, maxIndexDimensions: adapter.capabilities.maxIndexDimensions, tokens }, settings),
    )
  }
  const located = await withLines(findings, file)
  const counts: Record<Severity, number> = { error: 0, warning: 0, notice: 0 }
  for (const f of located) counts[f.severity]++
  return { findings: located, counts, notes, ...(samples ? { samples } : {}) }
}
