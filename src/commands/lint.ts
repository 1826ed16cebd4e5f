import { Flags } from '@oclif/core'
import { BaseCommand } from '../cli/base-command.js'
import { createEngineContext } from '../cli/engine-context.js'
import { ExitCode } from '../core/errors.js'
import { renderLintGithub, renderLintText } from '../lint/render.js'
import { RULE_NAMES } from '../lint/rules.js'
import { DEFAULT_TOKEN_SAMPLE, lintProject, type LintReport } from '../lint/run.js'

export default class Lint extends BaseCommand {
  static override description = `Check the configuration and its effect on the stores against named rules, before a migration runs.

Rules: ${RULE_NAMES.join(', ')}. Each has a severity (error, warning, notice) that the \`lint:\` section of embedding.config.yaml can change or turn off, and \`lint.ignore.<collection>\` suppresses rules for one collection. Token lengths come from a random sample of rows, counted by the profile's own tokenizer; --sample runs the full sampled plan (encoder speed, quality preview), which is the evidence unsampled-reembed asks for.

Exit codes: 0 no errors, 1 at least one error (or warning, with --strict), 2 bad input. --format github prints GitHub Actions annotations.`

  static override examples = [
    '<%= config.bin %> lint',
    '<%= config.bin %> lint --format github   # annotations on the pull request',
    '<%= config.bin %> lint --sample 500 --strict',
    '<%= config.bin %> lint --json',
  ]

  static override flags = {
    collection: Flags.string({ description: 'Lint only this collection (repeatable).', multiple: true }),
    format: Flags.string({ description: 'Output format (--json is the same as --format json).', options: ['text', 'json', 'github'], default: 'text' }),
    strict: Flags.boolean({ description: 'Fail (exit 1) on warnings too.', default: false }),
    sample: Flags.integer({ description: 'Run a sampled plan over N random rows first (evidence for unsampled-reembed).', min: 2 }),
    'token-sample': Flags.integer({ description: 'Rows whose tokens are counted for max-tokens-truncates.', default: DEFAULT_TOKEN_SAMPLE, min: 1 }),
  }

  async run(): Promise<void> {
    const { flags } = await this.parse(Lint)
    const ctx = await createEngineContext(flags.config, { log: (m) => this.note(m) })
    let report: LintReport
    try {
      report = await lintProject(ctx, {
        ...(flags.collection ? { collections: flags.collection } : {}),
        ...(flags.sample !== undefined ? { sample: flags.sample } : {}),
        tokenSample: flags['token-sample'],
      })
    } finally {
      await ctx.close()
    }
    if (flags.format === 'json' && !this.wantsJson) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`)
    else if (flags.format === 'github' && !this.wantsJson) process.stdout.write(renderLintGithub(report, process.cwd()))
    else this.emit(report, () => renderLintText(report, process.cwd()))
    if (report.counts.error > 0 || (flags.strict && report.counts.warning > 0)) this.exitWith(ExitCode.failure)
  }
}
