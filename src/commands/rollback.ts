import { Args, Flags } from '@oclif/core'
import { rollback, status } from '../apply/index.js'
import { BaseCommand } from '../cli/base-command.js'
import { canPrompt, confirm, needsAutoApprove } from '../cli/confirm.js'
import { createEngineContext, pickCollection } from '../cli/engine-context.js'
import { renderRollback, stickAdvice, type RollbackView } from '../cli/views/rollback.js'
import { setProfile } from '../config/edit.js'
import { failure, inputError } from '../core/errors.js'

/** `g3` or `3` → 3. */
export function parseGeneration(value: string): number {
  const m = /^g?(\d+)$/i.exec(value.trim())
  const id = m ? Number(m[1]) : Number.NaN
  if (!Number.isSafeInteger(id) || id < 1) {
    throw inputError('E_BAD_GENERATION', `"${value}" is not a generation`, { location: { path: '--to' }, hint: 'write it as g2 (or 2); `embedform status` lists them' })
  }
  return id
}

export default class Rollback extends BaseCommand {
  static override description = `Make a retained generation live again: a column rename / alias swap, plus re-embedding exactly the rows that were inserted or edited while it was not live (with its own profile), so every row it serves is current. Without --to, goes back to the generation that was live before the current one. If an apply is in flight and has not cut over yet, rollback abandons it.

The last changed rows are embedded while the application's writes are held for at most --max-hold-ms (reads continue). A generation whose model embedform cannot load (adopted, unknown model) cannot be re-embedded: --accept-stale switches anyway and leaves those rows queued.

Afterwards the configuration still names the newer profile, so the next \`embedform apply\` would migrate forward again: rollback prints the \`embedform profile use\` command that makes it stick, and --update-config runs it for you.

Roll forward the same way: change the profile back in the configuration and \`embedform apply\` cuts over to the retained generation, re-embedding only the rows changed meanwhile.

SIGTERM or Ctrl-C stops the re-embedding after the batch in flight, before the switch (exit 143 / 130); what was re-embedded is kept and the same rollback continues from there. A switch already holding the application's writes finishes first.`

  static override examples = [
    '<%= config.bin %> rollback',
    '<%= config.bin %> rollback --collection docs --to g1',
    '<%= config.bin %> rollback docs',
    '<%= config.bin %> rollback --auto-approve --update-config   # and point the configuration at the live profile',
    '<%= config.bin %> rollback --collection docs --auto-approve --json',
  ]

  static override args = {
    collection: Args.string({ description: 'Collection to roll back (same as --collection).', required: false }),
  }

  static override flags = {
    collection: Flags.string({ description: 'Collection to roll back (required when several are configured).' }),
    to: Flags.string({ description: 'Generation to make live, e.g. g1 (default: the previously live one).' }),
    'auto-approve': Flags.boolean({ description: 'Roll back without asking for confirmation (required without a terminal).', default: false }),
    'accept-stale': Flags.boolean({ description: 'Switch even if rows changed meanwhile cannot be re-embedded (the target\'s model is unknown); they stay stale and queued.', default: false }),
    'max-hold-ms': Flags.integer({ description: 'Longest the application\'s writes may be held while the last changed rows are embedded.', default: 1000, min: 1 }),
    'update-config': Flags.boolean({
      description: 'Also point the collection at the profile of the generation now live (like `embedform profile use`), so the next apply does not migrate forward again.',
      default: false,
    }),
  }

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Rollback)
    const to = flags.to === undefined ? undefined : parseGeneration(flags.to)
    if (!flags['auto-approve'] && !canPrompt(this.wantsJson)) needsAutoApprove('rollback')
    const ctx = await createEngineContext(flags.config, { log: (m) => this.note(m) })
    let view: RollbackView
    try {
      const collection = pickCollection(ctx.config, flags.collection ?? args.collection)
      if (!flags['auto-approve']) {
        const [now] = (await status(ctx, [collection])).collections
        const from = now?.live ? `g${now.live.generation}` : 'no live generation'
        const target = to === undefined ? 'the previously live generation' : `g${to}`
        if (!(await confirm(`Roll back ${collection} from ${from} to ${target}?`))) {
          throw failure('E_CANCELLED', 'rollback cancelled; nothing was changed', { hint: 'answer `yes`, or pass --auto-approve' })
        }
      }
      const interrupt = this.interruptible('stopping after the batch in flight; a switch already holding writes finishes first')
      const result = await rollback(ctx, collection, { ...(to === undefined ? {} : { to }), acceptStale: flags['accept-stale'], maxHoldMs: flags['max-hold-ms'], signal: interrupt.signal }).finally(
        interrupt.release,
      )
      const [after] = (await status(ctx, [collection])).collections
      const advice = stickAdvice(ctx.config, collection, after)
      view = { result, advice }
      if (flags['update-config']) {
        if (advice.kind === 'profile-changed' || advice.kind === 'unknown-model') {
          throw inputError('E_ROLLBACK_CONFIG', `rolled back, but the configuration cannot be updated: ${advice.message}`, {
            location: { file: ctx.config.file, path: `collections.${collection}.profile` },
            hint: advice.kind === 'unknown-model' ? `set adopted_profile on collections.${collection}` : `restore profile ${advice.profile} as it was when g${result.to ?? '?'} was made`,
          })
        }
        view.updated = advice.kind === 'profile-use' ? (await setProfile(ctx.config.file, advice.profile, collection)).changes : []
      }
    } finally {
      await ctx.close()
    }
    this.emit({ ...view.result, advice: view.advice, ...(view.updated ? { configUpdated: view.updated } : {}) }, () => renderRollback(view))
  }
}
