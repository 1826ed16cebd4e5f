/**
 * Terraform/Atlas-like human output for a Plan. Pure: the same plan always renders the same
 * text, so saved plans can be reviewed before `apply plan.json`.
 */
import { formatBytes, formatCount, formatDuration } from './estimate.js'
import type { CollectionPlan, Plan, PlanStep, StepKind } from './types.js'

const SYMBOL: Record<StepKind, string> = {
  'create-generation': '+',
  backfill: '~',
  'catch-up': '~',
  'build-index': '~',
  'drop-index': '-',
  verify: '=',
  'quality-gate': '=',
  cutover: '~',
  'retain-previous': '=',
  adopt: '~',
}

const CHANGE_TITLE: Record<CollectionPlan['change'], string> = {
  none: 'no changes',
  'runtime-only': 'runtime settings only (no store change)',
  'index-rebuild': 'rebuild index (no re-embedding)',
  'cutover-retained': 'cut over to a retained generation (no full re-embedding)',
  'new-generation': 'new generation',
}

interface Paint {
  green(s: string): string
  yellow(s: string): string
  red(s: string): string
  bold(s: string): string
  dim(s: string): string
}

function painter(color: boolean): Paint {
  const wrap = (open: number, close: number) => (s: string) => (color ? `\u001B[${open}m${s}\u001B[${close}m` : s)
  return { green: wrap(32, 39), yellow: wrap(33, 39), red: wrap(31, 39), bold: wrap(1, 22), dim: wrap(2, 22) }
}

/** `~4h10m`, but `<1s` alone: "about less than a second" reads badly. */
function approx(seconds: number): string {
  return seconds < 1 ? '<1s' : `~${formatDuration(seconds)}`
}

function stepNotes(s: PlanStep): string[] {
  const notes = [s.reversible ? (s.kind === 'cutover' ? 'reversible: `embedform rollback`' : 'reversible') : 'irreversible']
  if (s.estimate.rows !== undefined && (s.kind === 'backfill' || s.kind === 'catch-up' || s.kind === 'build-index')) {
    notes.push(`${formatCount(s.estimate.rows)} rows`)
  }
  if (s.estimate.seconds !== undefined) notes.push(approx(s.estimate.seconds))
  else if (s.estimate.rows) notes.push('time unknown')
  if (s.estimate.bytes !== undefined) notes.push(`${s.estimate.bytes >= 0 ? '+' : ''}${formatBytes(s.estimate.bytes)}`)
  return notes
}

function renderStep(s: PlanStep, paint: Paint): string[] {
  const sym = SYMBOL[s.kind]
  const colored = sym === '+' ? paint.green(sym) : sym === '-' ? paint.red(sym) : sym === '~' ? paint.yellow(sym) : paint.dim(sym)
  const readers = s.affectsReaders ? paint.bold('  ← readers switch here') : ''
  const lines = [`  ${colored} ${s.title}${readers}`, `      ${paint.dim(stepNotes(s).join(', '))}`]
  if (s.estimate.basis) lines.push(`      ${paint.dim(`basis: ${s.estimate.basis}`)}`)
  return lines
}

function renderGeneration(p: CollectionPlan): string {
  const from = p.from ? `g${p.from.generation} (${p.from.profile ?? 'unknown profile'}, ${p.from.dimensions}-d)` : 'no vectors'
  return `${from} → g${p.to.generation} (${p.to.profile}, ${p.to.dimensions}-d)`
}

function renderCollection(p: CollectionPlan, paint: Paint): string[] {
  const lines = [paint.bold(`collection ${p.collection} (store ${p.store}): ${CHANGE_TITLE[p.change]}`)]
  if (p.change !== 'none' && p.change !== 'runtime-only') lines.push(`  ${paint.dim(renderGeneration(p))}`)
  for (const s of p.steps) lines.push(...renderStep(s, paint))
  if (p.runtime.length > 0) {
    lines.push('  runtime settings (no store change):')
    for (const r of p.runtime) lines.push(`    ${r.key}: ${String(r.from)} → ${String(r.to)}`)
  }
  for (const w of p.warnings) lines.push(`  ${paint.yellow('warning:')} ${w}`)
  return lines
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`
}

export function summaryLine(plan: Plan): string {
  if (plan.summary.changes === 0) return 'No changes. Live state matches the configuration.'
  const count = (k: CollectionPlan['change']) => plan.collections.filter((c) => c.change === k).length
  const encodeSteps = plan.collections.flatMap((c) => c.steps).filter((s) => s.kind === 'backfill' || s.kind === 'catch-up')
  const encodeSeconds = encodeSteps.reduce((t, s) => t + (s.estimate.seconds ?? 0), 0)
  const time = plan.summary.timeKnown === false ? 'time unknown' : approx(encodeSeconds)
  const bytes = plan.summary.bytes
  return (
    `Plan: ${plural(count('new-generation'), 'new generation', 'new generations')}, ` +
    `${plural(count('index-rebuild'), 'index rebuild', 'index rebuilds')}, ` +
    `${plural(count('cutover-retained'), 'cutover to retained', 'cutovers to retained')}; ` +
    `${formatCount(plan.summary.rowsToEncode)} rows to encode (${time}), ` +
    `${bytes >= 0 ? '+' : ''}${formatBytes(bytes)} storage.`
  )
}

export function renderPlan(plan: Plan, opts: { color?: boolean } = {}): string {
  const paint = painter(opts.color ?? false)
  const blocks = plan.collections.map((c) => renderCollection(c, paint).join('\n'))
  return [...blocks, '', paint.bold(summaryLine(plan))].join('\n') + '\n'
}
