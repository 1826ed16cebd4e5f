import { Args, Flags } from '@oclif/core'
import { BaseCommand } from '../../cli/base-command.js'
import { inputError } from '../../core/errors.js'
import { loadConfig } from '../../config/index.js'
import { setProfile } from '../../config/edit.js'
import { pickProfile } from '../../config/picker.js'
import { summarizeProfiles } from '../../config/summary.js'
import { didYouMean } from '../../config/suggest.js'

export default class ProfileUse extends BaseCommand {
  static override description = `Switch collections to another profile by editing embedding.config.yaml (comments and formatting are kept).

Without --collection, default_profile and every collection that names a profile switch; with it, only that collection. Nothing in the store changes: run \`embedform plan\` to see the migration, \`embedform apply\` to do it. Without NAME on a terminal, pick from a list that shows model, dimensions, speed and storage of each profile.`

  static override examples = [
    '<%= config.bin %> profile use speed',
    '<%= config.bin %> profile use minilm --collection docs',
    '<%= config.bin %> profile use            # interactive picker on a terminal',
  ]

  static override args = {
    name: Args.string({ description: 'Profile to switch to.', required: false }),
  }

  static override flags = {
    collection: Flags.string({ description: 'Switch only this collection.' }),
  }

  async run(): Promise<void> {
    const { args, flags } = await this.parse(ProfileUse)
    const config = await loadConfig({ configPath: flags.config })
    const known = Object.keys(config.profiles)
    let name = args.name
    if (name === undefined) {
      if (!process.stdin.isTTY || !process.stdout.isTTY || this.wantsJson) {
        throw inputError('E_USAGE', 'no profile given and no terminal to pick one on', { hint: `run \`embedform profile use NAME\` with one of: ${known.join(', ')}` })
      }
      name = await pickProfile(summarizeProfiles(config), process.stdin, process.stdout)
    }
    if (!known.includes(name)) throw inputError('E_REF_PROFILE', `unknown profile "${name}"`, { hint: didYouMean(name, known) })
    const { changes } = await setProfile(config.file, name, flags.collection)
    this.emit({ file: config.file, profile: name, changes }, () =>
      changes.length === 0
        ? `already using ${name}; nothing changed`
        : `${changes.map((c) => `${c.path}: ${c.from ?? '(unset)'} → ${c.to}`).join('\n')}\nupdated ${flags.config}. Run \`embedform plan\` to see what the switch does to the stores.`,
    )
  }
}
