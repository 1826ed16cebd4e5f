import { Flags } from '@oclif/core'
import { setControl } from '../apply/throttle.js'
import { BaseCommand } from '../cli/base-command.js'
import { createEngineContext, migrationHolder, pickCollection } from '../cli/engine-context.js'

export default class Pause extends BaseCommand {
  static override description = `Pause the apply running on a collection, from anywhere that reaches the store.

Writes a pause into the apply's journal in the store; the running apply reads it between batches (within a second), finishes the batch in flight and waits, holding its migration lock and its progress. \`embedform resume\` lets it continue. PGlite is one process's database, so there only the process running apply can reach it.`

  static override examples = ['<%= config.bin %> pause', '<%= config.bin %> pause --collection docs --json']

  static override flags = {
    collection: Flags.string({ description: 'Collection whose apply to pause (required when several are configured).' }),
  }

  async run(): Promise<void> {
    const { flags } = await this.parse(Pause)
    const ctx = await createEngineContext(flags.config, { log: (m) => this.note(m) })
    try {
      const c = ctx.config.collections[pickCollection(ctx.config, flags.collection)]!
      const journal = await setControl(await ctx.adapterFor(c.store), c, { paused: true }, migrationHolder())
      this.emit({ collection: c.name, planId: journal.planId, control: journal.control }, () => `Paused the apply of plan ${journal.planId} on ${c.name}; it stops after the batch in flight. \`embedform resume --collection ${c.name}\` continues it.`)
    } finally {
      await ctx.close()
    }
  }
}
