import { Flags } from '@oclif/core'
import { BaseCommand } from '../cli/base-command.js'
import { createEngineContext } from '../cli/engine-context.js'
import { ExitCode } from '../core/errors.js'
import { planInsight, renderPlanInsight } from '../insight/plan-insight.js'
import { renderPlanMarkdown } from '../insight/markdown.js'
import { lintProject } from '../lint/run.js'
import { makePlan, planHasChanges, renderPlan, writePlanFile } from '../plan/index.js'

export default class Plan extends BaseCommand {
  static override description = `Show what apply would change: per collection, the steps from the live generation to the configured profile, with rows to encode, time, storage and index estimates.

Reads live state from the stores (never from a local file), and checks that apply could do it: key column unique and NOT NULL, text columns present (case-sensitive), vector column of a vector type, no materialized view over it, and the privileges apply needs. Every problem is listed with the object it is about and the fix, and exits 2; nothing in the store changes. With -o the plan is saved as JSON; \`embedform apply PLAN_FILE\` then executes exactly that plan and refuses it if the live state changed meanwhile.`

  static override examples = [
    '<%= config.bin %> plan',
    '<%= config.bin %> plan -o plan.json',
    '<%= config.bin %> plan --collection docs --no-measure',
    '<%= config.bin %> plan --detailed-exitcode   # exit 3 when there are changes, 0 when none',
    '<%= config.bin %> plan --json',
    '<%= config.bin %> plan --sample 500   # encode 500 random rows: speed, tokens, quality preview; writes nothing',
    '<%= config.bin %> plan --sample 500 --format markdown > plan.md   # for a pull request',
  ]

  static override flags = {
    out: Flags.string({ char: 'o', description: 'Save the plan as JSON to this file (for `embedform apply FILE`).' }),
    'detailed-exitcode': Flags.boolean({
      description: 'Exit 3 when the plan has changes or a live generation drifted (stale or missing vectors), 0 when neither (like terraform plan -detailed-exitcode).',
      default: false,
    }),
    collection: Flags.string({ description: 'Plan only this collection (repeatable).', multiple: true }),
    measure: Flags.boolean({
      description: 'Time a short encoder run on this machine for the estimates (--no-measure uses the profile\'s declared throughput).',
      default: true,
      allowNo: true,
    }),
    sample: Flags.integer({
      description: 'Encode N rows drawn at random with the candidate profile (nothing is written): measured texts/s and ETA, token statistics, storage, neighbour overlap with the live generation, and the gate metric on the sample.',
      min: 2,
    }),
    format: Flags.string({ description: 'Human output format: text, or markdown for a pull request.', options: ['text', 'markdown'], default: 'text' }),
  }

  async run(): Promise<void> {
    const { flags } = await this.parse(Plan)
    const ctx = await createEngineContext(flags.config, { log: (m) => this.note(m) })
    const interrupt = this.interruptible('abandoning the measurement in flight (plan only reads)')
    const stoppable = <T>(work: Promise<T>) =>
      this.untilInterrupted(work, interrupt.signal, 'plan was interrupted; it only reads, so nothing was changed', `run \`embedform plan\` again${flags.sample !== undefined ? ', with a smaller --sample to finish sooner' : ''}`)
    let changed: boolean
    try {
      const plan = await stoppable(
        makePlan(ctx, {
          ...(flags.collection ? { collections: flags.collection } : {}),
          measure: flags.measure,
        }),
      )
      if (flags.out) await writePlanFile(flags.out, plan)
      const insight = await stoppable(planInsight(ctx, plan, flags.sample !== undefined ? { sample: flags.sample } : {}))
      const lint = flags.format === 'markdown' && !this.wantsJson ? (await lintProject(ctx, { plan, ...(insight.samples ? { samples: insight.samples } : {}) })).findings : undefined
      const human = () =>
        flags.format === 'markdown'
          ? renderPlanMarkdown(plan, { ...insight, ...(lint ? { lint } : {}) })
          : renderPlan(plan) + renderPlanInsight(insight) + (flags.out ? `\nSaved the plan to ${flags.out}. Run \`embedform apply ${flags.out}\` to execute exactly this plan.\n` : '')
      this.emit({ ...plan, drift: insight.drift, zeroVectors: insight.zeroVectors, ...(insight.samples ? { samples: insight.samples } : {}) }, human)
      changed = planHasChanges(plan) || insight.drift.length > 0
    } finally {
      interrupt.release()
      await ctx.close()
    }
    if (flags['detailed-exitcode'] && changed) this.exitWith(ExitCode.planHasChanges)
  }
}
