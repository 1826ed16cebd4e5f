import { Flags } from '@oclif/core'
import { relative } from 'node:path'
import { BaseCommand } from '../cli/base-command.js'
import { scaffold } from '../config/scaffold.js'

export default class Init extends BaseCommand {
  static override description = `Create embedding.config.yaml, profiles/ (the seed profiles) and schemas/ in the current directory, for the chosen store. Files start with a \`# yaml-language-server: $schema=\` line so editors validate and autocomplete them.`

  static override examples = [
    '<%= config.bin %> init',
    '<%= config.bin %> init --store pgvector',
    '<%= config.bin %> init --store opensearch --force',
  ]

  static override flags = {
    store: Flags.string({ description: 'Store kind to scaffold for: pglite, pgvector, opensearch, or a kind an installed store plugin registers.', default: 'pglite' }),
    force: Flags.boolean({ description: 'Overwrite existing files.', default: false }),
  }

  async run(): Promise<void> {
    const { flags } = await this.parse(Init)
    const store = flags.store
    const { written } = await scaffold(flags.config, store, flags.force)
    this.emit({ store, written }, () => `${written.map((f) => `wrote ${relative(process.cwd(), f)}`).join('\n')}\nnext: \`embedform validate\`, then \`embedform plan\``)
  }
}
