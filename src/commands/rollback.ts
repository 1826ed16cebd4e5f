import { Args, Flags } from '@oclif/core'
import type { RollbackResult } from '../apply/types.js'
import { rollback, status } from '../apply/index.js'
import { BaseCommand } from '../cli/base-command.js'
import { canPrompt, confirm, needsAutoApprove } from '../cli/confirm.js'
import { createEngineContext, pickCollection } from '../cli/engine-context.js'
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

Roll forward the same way: change the profile back in the configuration and \`embedform apply\` cuts over to the retained generation, re-embedding only the rows changed meanwhile.`

  static override examples = [
    '<%= config.bin %> rollback',
    '<%= config.bin %> rollback --collection docs --to g1',
    '<%= config.bin %> rollback docs',
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
  }

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Rollback)
    const to = flags.to === undefined ? undefined : parseGeneration(flags.to)
    if (!flags['auto-approve'] && !canPrompt(this.wantsJson)) needsAutoApprove('rollback')
    const ctx = await createEngineContext(flags.config, { log: (m) => this.note(m) })
    let result: RollbackResult
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
      result = await rollback(ctx, collection, { ...(to === undefined ? {} : { to }), acceptStale: flags['accept-stale'], maxHoldMs: flags['max-hold-ms'] })
    } finally {
      await ctx.close()
    }
    this.emit(result, () => render(result))
  }
}

function render(r: RollbackResult): string {
  const gen = (g: number | null) => (g === null ? 'none' : `g${g}`)
  const changed = r.stale + r.missing
  const how = changed === 0 ? 'nothing re-embedded: no row changed while it was not live' : `${r.reembedded} row(s) re-embedded: ${r.stale} edited and ${r.missing} inserted while it was not live`
  const held = r.heldMs === undefined ? '' : `; application writes held ${Math.round(r.heldMs)} ms`
  const lines = [`Rolled back ${r.collection}: ${gen(r.from)} → ${gen(r.to)} live (${how}${held}).`]
  if (r.abandoned) lines.push(`Abandoned the apply in flight (plan ${r.abandoned.planId}, g${r.abandoned.generation}).`)
  for (const w of r.warnings) lines.push(`warning: ${w}`)
  return lines.join('\n')
}
