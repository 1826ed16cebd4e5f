import { Args } from '@oclif/core'
import { BaseCommand } from '../../cli/base-command.js'
import { inputError } from '../../core/errors.js'
import { resolveWithSources } from '../../config/index.js'
import { overrideFlags, overridesFromFlags } from '../../config/flags.js'
import { didYouMean } from '../../config/suggest.js'
import { formatRows } from '../../config/render.js'

export default class ProfileShow extends BaseCommand {
  static override description = `Show one profile fully resolved (extends, EMBEDDING_* variables and flags applied, defaults filled), with the source of every value.`

  static override examples = [
    '<%= config.bin %> profile show speed',
    'EMBEDDING_BATCH_SIZE=64 <%= config.bin %> profile show speed',
    '<%= config.bin %> profile show quality --json',
  ]

  static override args = {
    name: Args.string({ description: 'Profile name (file name in profiles/ without .yaml).', required: true }),
  }

  static override flags = { ...overrideFlags }

  async run(): Promise<void> {
    const { args, flags } = await this.parse(ProfileShow)
    // Overrides apply to the selected profile: showing NAME selects it unless --profile says otherwise.
    const overrides = overridesFromFlags({ ...flags, profile: flags.profile ?? args.name })
    const resolved = await resolveWithSources({ configPath: flags.config, overrides })
    const profile = resolved.config.profiles[args.name]
    const values = resolved.profiles[args.name]
    if (!profile || !values) {
      throw inputError('E_REF_PROFILE', `unknown profile "${args.name}"`, { hint: didYouMean(args.name, Object.keys(resolved.config.profiles)) })
    }
    this.emit({ name: args.name, file: profile.file, profile, values }, () => `profile ${args.name} (${profile.file})\n${formatRows(values)}`)
  }
}
