import { BaseCommand } from '../../cli/base-command.js'
import { listModels } from '../../encoder/index.js'

function humanBytes(n: number): string {
  if (n === 0) return '-'
  return n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MiB` : `${(n / 1024).toFixed(1)} KiB`
}

export default class ModelsList extends BaseCommand {
  static override description = 'List builtin models (built or not), Hugging Face models and int8 copies (models quantize) in the cache, with their size on disk.'

  static override examples = ['<%= config.bin %> models list', '<%= config.bin %> models list --json']

  async run(): Promise<void> {
    await this.parse(ModelsList)
    const models = await listModels()
    this.emit({ models }, () =>
      models
        .map((m) => `${m.source.padEnd(36)} ${(m.cached ? 'cached' : 'not built').padEnd(10)} ${humanBytes(m.bytes).padStart(10)}  ${m.description ?? m.dir}`)
        .join('\n'),
    )
  }
}
