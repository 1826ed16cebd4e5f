import { BaseCommand } from '../cli/base-command.js'
import { loadConfig } from '../config/index.js'
import { unresolvedStoreErrors } from '../config/unresolved-store.js'
import { formatError } from '../core/errors.js'

export default class Validate extends BaseCommand {
  static override description = `Check embedding.config.yaml and every profile in profiles/ without touching any store.

Reports every problem at once, each with file:line:column, the key path, what was expected and, for a typo, the closest valid key. Exit code 0 when valid, 2 when not. \${env:VAR} references and EMBEDDING_* overrides are checked too; an unset variable in a store's settings is reported as a warning, because only commands that connect to that store need it.`

  static override examples = [
    '<%= config.bin %> validate',
    '<%= config.bin %> validate --config path/to/embedding.config.yaml',
    'EMBEDDING_PROFILE=speed <%= config.bin %> validate --json',
  ]

  async run(): Promise<void> {
    const { flags } = await this.parse(Validate)
    const config = await loadConfig({ configPath: flags.config })
    const stores = Object.keys(config.stores)
    const collections = Object.keys(config.collections)
    const profiles = Object.keys(config.profiles)
    const warnings = Object.values(config.stores).flatMap(unresolvedStoreErrors)
    this.emit({ ok: true, file: config.file, stores, collections, profiles, warnings: warnings.map((w) => w.toJSON()) }, () =>
      [
        `${flags.config} is valid: ${stores.length} store(s), ${collections.length} collection(s), ${profiles.length} profile(s)`,
        ...warnings.map((w) => `${formatError(w).replace(/^error\[/, 'warning[')}\n  (only commands that connect to this store need it)`),
      ].join('\n'),
    )
  }
}
