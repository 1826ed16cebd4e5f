import { Flags } from '@oclif/core'
import type { GcResult } from '../apply/types.js'
import { gc } from '../apply/index.js'
import { BaseCommand } from '../cli/base-command.js'
import { createEngineContext, pickCollection } from '../cli/engine-context.js'

export default class Gc extends BaseCommand {
  static override description = `Drop retained generations beyond the newest --keep ones, freeing their storage. The live generation is never dropped. After gc, rolling back to a dropped generation means re-embedding it.`

  static override examples = [
    '<%= config.bin %> gc --dry-run',
    '<%= config.bin %> gc --keep 0',
    '<%= config.bin %> gc --collection docs --keep 2 --json',
  ]

  static override flags = {
    keep: Flags.integer({ description: 'Retained generations to keep per collection, newest first.', default: 1, min: 0 }),
    'dry-run': Flags.boolean({ description: 'Show what would be dropped without dropping it.', default: false }),
    collection: Flags.string({ description: 'Only this collection (default: all).' }),
  }

  async run(): Promise<void> {
    const { flags } = await this.parse(Gc)
    const ctx = await createEngineContext(flags.config, { log: (m) => this.note(m) })
    let result: GcResult
    try {
      const collection = flags.collection === undefined ? undefined : pickCollection(ctx.config, flags.collection)
      result = await gc(ctx, collection, { keep: flags.keep, dryRun: flags['dry-run'] })
    } finally {
      await ctx.close()
    }
    this.emit(result, () => render(result))
  }
}

function render(r: GcResult): string {
  const verb = r.dryRun ? 'Would drop' : 'Dropped'
  if (r.dropped.length === 0) return `Nothing to drop (keeping ${r.keep} retained generation(s) per collection).`
  const lines = r.dropped.map((d) => `  ${d.collection} g${d.generation} (${d.physical}, ${d.populated} vectors)`)
  const kept = r.kept.length > 0 ? `\nKept: ${r.kept.map((k) => `${k.collection} g${k.generation}`).join(', ')}` : ''
  return `${verb} ${r.dropped.length} generation(s):\n${lines.join('\n')}${kept}${r.dryRun ? '\nRun without --dry-run to drop them.' : ''}`
}
