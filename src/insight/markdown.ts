/**
 * `plan --format markdown`: the plan as a pull-request comment. Steps, rows, time, storage, the
 * sampled quality preview and lint findings when they were gathered, drift, and the rollback
 * command for each collection that cuts over. Pure, like the text rendering.
 */
import type { Drift } from '../attest/drift.js'
import { renderDrift } from '../attest/drift.js'
import type { LintFinding } from '../lint/rules.js'
import { formatBytes, formatCount, formatDuration } from '../plan/estimate.js'
import { summaryLine } from '../plan/render.js'
import type { CollectionPlan, Plan, PlanStep } from '../plan/types.js'
import { sampleFacts } from './render.js'
import type { SampleReport } from './sample-plan.js'

export interface MarkdownExtras {
  samples?: SampleReport
  lint?: LintFinding[]
  drift?: Drift[]
}

const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ')

function stepRow(s: PlanStep): string {
  const rows = s.estimate.rows !== undefined && (s.kind === 'backfill' || s.kind === 'catch-up' || s.kind === 'build-index') ? formatCount(s.estimate.rows) : ''
  const time = s.estimate.seconds !== undefined ? (s.estimate.seconds < 1 ? '<1s' : `~${formatDuration(s.estimate.seconds)}`) : ''
  const bytes = s.estimate.bytes !== undefined ? `${s.estimate.bytes >= 0 ? '+' : ''}${formatBytes(s.estimate.bytes)}` : ''
  const flags = [s.reversible ? 'reversible' : 'irreversible', ...(s.affectsReaders ? ['**readers switch here**'] : [])].join(', ')
  return `| ${cell(s.title)} | ${rows} | ${time} | ${bytes} | ${flags} |`
}

function collectionSection(p: CollectionPlan, extras: MarkdownExtras): string[] {
  const from = p.from ? `g${p.from.generation} (${p.from.profile ?? 'unknown profile'}, ${p.from.dimensions}-d)` : 'no vectors'
  const out = [`### \`${p.collection}\` (store \`${p.store}\`): ${p.change}`, '', `${from} → g${p.to.generation} (\`${p.to.profile}\`, ${p.to.dimensions}-d)`, '']
  if (p.steps.length > 0) {
    out.push('| step | rows | time | storage | |', '|---|---:|---:|---:|---|', ...p.steps.map(stepRow), '')
  }
  const sample = extras.samples?.collections.find((s) => s.collection === p.collection)
  if (sample) out.push(`**Sampled (${sample.sampled} rows, nothing written):**`, '', ...sampleFacts(sample).map((l) => `- ${l}`), '')
  const findings = extras.lint?.filter((f) => f.collection === p.collection || f.collection === undefined) ?? []
  if (findings.length > 0) out.push('**Lint:**', '', ...findings.map((f) => `- **${f.severity}** \`${f.rule}\`: ${f.message}`), '')
  for (const d of extras.drift?.filter((x) => x.collection === p.collection) ?? []) out.push(`- ${renderDrift(d)}`, '')
  for (const w of p.warnings) out.push(`> warning: ${w}`, '')
  if (p.steps.some((s) => s.kind === 'cutover') && p.from) {
    out.push(`Rollback after apply: \`embedform rollback --collection ${p.collection} --to g${p.from.generation}\` (a metadata switch, no re-embedding, until \`embedform gc\`).`, '')
  }
  return out
}

export function renderPlanMarkdown(plan: Plan, extras: MarkdownExtras = {}): string {
  const lines = [`## embedform plan`, '', `**${summaryLine(plan)}**`, '']
  for (const p of plan.collections) lines.push(...collectionSection(p, extras))
  lines.push(`<sub>plan ${plan.id}, made ${plan.createdAt} from \`${plan.configFile.split('/').pop() ?? plan.configFile}\`</sub>`)
  return `${lines.join('\n')}\n`
}
