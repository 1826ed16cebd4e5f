import { existsSync } from 'node:fs'
import { Flags } from '@oclif/core'
import type { CollectionStatus, StatusReport } from '../apply/types.js'
import { status } from '../apply/index.js'
import { attestLive, DEFAULT_ATTEST_SAMPLE, renderAttest, type AttestReport } from '../attest/attest.js'
import { BaseCommand } from '../cli/base-command.js'
import { createEngineContext, stashedPlanPath } from '../cli/engine-context.js'
import { describeInFlight, type InFlightView } from '../cli/views/in-flight.js'
import { ExitCode } from '../core/errors.js'
import { selectCollections } from '../plan/make.js'

export default class Status extends BaseCommand {
  static override description = `Show what each collection holds right now, read from the store: the live generation with its profile and fingerprint (and whether that matches the configuration), every generation with its per-row freshness (fresh: vector made from the row's current text; stale: text changed since; missing: no vector; unverified: a vector embedform did not make, e.g. adopted; queued: changes waiting for catch-up or sync) and index validity, who holds the migration lock, and an apply in flight.`

  static override examples = [
    '<%= config.bin %> status',
    '<%= config.bin %> status --collection docs',
    '<%= config.bin %> status --json',
    '<%= config.bin %> status --attest --sample 500 --detailed-exitcode   # exit 3 on drift, for a scheduled job',
  ]

  static override flags = {
    collection: Flags.string({ description: 'Show only this collection (repeatable).', multiple: true }),
    attest: Flags.boolean({
      description: 'Re-encode a random sample of each live generation with its own profile and compare with the stored vectors: fresh (cosine ≥ 0.999), stale (text changed since), foreign (text matches, vector does not: another model), missing.',
      default: false,
    }),
    sample: Flags.integer({ description: 'Rows to attest per collection (with --attest).', default: DEFAULT_ATTEST_SAMPLE, min: 1, dependsOn: ['attest'] }),
    'detailed-exitcode': Flags.boolean({ description: 'With --attest: exit 3 when any sampled vector is not fresh.', default: false, dependsOn: ['attest'] }),
  }

  async run(): Promise<void> {
    const { flags } = await this.parse(Status)
    const ctx = await createEngineContext(flags.config, { log: (m) => this.note(m) })
    let report: StatusReport
    const attestations: AttestReport[] = []
    const interrupt = flags.attest ? this.interruptible('abandoning the sample being attested (attest only reads)') : undefined
    try {
      report = await status(ctx, flags.collection)
      if (flags.attest) {
        const collections = selectCollections(ctx, flags.collection)
        for (const c of collections) {
          const done = attestations.map((a) => a.collection).join(', ') || 'none'
          const a = await this.untilInterrupted(
            attestLive(ctx, c, flags.sample),
            interrupt!.signal,
            `status --attest was interrupted while attesting ${c.name}: attested ${attestations.length} of ${collections.length} collection(s) (${done}); nothing was changed`,
            `run \`embedform status --attest${flags.collection ? '' : ` --collection ${c.name}`} --sample ${flags.sample}\` again, with a smaller --sample to finish sooner`,
          )
          if (a) attestations.push(a)
        }
      }
    } finally {
      interrupt?.release()
      await ctx.close()
    }
    const stashedHere = (planId: string) => existsSync(stashedPlanPath(ctx.config, planId))
    const collections = report.collections.map((c) => (c.journal ? { ...c, inFlight: describeInFlight(c.journal, c.collection, { stashedHere: stashedHere(c.journal.planId) }) } : c))
    this.emit(flags.attest ? { ...report, collections, attestations } : { ...report, collections }, () =>
      [...collections.map(renderCollection), ...attestations.map((a) => `${renderAttest(a)}\n`)].join('\n'),
    )
    if (flags['detailed-exitcode'] && attestations.some((a) => a.drift)) this.exitWith(ExitCode.planHasChanges)
  }
}

function table(rows: string[][]): string[] {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? []
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ').trimEnd())
}

function formatLag(ms: number): string {
  return ms < 1000 ? `${Math.max(0, Math.round(ms))} ms` : `${(ms / 1000).toFixed(1)} s`
}

function renderCollection(c: CollectionStatus & { inFlight?: InFlightView }): string {
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
    const rows = [['GEN', 'STATUS', 'STORED AS', 'PROFILE', 'DIMS', 'ROWS', 'FRESH', 'STALE', 'MISSING', 'UNVERIFIED', 'QUEUED', 'INDEX']]
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
        String(g.freshness.unverified),
        String(g.freshness.queued),
        g.index ? `${g.index.method} ${g.index.valid ? 'valid' : 'INVALID'}` : 'none',
      ])
    }
    out.push('  generations:', ...table(rows).map((l) => `    ${l}`))
    if (c.generations.some((g) => !g.freshness.exact)) out.push('                  (freshness estimated from statistics and the change queue on this large table)')
    const live = c.generations.find((g) => g.status === 'live')
    const oldest = live?.freshness.oldestQueuedAt
    if (oldest) out.push(`  sync lag:       ${formatLag(Date.now() - Date.parse(oldest))} (oldest change not yet embedded in g${live.id}, queued ${oldest})`)
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
