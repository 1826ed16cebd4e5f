import { Args, Flags } from '@oclif/core'
import { BaseCommand } from '../cli/base-command.js'
import { createEngineContext, migrationHolder, pickCollection } from '../cli/engine-context.js'
import { formatDuration } from '../cli/progress.js'
import { type EmbedformError } from '../core/errors.js'
import { DEFAULT_LEASE_MS } from '../workers/backfill.js'
import { joinBackfill, type JoinResult } from '../workers/join.js'
import { batchSizeFlag } from '../cli/batch-size-flag.js'

export default class Worker extends BaseCommand {
  static override description = `Join the backfill of an apply in flight, from this machine or any other that reaches the store: the work is split into units leased in the store itself, and each worker embeds the units it claims and ends when none is left. On PostgreSQL a unit is a key range (claimed with FOR UPDATE SKIP LOCKED); on OpenSearch it is one slice of a sliced point-in-time search (claimed by a write conditional on the lease document's _seq_no). The apply must have been started with \`embedform apply --workers N\` (which also starts N-1 workers itself).

A worker that dies (kill -9, a lost machine) stops renewing its lease; another worker takes its unit over once the lease expires (--lease-ms). The takeover reads only rows still without a vector, so it continues after the last batch the dead worker wrote. Start as many as the encoder hardware allows: the encoder (a GPU) is what they multiply.`

  static override examples = [
    '<%= config.bin %> apply --auto-approve --workers 2      # on the first machine',
    '<%= config.bin %> worker docs                           # on each other machine',
    '<%= config.bin %> worker docs --wait-ms 600000 --json   # started before the apply',
  ]

  static override args = {
    collection: Args.string({ description: 'Collection whose backfill to join (required when several are configured).', required: false }),
  }

  static override flags = {
    'lease-ms': Flags.integer({ description: 'A claimed range or slice is free for others this long after this worker last renewed it.', default: DEFAULT_LEASE_MS, min: 100 }),
    'wait-ms': Flags.integer({ description: 'How long to wait for a shared backfill to appear.', default: 60_000, min: 0 }),
    'batch-size': batchSizeFlag,
  }

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Worker)
    const ctx = await createEngineContext(flags.config, { log: (m) => this.note(m) })
    const abort = new AbortController()
    const stop = () => {
      if (abort.signal.aborted) process.exit(130)
      abort.abort()
    }
    process.on('SIGINT', stop)
    process.on('SIGTERM', stop)
    let result: JoinResult
    try {
      const collection = pickCollection(ctx.config, args.collection)
      const line = (o: Record<string, unknown>, human: string) => (this.wantsJson ? process.stdout.write(`${JSON.stringify(o)}\n`) : this.note(human))
      result = await joinBackfill(ctx, collection, {
        holder: `${migrationHolder()} worker`,
        ttlMs: flags['lease-ms'],
        waitMs: flags['wait-ms'],
        batchSize: flags['batch-size'],
        signal: abort.signal,
        onJoined: (g) => line({ type: 'joined', collection, generation: g, pid: process.pid }, `joined the backfill of g${g} of ${collection}`),
        onRange: (e) => line({ type: 'range', ...e, pid: process.pid }, `${e.range.slice ? `slice ${e.range.slice.id} of ${e.range.slice.max}` : `range ${e.range.id}`} ${e.state}`),
      })
    } finally {
      process.off('SIGINT', stop)
      process.off('SIGTERM', stop)
      await ctx.close()
    }
    if (this.wantsJson) process.stdout.write(`${JSON.stringify({ type: 'result', ok: true, ...result })}\n`)
    else process.stdout.write(`Worker done: ${result.rowsWritten} rows of g${result.generation} of ${result.collection} in ${result.ranges} range(s), ${formatDuration(result.ms / 1000)}.\n`)
  }

  /** JSON-lines consumers read one object per line, errors included. */
  protected override fail(err: EmbedformError): never {
    if (!this.wantsJson) return super.fail(err)
    process.stdout.write(`${JSON.stringify({ type: 'error', ok: false, error: err.toJSON() })}\n`)
    process.exitCode = err.exitCode
    return this.exit(err.exitCode)
  }
}
