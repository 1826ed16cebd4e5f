import { Args, Flags } from '@oclif/core'
import { applyPlan } from '../apply/index.js'
import { throttleFlags, throttleOptions } from '../apply/throttle-flags.js'
import { BaseCommand } from '../cli/base-command.js'
import { dropStashedPlan, createEngineContext, findInFlightApply } from '../cli/engine-context.js'
import { createProgressRenderer, progressMode } from '../cli/progress.js'
import { type EmbedformError, inputError } from '../core/errors.js'
import { gateRunner } from '../eval/gate.js'
import { describeInFlight } from '../cli/views/in-flight.js'
import { readPlanFile } from '../plan/index.js'
import type { Plan } from '../plan/types.js'

export default class Cutover extends BaseCommand {
  static override description = `Complete an apply held before its cutover (\`embedform apply --hold\`): catch up what changed since, then switch readers to the new generation through the same atomic switch apply uses; the previous generation is retained for \`embedform rollback\`.

The plan comes from where \`apply\` stashed it, or from PLAN_FILE when the held apply ran \`embedform apply PLAN_FILE --hold\`. Verify and the quality gate already passed and are not run again.

SIGTERM or Ctrl-C stops the catch-up after the batch in flight, before the switch, and names the command that resumes it; a switch already holding the application's writes finishes first.`

  static override examples = ['<%= config.bin %> cutover', '<%= config.bin %> cutover plan.json --json']

  static override args = {
    plan_file: Args.string({ description: 'The plan the held apply was running, when it came from `embedform plan -o FILE`.', required: false }),
  }

  static override flags = {
    ...throttleFlags,
  }

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Cutover)
    const renderer = createProgressRenderer(progressMode(this.wantsJson))
    const ctx = await createEngineContext(flags.config, { onEvent: renderer.listener, log: (m) => this.note(m) })
    try {
      const inFlight = await findInFlightApply(ctx)
      const c = inFlight ? ctx.config.collections[inFlight.collection] : undefined
      const journal = c ? await (await ctx.adapterFor(c.store)).readJournal(c) : null
      if (!inFlight || !journal?.held) {
        throw inputError('E_NOT_HELD', inFlight ? `the apply of plan ${inFlight.planId} on ${inFlight.collection} is not held before its cutover` : 'no apply is in flight, so nothing is held', {
          hint: inFlight ? 'run `embedform apply` to resume it' : 'start one with `embedform apply --hold`',
        })
      }
      const plan: Plan | undefined = args.plan_file ? await readPlanFile(args.plan_file) : inFlight.plan
      if (!plan) {
        throw inputError('E_PLAN_REQUIRED', `the held apply of plan ${inFlight.planId} was started elsewhere; pass its plan file`, { hint: '`embedform cutover plan.json`' })
      }
      const interrupt = this.interruptible('stopping after the batch in flight; a switch already holding writes finishes first')
      const result = await applyPlan(ctx, plan, { gate: gateRunner, throttle: throttleOptions(flags), signal: interrupt.signal })
        .catch(async (err: unknown) => {
          if (!interrupt.signal.aborted) throw err
          const now = await findInFlightApply(ctx)
          const next = now ? describeInFlight(now.journal, now.collection, { stashedHere: now.plan !== undefined }).next : '`embedform status` shows where it stands'
          throw this.interrupted(`cutover was interrupted before the switch: the previous generation is still live, and the apply of plan ${plan.id} stays in flight`, next, err)
        })
        .finally(interrupt.release)
      if (!args.plan_file) await dropStashedPlan(ctx.config, plan.id)
      renderer.stop()
      // Like apply: with --json, progress events and the result are one JSON object per line.
      if (this.wantsJson) process.stdout.write(`${JSON.stringify({ type: 'result', ok: true, ...result })}\n`)
      else {
        const lines = result.collections
          .filter((r) => r.ran.length > 0)
          .map((r) => `Cut over ${r.collection} to g${r.generation} (${r.rowsWritten} rows caught up). \`embedform rollback --collection ${r.collection}\` switches back.`)
        process.stdout.write(`${lines.join('\n')}\n`)
      }
    } finally {
      renderer.stop()
      await ctx.close()
    }
  }

  /** JSON-lines consumers read one object per line, errors included. */
  protected override fail(err: EmbedformError): never {
    if (!this.wantsJson) return super.fail(err)
    process.stdout.write(`${JSON.stringify({ type: 'error', ok: false, error: err.toJSON() })}\n`)
    process.exitCode = this.exitCodeOf(err)
    return this.exit(this.exitCodeOf(err))
  }
}
