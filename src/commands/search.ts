import { Args, Flags } from '@oclif/core'
import { BaseCommand } from '../cli/base-command.js'
import { createEngineContext } from '../cli/engine-context.js'
import { openReranker } from '../encoder/index.js'
import { parseGenerationSelector } from '../search/generation.js'
import { renderSearch } from '../search/render.js'
import { searchCollection } from '../search/run.js'
import type { SearchResult } from '../search/search.js'

export default class Search extends BaseCommand {
  static override description = `Search a collection the way the application would: the query is encoded with the generation's own profile (query prefix included), nearest neighbours come from the store, and with --rerank the profile's cross-encoder reorders the top candidates (reranker.top_k) down to reranker.return_top_k (or -k). Prints rank, key, score and a one-line snippet, and the latency of each stage.`

  static override examples = [
    '<%= config.bin %> search "cheap mortgage rates"',
    '<%= config.bin %> search "cheap mortgage rates" -k 5 --generation g2',
    { description: 'Rerank with the cross-encoder of a profile that declares one (e.g. speed):', command: '<%= config.bin %> search "linux kernel scheduler" --rerank --json' },
    { description: 'BM25 + kNN on an OpenSearch store:', command: '<%= config.bin %> search "free vacation" --hybrid --collection docs' },
  ]

  static override args = {
    query: Args.string({ description: 'Query text.', required: true }),
  }

  static override flags = {
    collection: Flags.string({ description: 'Collection to search (required when several are configured).' }),
    'top-k': Flags.integer({ char: 'k', description: 'Results to return (default: reranker.return_top_k when reranking, else 10).', min: 1 }),
    rerank: Flags.boolean({ description: "Rerank with the profile's cross-encoder (default: the profile's reranker.enabled).", allowNo: true }),
    generation: Flags.string({ description: 'Generation to search: live or gN (a building or retained one too).', default: 'live' }),
    hybrid: Flags.boolean({ description: 'BM25 + kNN hybrid retrieval (stores that support it: OpenSearch).', default: false }),
  }

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Search)
    const selector = parseGenerationSelector(flags.generation, { allowAll: false })
    const ctx = await createEngineContext(flags.config, { log: (m) => this.note(m) })
    let result: SearchResult
    try {
      result = await searchCollection(ctx, {
        query: args.query,
        ...(flags.collection !== undefined ? { collection: flags.collection } : {}),
        generation: selector,
        ...(flags['top-k'] !== undefined ? { k: flags['top-k'] } : {}),
        ...(flags.rerank !== undefined ? { rerank: flags.rerank } : {}),
        hybrid: flags.hybrid,
        openReranker,
        encoderOptions: { log: (m) => this.note(m) },
      })
    } finally {
      await ctx.close()
    }
    this.emit(result, () => renderSearch(result))
  }
}
