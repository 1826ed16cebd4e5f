import { Args, Flags } from '@oclif/core'
import type { ApplyResult } from '../apply/types.js'
import { applyPlan } from '../apply/index.js'
import { throttleFlags, throttleOptions } from '../apply/throttle-flags.js'
import { checkAdoption } from '../attest/attest.js'
import { BaseCommand } from '../cli/base-command.js'
import { canPrompt, confirm, needsAutoApprove } from '../cli/confirm.js'
import { createEngineContext, dropStashedPlan, findInFlightApply, type InFlightApply, stashPlan } from '../cli/engine-context.js'
import { createProgressRenderer, formatDuration, progressMode } from '../cli/progress.js'
import { describeInFlight } from '../cli/views/in-flight.js'
import { EmbedformError, failure, inputError, isEmbedformError } from '../core/errors.js'
import { gateRunner } from '../eval/gate.js'
import { makePlan, planHasChanges, readPlanFile, renderPlan } from '../plan/index.js'
import { preflightPlan } from '../plan/preflight.js'
import { verifySavedPlan } from '../plan/trust.js'
import { DEFAULT_LEASE_MS, DEFAULT_RANGE_ROWS } from '../workers/backfill.js'
import { startLocalWorkers, type LocalWorkers } from '../workers/spawn.js'
import type { EngineContext, Plan } from '../plan/types.js'
import { batchSizeFlag } from '../cli/batch-size-flag.js'

export default class Apply extends BaseCommand {
  static override description = `Move the stores to what the configuration says: create the new generation, backfill it, catch up writes made meanwhile, build its index, verify it, run the quality gate, and cut over atomically. The previous generation is retained for \`embedform rollback\`.

Without PLAN_FILE, makes a plan, prints it and asks for confirmation. With PLAN_FILE (from \`embedform plan -o\`), executes exactly that plan, after making the plan again from the configuration and the live state: any other step, profile, fingerprint or target (an edited file, or a store that changed meanwhile) is refused with exit 2.

Like plan, it first runs the store's preflight checks (key, text columns, vector column, dependent views, privileges) and exits 2 on a problem before taking any lock or changing anything.

Resumable: interrupt it (Ctrl-C, or a crash) and run the same command again; it continues from the store's journal and every row is embedded exactly once.`

  static override examples = [
    '<%= config.bin %> apply',
    '<%= config.bin %> apply --auto-approve',
    '<%= config.bin %> plan -o plan.json && <%= config.bin %> apply plan.json',
    '<%= config.bin %> apply --auto-approve --batch-size 256 --json',
    '<%= config.bin %> apply --auto-approve --skip-gate',
    '<%= config.bin %> apply --auto-approve --max-rate 500 --max-replica-lag 2000   # gentle on a busy primary',
    '<%= config.bin %> apply --auto-approve --hold   # stop before the cutover; then `embedform shadow`, `embedform cutover`',
  ]

  static override args = {
    plan_file: Args.string({ description: 'Plan saved by `embedform plan -o FILE`.', required: false }),
  }

  static override flags = {
    'auto-approve': Flags.boolean({ description: 'Apply without asking for confirmation (required without a terminal).', default: false }),
    'skip-gate': Flags.boolean({ description: 'Cut over even when the profile declares a quality gate, without evaluating it.', default: false }),
    'batch-size': batchSizeFlag,
    workers: Flags.integer({
      description: 'Backfill with N cooperating processes: this one and N-1 local `embedform worker`s; workers on other machines may join (`embedform worker`). The store leases the work: key ranges on PostgreSQL, slices of a point-in-time on OpenSearch.',
      min: 1,
    }),
    'lease-ms': Flags.integer({ description: 'With --workers: a dead worker\'s key range or slice is taken over this long after its last renewal.', default: DEFAULT_LEASE_MS, min: 100 }),
    'range-rows': Flags.integer({ description: 'With --workers: rows per leased key range (PostgreSQL) or slice (OpenSearch).', default: DEFAULT_RANGE_ROWS, min: 1 }),
    hold: Flags.boolean({
      description: 'Stop before the cutover, after verify and the quality gate, with the new generation caught up (the journal records the hold). `embedform shadow` compares it with the live one on real queries; `embedform cutover` switches.',
      default: false,
    }),
    ...throttleFlags,
  }

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Apply)
    const json = this.wantsJson
    const fromFile = args.plan_file
    // Refuse before touching any store: a non-interactive apply must say it means it.
    if (!fromFile && !flags['auto-approve'] && !canPrompt(json)) needsAutoApprove('apply')

    const renderer = createProgressRenderer(progressMode(json))
    const ctx = await createEngineContext(flags.config, { onEvent: renderer.listener, log: (m) => this.note(m) })
    const interrupt = this.interruptible('stopping after the current batch')
    let result: ApplyResult | undefined
    let stashed: Plan | undefined
    let workers: LocalWorkers | undefined
    try {
      const plan = fromFile ? await this.savedPlan(ctx, fromFile) : await this.resumeOrPlan(ctx, flags['auto-approve'], json)
      if (!plan) return
      for (const cp of plan.collections) {
        const c = ctx.config.collections[cp.collection]
        if (c) await checkAdoption(ctx, c)
      }
      // Stashed even when it came from a file: a stopped apply is then resumed by plain `embedform apply`.
      await stashPlan(ctx.config, plan)
      stashed = plan
      const backfills = plan.collections.filter((c) => c.steps.some((s) => s.kind === 'backfill')).map((c) => c.collection)
      if (flags.workers && flags.workers > 1 && backfills.length > 0) {
        workers = startLocalWorkers(flags.workers - 1, backfills, { config: flags.config, leaseMs: flags['lease-ms'], ...(flags['batch-size'] ? { batchSize: flags['batch-size'] } : {}) })
      }
      result = await applyPlan(ctx, plan, {
        ...(flags.workers ? { workers: { holder: ctx.holder, ttlMs: flags['lease-ms'], rangeRows: flags['range-rows'] } } : {}),
        skipGate: flags['skip-gate'],
        signal: interrupt.signal,
        gate: gateRunner,
        ...(flags['batch-size'] ? { batchSize: flags['batch-size'] } : {}),
        hold: flags.hold,
        throttle: throttleOptions(flags),
      })
      if (interrupt.signal.aborted) throw this.applyInterrupted(fromFile)
      // A held apply is still in flight: `embedform cutover` resumes it with this very plan.
      if (stashed && !result.collections.some((c) => c.held)) await dropStashedPlan(ctx.config, stashed.id)
    } catch (err) {
      if (interrupt.signal.aborted) throw this.applyInterrupted(fromFile, err)
      throw await this.stopped(ctx, stashed, err)
    } finally {
      interrupt.release()
      renderer.stop()
      workers?.stop()
      await workers?.done
      await ctx.close()
    }
    this.report(result)
  }

  /**
   * After a failure: when the store's journal holds this plan's progress, the error's hint ends
   * with the same next command `status` shows; when nothing started, the stash goes.
   */
  private async stopped(ctx: EngineContext, stashed: Plan | undefined, err: unknown): Promise<unknown> {
    if (!stashed) return err
    const inFlight = await findInFlightApply(ctx).catch(() => undefined)
    if (!inFlight || inFlight.planId !== stashed.id) {
      await dropStashedPlan(ctx.config, stashed.id)
      return err
    }
    if (!isEmbedformError(err)) return err
    const { next } = describeInFlight(inFlight.journal, inFlight.collection, { stashedHere: true })
    return new EmbedformError({
      code: err.code,
      message: err.message,
      kind: err.kind,
      ...(err.location ? { location: err.location } : {}),
      hint: err.hint ? `${err.hint}; then ${next}` : next,
      cause: err,
    })
  }

  /** A saved plan runs only if it is exactly what `plan` would make now (and passes preflight). */
  private async savedPlan(ctx: EngineContext, file: string): Promise<Plan> {
    const plan = await readPlanFile(file)
    const inFlight = await findInFlightApply(ctx)
    if (inFlight && inFlight.planId !== plan.id) throw inFlightError(inFlight, `in flight, so plan ${plan.id} from ${file} cannot start`)
    await verifySavedPlan(ctx, plan, file)
    return plan
  }

  /**
   * An apply left in flight (killed, interrupted, failed) is resumed with its own plan: the
   * engine continues only the plan the store's journal names, and every row stays embedded once.
   */
  private async resumeOrPlan(ctx: EngineContext, autoApprove: boolean, json: boolean): Promise<Plan | undefined> {
    const inFlight = await findInFlightApply(ctx)
    if (!inFlight) return this.planAndConfirm(ctx, autoApprove, json)
    if (!inFlight.plan) throw inFlightError(inFlight, 'in flight, started from another checkout')
    await preflightPlan(ctx, inFlight.plan)
    if (json) process.stdout.write(`${JSON.stringify({ type: 'resume', planId: inFlight.planId, collection: inFlight.collection })}\n`)
    else process.stdout.write(`Resuming the apply of plan ${inFlight.planId} left in flight on ${inFlight.collection}; the store's journal holds its progress.\n\n${renderPlan(inFlight.plan).trimEnd()}\n\n`)
    if (!autoApprove && !(await confirm('Resume this apply?'))) {
      throw failure('E_CANCELLED', 'resume cancelled; nothing was changed', { hint: `answer \`yes\`, pass --auto-approve, or abandon it with \`embedform rollback --collection ${inFlight.collection}\`` })
    }
    return inFlight.plan
  }

  /** Plans, prints the plan, and returns it only when there is something to do and the user agreed. */
  private async planAndConfirm(ctx: EngineContext, autoApprove: boolean, json: boolean): Promise<Plan | undefined> {
    const plan = await makePlan(ctx, {})
    if (json) process.stdout.write(`${JSON.stringify({ type: 'plan', plan })}\n`)
    else process.stdout.write(`${renderPlan(plan).trimEnd()}\n\n`)
    if (!planHasChanges(plan)) {
      if (json) process.stdout.write(`${JSON.stringify({ type: 'result', ok: true, planId: plan.id, collections: [], ms: 0 })}\n`)
      else process.stdout.write('No changes. The stores match the configuration.\n')
      return undefined
    }
    if (autoApprove) return plan
    if (!(await confirm('Apply these changes?'))) {
      throw failure('E_CANCELLED', 'apply cancelled; nothing was changed', { hint: 'answer `yes` to apply, or pass --auto-approve' })
    }
    return plan
  }

  private applyInterrupted(planFile: string | undefined, cause?: unknown): EmbedformError {
    const detail = isEmbedformError(cause) && cause.code !== 'E_ABORTED' ? ` (${cause.message})` : ''
    return this.interrupted(
      `apply was interrupted; progress so far is kept in the store's journal${detail}`,
      `run \`embedform apply ${planFile ?? '--auto-approve'}\` again to resume where it stopped, or \`embedform rollback\` to abandon the new generation`,
      cause,
    )
  }

  private report(result: ApplyResult | undefined): void {
    if (!result) return
    if (this.wantsJson) {
      process.stdout.write(`${JSON.stringify({ type: 'result', ok: true, ...result })}\n`)
      return
    }
    const lines = result.collections.map((c) => {
      const resumed = c.resumed.length > 0 ? `, resumed after ${c.resumed.length} completed step(s)` : ''
      const gate = c.gate ? `, gate ${c.gate.metric} ${c.gate.candidate.toFixed(3)} vs ${c.gate.live.toFixed(3)}` : ''
      if (c.held) return `  ${c.collection}: HELD before the cutover, g${c.generation} still live; ${c.rowsWritten} rows written${gate}. \`embedform shadow --queries FILE\` to compare, \`embedform cutover\` to switch`
      return `  ${c.collection}: g${c.generation} live (${c.change}), ${c.rowsWritten} rows written, ${c.catchUpPasses} catch-up pass(es)${resumed}${gate}`
    })
    process.stdout.write(`Apply complete in ${formatDuration(result.ms / 1000)}.\n${lines.join('\n')}\n`)
  }

  /** JSON-lines consumers read one object per line, errors included. */
  protected override fail(err: EmbedformError): never {
    if (!this.wantsJson) return super.fail(err)
    process.stdout.write(`${JSON.stringify({ type: 'error', ok: false, error: this.errorJson(err) })}\n`)
    process.exitCode = this.exitCodeOf(err)
    return this.exit(this.exitCodeOf(err))
  }
}

/** The in-flight apply as `status` describes it, with the same next command. */
function inFlightError(inFlight: InFlightApply, what: string): EmbedformError {
  const view = describeInFlight(inFlight.journal, inFlight.collection, { stashedHere: inFlight.plan !== undefined })
  return inputError('E_APPLY_IN_PROGRESS', `collection "${inFlight.collection}" has an apply ${what}: ${view.state}`, {
    location: { path: `collections.${inFlight.collection}` },
    hint: view.next,
  })
}
