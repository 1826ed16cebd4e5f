import { resolve } from 'node:path'
import { Flags } from '@oclif/core'
import { BaseCommand } from '../cli/base-command.js'
import { createEngineContext } from '../cli/engine-context.js'
import { readQrels, readQueries } from '../eval/formats.js'
import { parseCutoffs } from '../eval/metrics.js'
import { renderEvalReport } from '../eval/render.js'
import { type EvalOutcome, evaluateCollection } from '../eval/run.js'
import { parseGenerationSelector } from '../search/generation.js'

export default class Eval extends BaseCommand {
  static override description = `Score a collection's generations on a query set. With relevance judgements (--qrels) it reports NDCG@k, Recall@k, MRR@k and MAP@k per generation — a building generation too, before it goes live; without them, overlap@k of each generation's top k with the live generation's. Queries are encoded with each generation's own profile.

Queries: BEIR queries.jsonl ({"_id", "text"}) or TSV id<TAB>text. Qrels: BEIR TSV (query-id corpus-id score) or TREC (qid 0 docid rel).`

  static override examples = [
    '<%= config.bin %> eval --queries eval/queries.jsonl --qrels eval/qrels.tsv',
    '<%= config.bin %> eval --queries eval/queries.jsonl --qrels eval/qrels.tsv --generation live -k 10,20 --json',
    '<%= config.bin %> eval --queries eval/queries.jsonl --generation g2 --collection docs',
  ]

  static override flags = {
    queries: Flags.string({ description: 'Query file (JSONL or TSV).', required: true }),
    qrels: Flags.string({ description: 'Relevance judgements (BEIR TSV or TREC). Without them: overlap@k with the live generation.' }),
    generation: Flags.string({ description: 'Generation(s) to evaluate: live, gN or all.', default: 'all' }),
    cutoffs: Flags.string({ char: 'k', description: 'Cutoffs k, comma separated.', default: '10' }),
    collection: Flags.string({ description: 'Collection to evaluate (required when several are configured).' }),
  }

  async run(): Promise<void> {
    const { flags } = await this.parse(Eval)
    const cutoffs = parseCutoffs(flags.cutoffs)
    const selector = parseGenerationSelector(flags.generation, { allowAll: true })
    const queries = await readQueries(resolve(flags.queries))
    const qrels = flags.qrels ? await readQrels(resolve(flags.qrels)) : undefined
    const ctx = await createEngineContext(flags.config, { log: (m) => this.note(m) })
    let report: EvalOutcome
    const interrupt = this.interruptible('abandoning the evaluation (it only reads)')
    try {
      const evaluating = evaluateCollection(ctx, {
        queries,
        ...(qrels ? { qrels } : {}),
        cutoffs,
        generation: selector,
        ...(flags.collection !== undefined ? { collection: flags.collection } : {}),
        encoderOptions: { log: (m) => this.note(m) },
      })
      report = await this.untilInterrupted(evaluating, interrupt.signal, 'eval was interrupted; it only reads, so nothing was changed and no score was recorded', 'run the same `embedform eval` again, with fewer queries to finish sooner')
    } finally {
      interrupt.release()
      await ctx.close()
    }
    for (const s of report.skipped) this.note(`note: skipped g${s.generation}: ${s.reason}${s.hint ? ` (${s.hint})` : ''}`)
    this.emit(report, () => renderEvalReport(report))
  }
}
