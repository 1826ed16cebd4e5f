/** `embedform status` for people: one block per collection, generations as a table. */
import type { CollectionStatus } from '../../apply/types.js'
import type { InFlightView } from './in-flight.js'

function table(rows: string[][]): string[] {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? []
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ').trimEnd())
}

function formatLag(ms: number): string {
  return ms < 1000 ? `${Math.max(0, Math.round(ms))} ms` : `${(ms / 1000).toFixed(1)} s`
}

export function renderCollection(c: CollectionStatus & { inFlight?: InFlightView }): string {
  const out: string[] = [`${c.collection} (store ${c.store})`]
  if (!c.exists) {
    out.push('  target does not exist in the store')
    return `${out.join('\n')}\n`
  }
  const live = c.live
    ? `g${c.live.generation}, profile ${c.live.profile ?? '(adopted, unknown)'}, fingerprint ${c.live.fingerprint ?? '-'}`
    : 'none (no vectors yet)'
  out.push(`  live:           ${live}`)
  out.push(`  desired:        profile ${c.desired.profile}, fingerprint ${c.desired.fingerprint}`)
  out.push(`  matches config: ${c.matchesConfig ? 'yes' : `no (${c.change})`}`)
  out.push(`  rows:           ${c.rows}${c.rowsExact ? '' : ' (estimate)'}`)
  if (c.generations.length > 0) {
    const rows = [['GEN', 'STATUS', 'STORED AS', 'PROFILE', 'DIMS', 'ROWS', 'FRESH', 'STALE', 'MISSING', 'SKIPPED', 'UNVERIFIED', 'QUEUED', 'ZERO', 'INDEX']]
    for (const g of c.generations) {
      rows.push([
        `g${g.id}`,
        g.status,
        g.physical,
        g.profile ?? '-',
        String(g.dimensions),
        String(g.freshness.rows),
        String(g.freshness.fresh),
        String(g.freshness.stale),
        String(g.freshness.missing),
        g.freshness.skipped === undefined ? '-' : String(g.freshness.skipped),
        String(g.freshness.unverified),
        String(g.freshness.queued),
        g.freshness.zeroVectors === undefined ? '-' : String(g.freshness.zeroVectors),
        g.index ? `${g.index.method} ${g.index.valid ? 'valid' : 'INVALID'}` : 'none',
      ])
    }
    out.push('  generations:', ...table(rows).map((l) => `    ${l}`))
    if (c.generations.some((g) => !g.freshness.exact)) out.push('                  (freshness estimated from statistics and the change queue on this large table)')
    const live = c.generations.find((g) => g.status === 'live')
    const oldest = live?.freshness.oldestQueuedAt
    if (oldest) out.push(`  sync lag:       ${formatLag(Date.now() - Date.parse(oldest))} (oldest change not yet embedded in g${live.id}, queued ${oldest})`)
    const zero = c.generations.filter((g) => (g.freshness.zeroVectors ?? 0) > 0)
    if (zero.length > 0) {
      out.push(`  zero vectors:   ${zero.map((g) => `g${g.id} ${g.freshness.zeroVectors}`).join(', ')} (empty or out-of-vocabulary text: no query finds them under cosine)`)
      out.push('                  `zero_vectors: skip` in the profile stores no vector for them instead (a new generation)')
    }
    const skipped = c.generations.filter((g) => (g.freshness.skipped ?? 0) > 0)
    if (skipped.length > 0) out.push(`  skipped:        ${skipped.map((g) => `g${g.id} ${g.freshness.skipped}`).join(', ')} (zero_vectors: skip: empty or out-of-vocabulary text, no vector stored; embedded again when the text changes)`)
    if (live && live.freshness.stale + live.freshness.missing > 0) {
      out.push(`                  ${live.freshness.stale + live.freshness.missing} live rows have no current vector: \`embedform sync ${c.collection}\` embeds them`)
    }
  }
  if (c.failedItems.length > 0) {
    out.push(`  failed rows:    ${c.failedItems.length} the encoder rejected; sync retries them with backoff (--json lists all)`)
    for (const f of c.failedItems.slice(0, 5)) out.push(`                  g${f.generation} key ${String(f.key)}: ${f.error} (${f.attempts} attempt(s), next ${f.retryAt})`)
  }
  out.push(`  lock:           ${c.lock ? `held by ${c.lock.holder} since ${c.lock.since}` : 'free'}`)
  if (c.inFlight) {
    out.push(`  in flight:      ${c.inFlight.state}`)
    out.push(`  next:           ${c.inFlight.next}`)
  } else {
    out.push('  in flight:      nothing')
  }
  return `${out.join('\n')}\n`
}
