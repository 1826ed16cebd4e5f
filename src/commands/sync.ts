import { Args, Flags } from '@oclif/core'
import { status } from '../apply/index.js'
import { throttleFlags, throttleOptions } from '../apply/throttle-flags.js'
import { BaseCommand } from '../cli/base-command.js'
import { createEngineContext, migrationHolder, pickCollection } from '../cli/engine-context.js'
import { createProgressRenderer, formatDuration, progressMode } from '../cli/progress.js'
import { type EmbedformError, ExitCode } from '../core/errors.js'
import type { ProgressEvent } from '../core/events.js'
import type { EngineContext } from '../plan/types.js'
import { sync, watch, type SyncResult, type WatchPass, type WatchSummary } from '../sync/index.js'
import { batchSizeFlag } from '../cli/batch-size-flag.js'

export default class Sync extends BaseCommand {
  static override description = `Keep the live generation fresh after the cutover: embed every row the application inserted or whose text it edited since its vector was made (stale or missing), with the profile stored with that generation, and write the vector into the column / index the application reads.

The application may write text only (sync fills the vector) or write the vector itself; a vector the application wrote is re-embedded, because nothing records which model and text made it (see docs/sync.md).

Without --watch, sync embeds what is stale or missing and ends; it is resumable (what it did not get to stays queued) and safe to run next to an apply or another sync. With --watch it keeps running: on PostgreSQL it is woken by a NOTIFY at each commit that changes text, on OpenSearch it polls the updated-at field; a sweep every --sweep-ms catches anything a notification missed. It reconnects with backoff when the store restarts and stops cleanly on SIGTERM or Ctrl-C. Start several watchers (on any machines) to share the work: on PostgreSQL they split the change queue into leased slices. \`embedform status\` shows the lag (age of the oldest change not yet synced).

Without --watch, SIGTERM or Ctrl-C stops after the batch in flight, says how many rows were embedded and exits 143 / 130; the rest stay queued for the next run. A --watch stopped this way ends normally (exit 0).

Rows the encoder rejects are retried with backoff, listed in the result, and never hold up the rest.

Exit codes: 0 done, 1 failure (or rows that still fail after their retries), 2 bad input, 130 / 143 stopped by SIGINT / SIGTERM; with --detailed-exitcode, 3 when sync found rows to embed (the live generation had drifted).`

  static override examples = [
    '<%= config.bin %> sync docs',
    '<%= config.bin %> sync docs --all-generations   # retained generations too: a rollback then re-embeds nothing',
    '<%= config.bin %> sync docs --detailed-exitcode  # exit 3 when anything was stale (a cron check)',
    '<%= config.bin %> sync docs --watch',
    '<%= config.bin %> sync docs --watch --json       # one JSON object per pass',
  ]

  static override args = {
    collection: Args.string({ description: 'Collection to sync (required when several are configured).', required: false }),
  }

  static override flags = {
    watch: Flags.boolean({ description: 'Keep running and embed changes as they are committed.', default: false }),
    'all-generations': Flags.boolean({ description: 'Also keep retained generations fresh, so a rollback has nothing to re-embed.', default: false }),
    'batch-size': batchSizeFlag,
    'sweep-ms': Flags.integer({ description: 'With --watch: how often to sweep the whole generation as a safety net.', default: 60_000, min: 100 }),
    'poll-ms': Flags.integer({ description: 'With --watch, on stores that cannot push changes (OpenSearch): how often to look.', default: 1_000, min: 10 }),
    'lease-ms': Flags.integer({ description: 'With --watch on PostgreSQL: a queue slice a dead watcher held is taken over this long after its last renewal.', default: 30_000, min: 100 }),
    'row-attempts': Flags.integer({ description: 'Encode attempts of a failing row in one sync run (a --watch retries for as long as it runs).', default: 3, min: 1 }),
    ...throttleFlags,
    'detailed-exitcode': Flags.boolean({ description: 'Exit 3 when sync found stale or missing rows (and embedded them), 0 when everything was fresh.', default: false }),
  }

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Sync)
    const json = this.wantsJson
    const renderer = createProgressRenderer(progressMode(json))
    const written = new WrittenRows()
    const onEvent = (e: ProgressEvent) => {
      written.see(e)
      renderer.listener(e)
    }
    const ctx = await createEngineContext(flags.config, { onEvent: flags.watch ? undefined : onEvent, log: (m) => this.note(m) })
    const interrupt = this.interruptible('stopping after the batch in flight')
    const common = { allGenerations: flags['all-generations'], batchSize: flags['batch-size'], rowAttempts: flags['row-attempts'], signal: interrupt.signal, throttle: throttleOptions(flags) }
    try {
      const collection = pickCollection(ctx.config, args.collection)
      if (flags.watch) {
        const summary = await watch(ctx, collection, { ...common, sweepMs: flags['sweep-ms'], pollMs: flags['poll-ms'], leaseMs: flags['lease-ms'], holder: `${migrationHolder()} sync` }, this.watchHooks(json))
        this.report({ type: 'result', ok: true, ...summary }, () => renderSummary(summary))
        return
      }
      const stopped = async (cause?: unknown) => {
        const left = await liveBehind(ctx, collection).catch(() => undefined)
        return this.interrupted(
          `sync of ${collection} was interrupted after embedding at least ${written.total.toLocaleString('en-US')} row(s); ${left ? `${left.rows.toLocaleString('en-US')} stale or missing row(s) of live g${left.generation} stay queued` : 'what it did not get to stays queued'}`,
          `run \`embedform sync ${collection}\` again to embed the rest (\`embedform status\` counts them)`,
          cause,
        )
      }
      const result = await sync(ctx, collection, common).catch(async (err: unknown) => {
        throw interrupt.signal.aborted ? await stopped(err) : err
      })
      if (interrupt.signal.aborted) throw await stopped()
      renderer.stop()
      this.report({ type: 'result', ok: true, ...result }, () => renderResult(result))
      const failed = result.generations.reduce((n, g) => n + g.failed.length, 0)
      if (failed > 0) this.exitWith(ExitCode.failure)
      if (flags['detailed-exitcode'] && result.generations.some((g) => g.embedded > 0)) this.exitWith(ExitCode.planHasChanges)
    } finally {
      interrupt.release()
      renderer.stop()
      await ctx.close()
    }
  }

  /** With --json, progress and result are JSON lines: one object per line, the result last. */
  private report(data: unknown, human: () => string): void {
    if (this.wantsJson) process.stdout.write(`${JSON.stringify(data)}\n`)
    else this.emit(data, human)
  }

  private watchHooks(json: boolean) {
    const line = (o: unknown, human: string) => (json ? process.stdout.write(`${JSON.stringify(o)}\n`) : process.stderr.write(`${human}\n`))
    return {
      onPass: (p: WatchPass) => {
        if (p.embedded > 0 || p.reason !== 'poll' || json) line(p, `g${p.generation}: ${p.embedded} row(s) embedded (${p.reason}, ${Math.round(p.ms)} ms)${p.failed ? `, ${p.failed} failing` : ''}`)
      },
      onDisconnect: (err: unknown, retryInMs: number) =>
        line({ type: 'disconnected', error: (err as Error).message, retryInMs }, `store unreachable (${(err as Error).message}); retrying in ${retryInMs} ms`),
      onConnected: (pushed: boolean) =>
        line({ type: 'watching', pushed }, pushed ? 'watching: woken by the store at each commit' : 'watching: polling the store for changes'),
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

/** Stale or missing rows of the live generation, read from the store's freshness record. */
async function liveBehind(ctx: EngineContext, collection: string): Promise<{ generation: number; rows: number } | undefined> {
  const [c] = (await status(ctx, [collection])).collections
  const live = c?.generations.find((g) => g.status === 'live')
  return live ? { generation: live.id, rows: live.freshness.stale + live.freshness.missing } : undefined
}

/**
 * Rows written so far, from progress events. Each pass of a step counts from zero again and a
 * pass's start cannot always be told from its continuation, so this is a lower bound.
 */
class WrittenRows {
  total = 0
  private readonly last = new Map<string, number>()

  see(e: ProgressEvent): void {
    if (e.type !== 'progress') return
    const before = this.last.get(e.step) ?? 0
    this.total += e.done >= before ? e.done - before : e.done
    this.last.set(e.step, e.done)
  }
}

function renderResult(r: SyncResult): string {
  const lines = [`Synced ${r.collection} in ${formatDuration(r.ms / 1000)}.`]
  for (const g of r.generations) {
    const was = `${g.before.stale} stale, ${g.before.missing} missing`
    const now = `${g.after.fresh} fresh, ${g.after.stale} stale, ${g.after.missing} missing, ${g.after.queued} queued`
    lines.push(`  g${g.generation} (${g.status}): ${g.embedded} row(s) embedded; before ${was}; now ${now}`)
    for (const f of g.failed.slice(0, 10)) lines.push(`    failed: key ${String(f.key)} after ${f.attempts} attempt(s): ${f.error}`)
    if (g.failed.length > 10) lines.push(`    … and ${g.failed.length - 10} more failing row(s) (--json lists them all)`)
  }
  for (const s of r.skipped) lines.push(`  g${s.generation} skipped: ${s.reason}`)
  return lines.join('\n')
}

function renderSummary(s: WatchSummary): string {
  return `Stopped watching ${s.collection}: ${s.embedded} row(s) embedded in ${s.passes} pass(es), ${s.reconnects} reconnect(s), ${s.failed} row(s) still failing.`
}
