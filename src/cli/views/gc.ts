import type { GcOutcome } from '../../engine/gc.js'

/** What gc dropped (or would drop), what it kept, and what it refuses to drop and why. */
export function renderGc(r: GcOutcome, opts: { force: boolean }): string {
  const verb = r.dryRun ? 'Would drop' : 'Dropped'
  const lines: string[] = []
  if (r.dropped.some((d) => d.index !== undefined)) {
    lines.push(`${verb} the index of ${r.dropped.length} retained generation(s), keeping their vectors:`)
    for (const d of r.dropped) lines.push(`  ${d.collection} g${d.generation}: index ${d.index} on ${d.physical}`)
    lines.push(r.dryRun ? 'Run without --dry-run to drop them.' : 'Rolling back to one of them rebuilds its index first.')
    return lines.join('\n')
  }
  const irreplaceable = new Set(r.irreplaceable.map((g) => `${g.collection}/${g.generation}`))
  if (r.dropped.length === 0) lines.push(`Nothing to drop (keeping ${r.keep} retained generation(s) per collection).`)
  else {
    lines.push(`${verb} ${r.dropped.length} generation(s):`)
    for (const d of r.dropped) {
      const mark = irreplaceable.has(`${d.collection}/${d.generation}`) ? ' — cannot be re-created' : ''
      lines.push(`  ${d.collection} g${d.generation} (${d.physical}, ${d.populated} vectors)${mark}`)
    }
  }
  if (r.kept.length > 0) lines.push(`Kept: ${r.kept.map((k) => `${k.collection} g${k.generation}`).join(', ')}`)
  if (!opts.force && r.irreplaceable.length > 0) {
    lines.push(`Refused without --force (${r.irreplaceable.length}):`)
    for (const g of r.irreplaceable) lines.push(`  ${g.collection} g${g.generation} (${g.physical}): ${g.reason}`)
  }
  if (r.dryRun && r.dropped.length > 0) lines.push('Run without --dry-run to drop them.')
  return lines.join('\n')
}
