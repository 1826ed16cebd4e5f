import { BaseCommand } from '../../cli/base-command.js'
import { loadConfig } from '../../config/index.js'
import { profileTable, summarizeProfiles } from '../../config/summary.js'

export default class ProfileList extends BaseCommand {
  static override description = `List the profiles in profiles/: model, dimensions, declared speed, vector storage per row and per million rows, and the collections that use each. The default profile is marked with *.`

  static override examples = ['<%= config.bin %> profile list', '<%= config.bin %> profile list --json']

  async run(): Promise<void> {
    const { flags } = await this.parse(ProfileList)
    const config = await loadConfig({ configPath: flags.config })
    const list = summarizeProfiles(config)
    this.emit(list, () => profileTable(list))
  }
}
