import { Flags } from '@oclif/core'
import { gc } from '../apply/index.js'
import { BaseCommand } from '../cli/base-command.js'
import { canPrompt, confirm, needsAutoApprove } from '../cli/confirm.js'
import { createEngineContext, pickCollection } from '../cli/engine-context.js'
import { renderGc } from '../cli/views/gc.js'
import { failure } from '../core/errors.js'
import { type GcOutcome, refuseIrreplaceable } from '../engine/gc.js'

export default class Gc extends BaseCommand {
  static override description = `Drop retained generations beyond the newest --keep ones, freeing their storage. The live generation is never dropped. After gc, rolling back to a dropped generation means re-embedding it.

Asks for confirmation like apply (--auto-approve without a terminal). A generation whose vectors embedform cannot re-create (adopted from a model it does not know, with no profile) is refused unless --force.

SIGTERM or Ctrl-C stops it after the drop in flight, says what was dropped and what is still retained, and exits 143 / 130.`

  static override examples = [
    '<%= config.bin %> gc --dry-run',
    '<%= config.bin %> gc --keep 0',
    '<%= config.bin %> gc --collection docs --keep 2 --auto-approve --json',
    '<%= config.bin %> gc --keep 0 --force   # also drop vectors of an unknown model',
  ]

  static override flags = {
    keep: Flags.integer({ description: 'Retained generations to keep per collection, newest first.', default: 1, min: 0 }),
    'dry-run': Flags.boolean({ description: 'Show what would be dropped without dropping it.', default: false }),
    collection: Flags.string({ description: 'Only this collection (default: all).' }),
    'auto-approve': Flags.boolean({ description: 'Drop without asking for confirmation (required without a terminal).', default: false }),
    force: Flags.boolean({ description: 'Also drop generations that cannot be re-created (vectors of an unknown model).', default: false }),
    indexes: Flags.boolean({
      description: "Drop only the vector indexes of retained generations, keeping their vectors (a backfill that cannot write heap-only re-enters every index; `plan` says when). Rollback rebuilds the index first.",
      default: false,
    }),
  }

  async run(): Promise<void> {
    const { flags } = await this.parse(Gc)
    const dryRun = flags['dry-run']
    if (!dryRun && !flags['auto-approve'] && !canPrompt(this.wantsJson)) needsAutoApprove('gc')
    const ctx = await createEngineContext(flags.config, { log: (m) => this.note(m) })
    let result: GcOutcome
    try {
      const collection = flags.collection === undefined ? undefined : pickCollection(ctx.config, flags.collection)
      const opts = { keep: flags.keep, force: flags.force, indexesOnly: flags.indexes }
      result = await gc(ctx, collection, { ...opts, dryRun: true })
      if (!dryRun && !flags.force) refuseIrreplaceable(result)
      if (!dryRun && result.dropped.length > 0) {
        if (!flags['auto-approve']) {
          process.stderr.write(`${renderGc(result, { force: flags.force })}\n`)
          const question = flags.indexes ? 'Drop these indexes? Rolling back rebuilds them first.' : 'Drop these generations? Rolling back to them afterwards means re-embedding.'
          if (!(await confirm(question))) {
            throw failure('E_CANCELLED', 'gc cancelled; nothing was dropped', { hint: 'answer `yes` to drop them, or pass --auto-approve' })
          }
        }
        const planned = result.dropped
        const interrupt = this.interruptible('stopping after the drop in flight')
        try {
          result = await gc(ctx, collection, { ...opts, only: planned.map(({ collection: c, generation }) => ({ collection: c, generation })), signal: interrupt.signal })
        } finally {
          interrupt.release()
        }
        if (interrupt.signal.aborted) {
          const done = new Set(result.dropped.map((d) => `${d.collection}/${d.generation}`))
          const left = planned.filter((d) => !done.has(`${d.collection}/${d.generation}`))
          const list = (ds: typeof planned) => ds.map((d) => `${d.collection} g${d.generation}`).join(', ') || 'none'
          throw this.interrupted(
            `gc was interrupted: dropped ${list(result.dropped)}; still retained: ${list(left)}`,
            `run \`embedform gc${flags.collection ? ` --collection ${flags.collection}` : ''} --keep ${flags.keep}${flags.indexes ? ' --indexes' : ''}${flags.force ? ' --force' : ''}\` again to drop the rest`,
          )
        }
      }
    } finally {
      await ctx.close()
    }
    this.emit(result, () => renderGc(result, { force: flags.force }))
  }
}
