import { Flags } from '@oclif/core'
import { setControl } from '../apply/throttle.js'
import { BaseCommand } from '../cli/base-command.js'
import { createEngineContext, migrationHolder, pickCollection } from '../cli/engine-context.js'

export default class Resume extends BaseCommand {
  static override description = `Let a paused apply continue, or change the rate of a running one.

Clears the pause in the apply's journal in the store; with --max-rate, the running apply writes at most that many rows per second from its next batch on (it replaces the apply's own --max-rate). The apply itself keeps running in its own process; to restart one that stopped, run \`embedform apply\` again.`

  static override examples = ['<%= config.bin %> resume', '<%= config.bin %> resume --max-rate 200   # slower, without stopping'] 

  static override flags = {
    collection: Flags.string({ description: 'Collection whose apply to resume (required when several are configured).' }),
    'max-rate': Flags.integer({ description: 'New rate ceiling in rows per second for the running apply.', min: 1 }),
  }

  async run(): Promise<void> {
    const { flags } = await this.parse(Resume)
    const ctx = await createEngineContext(flags.config, { log: (m) => this.note(m) })
    try {
      const c = ctx.config.collections[pickCollection(ctx.config, flags.collection)]!
      const patch = { paused: false, ...(flags['max-rate'] !== undefined ? { maxRate: flags['max-rate'] } : {}) }
      const journal = await setControl(await ctx.adapterFor(c.store), c, patch, migrationHolder())
      const rate = journal.control?.maxRate !== undefined ? ` at most ${journal.control.maxRate} rows/s` : ''
      this.emit({ collection: c.name, planId: journal.planId, control: journal.control }, () => `Resumed the apply of plan ${journal.planId} on ${c.name}${rate}.`)
    } finally {
      await ctx.close()
    }
  }
}
