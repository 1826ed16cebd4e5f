import { existsSync } from 'node:fs'
import { Flags } from '@oclif/core'
import type { StatusReport } from '../apply/types.js'
import { status } from '../apply/index.js'
import { attestLive, DEFAULT_ATTEST_SAMPLE, renderAttest, type AttestReport } from '../attest/attest.js'
import { BaseCommand } from '../cli/base-command.js'
import { createEngineContext, stashedPlanPath } from '../cli/engine-context.js'
import { describeInFlight } from '../cli/views/in-flight.js'
import { renderCollection } from '../cli/views/status.js'
import { ExitCode } from '../core/errors.js'
import { selectCollections } from '../plan/make.js'

export default class Status extends BaseCommand {
  static override description = `Show what each collection holds right now, read from the store: the live generation with its profile and fingerprint (and whether that matches the configuration), every generation with its per-row freshness (fresh: vector made from the row's current text; stale: text changed since; missing: no vector; unverified: a vector embedform did not make, e.g. adopted; queued: changes waiting for catch-up or sync; zero: all-zero vectors of empty or out-of-vocabulary text, which no query finds under cosine, '-' where the store does not count them) and index validity, who holds the migration lock, and an apply in flight.`

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
