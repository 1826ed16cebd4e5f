import { Flags } from '@oclif/core'
import { BaseCommand } from '../../cli/base-command.js'
import { loadConfig, redactConfig, resolveWithSources } from '../../config/index.js'
import { overrideFlags, overridesFromFlags } from '../../config/flags.js'
import { formatRows } from '../../config/render.js'
import { unresolvedStoreErrors } from '../../config/unresolved-store.js'
import type { Config } from '../../core/types.js'
import { redactSourced } from '../../util/redact.js'

export default class ConfigShow extends BaseCommand {
  static override description = `Print the configuration as embedform sees it. With --resolved, every value of the config and of each profile with its source: flag, env:NAME, file:line, extends:PROFILE or default (precedence in that order). Passwords are always redacted.`

  static override examples = [
    '<%= config.bin %> config show',
    '<%= config.bin %> config show --resolved',
    'EMBEDDING_PROFILE=speed EMBEDDING_BATCH_SIZE=64 <%= config.bin %> config show --resolved --batch-size 128',
    '<%= config.bin %> config show --resolved --json',
  ]

  static override flags = {
    resolved: Flags.boolean({ description: 'Show every value with its source.', default: false }),
    ...overrideFlags,
  }

  async run(): Promise<void> {
    const { flags } = await this.parse(ConfigShow)
    const opts = { configPath: flags.config, overrides: overridesFromFlags(flags) }
    if (!flags.resolved) {
      const loaded = await loadConfig(opts)
      this.noteUnresolved(loaded)
      const config = redactConfig(loaded)
      this.emit(config, () => JSON.stringify(config, null, 2))
      return
    }
    const resolved = await resolveWithSources(opts)
    this.noteUnresolved(resolved.config)
    // Values are masked again with their sources in view: a value from a secret-named variable is a secret under any key.
    const r = {
      ...resolved,
      settings: resolved.settings.map((row) => redactSourced(row)),
      profiles: Object.fromEntries(Object.entries(resolved.profiles).map(([name, rows]) => [name, rows.map((row) => redactSourced(row))])),
    }
    this.emit({ file: r.config.file, selectedProfile: r.selectedProfile ?? null, settings: r.settings, profiles: r.profiles }, () =>
      [
        `${r.config.file}`,
        formatRows(r.settings),
        ...Object.entries(r.profiles).map(([name, rows]) => `\nprofile ${name}${name === r.selectedProfile ? ' (selected)' : ''}\n${formatRows(rows)}`),
      ].join('\n'),
    )
  }

  /** A store whose settings wait for an unset variable shows only its name and kind: say why. */
  private noteUnresolved(config: Config): void {
    for (const store of Object.values(config.stores)) {
      for (const e of unresolvedStoreErrors(store)) this.note(`note: store ${store.name}: ${e.location?.path ?? ''}: ${e.message}; only commands that connect to it need it`)
    }
  }
}
