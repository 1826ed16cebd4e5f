import { resolve } from 'node:path'
import { Flags } from '@oclif/core'
import { BaseCommand } from '../cli/base-command.js'
import { inputError } from '../core/errors.js'
import { createEngineContext, pickCollection } from '../cli/engine-context.js'
import { readQrels, readQueries } from '../eval/formats.js'
import { parseMetricSpec } from '../eval/metrics.js'
import { renderShadow, shadowTraffic } from '../insight/shadow.js'
import { parseGenerationSelector } from '../search/generation.js'

export default class Shadow extends BaseCommand {
  static override description = `Replay real queries against the live generation and the candidate of a held apply, before \`embedform cutover\` switches readers.

Each query is encoded with each generation's own profile and searched one at a time, as the application would. Reports overlap@k (how much the candidate's answers agree with live's), the judged metric when --qrels is given, and latency p50/p95 for both. Reads only; the queries file is JSONL ({"_id", "text"}) or TSV (id<TAB>text), like \`embedform eval\`.`

  static override examples = [
    '<%= config.bin %> apply --auto-approve --hold && <%= config.bin %> shadow --queries queries.jsonl',
    '<%= config.bin %> shadow --queries queries.jsonl --qrels qrels.tsv --metric ndcg@10 --json',
  ]

  static override flags = {
    queries: Flags.string({ description: 'Queries to replay (JSONL or TSV).', required: true }),
    qrels: Flags.string({ description: 'Relevance judgements (TREC qrels or TSV) for a judged metric.' }),
    metric: Flags.string({ description: 'Judged metric with --qrels.', default: 'ndcg@10' }),
    k: Flags.integer({ description: 'Results per query.', default: 10, min: 1 }),
    collection: Flags.string({ description: 'Collection (required when several are configured).' }),
    candidate: Flags.string({ description: 'Candidate generation, e.g. g3 (default: the one the apply in flight builds).' }),
  }

  async run(): Promise<void> {
    const { flags } = await this.parse(Shadow)
    const ctx = await createEngineContext(flags.config, { log: (m) => this.note(m) })
    const interrupt = this.interruptible('abandoning the comparison (it only reads)')
    try {
      const c = ctx.config.collections[pickCollection(ctx.config, flags.collection)]!
      const cwd = process.cwd()
      const queries = await readQueries(resolve(cwd, flags.queries))
      const qrels = flags.qrels ? await readQrels(resolve(cwd, flags.qrels)) : undefined
      const metric = parseMetricSpec(flags.metric, { path: '--metric' })
      const candidate = flags.candidate === undefined ? undefined : parseGeneration(flags.candidate)
      const report = await this.untilInterrupted(
        shadowTraffic({ ctx, collection: c, queries, k: flags.k, ...(qrels ? { qrels } : {}), metric, ...(candidate !== undefined ? { candidate } : {}) }),
        interrupt.signal,
        'shadow was interrupted; it only reads, so nothing was changed (a held apply stays held)',
        'run the same `embedform shadow` again, with fewer queries to finish sooner; `embedform cutover` switches when you are satisfied',
      )
      this.emit(report, () => renderShadow(report))
    } finally {
      interrupt.release()
      await ctx.close()
    }
  }
}

/** `--candidate live` makes no sense: the live generation is the other side of the comparison. */
function parseGeneration(text: string): number {
  const s = parseGenerationSelector(text, { allowAll: false })
  if (s.kind === 'id') return s.id
  throw inputError('E_GENERATION_SELECTOR', '--candidate names the generation compared with live, so it cannot be live itself', { location: { path: '--candidate' }, hint: 'e.g. --candidate g2' })
}
