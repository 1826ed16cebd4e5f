import { Flags } from '@oclif/core'
import { BaseCommand } from '../cli/base-command.js'
import { createEngineContext } from '../cli/engine-context.js'
import { inputError } from '../core/errors.js'
import { API_KEY_ENV, SERVE_DEFAULTS, openWorkerEncoder, type ServeEvent, type ServeOptions, startServe } from '../serve/index.js'
import { renderServeEvent } from '../serve/render.js'

const seconds = Flags.custom<number>({
  parse: async (input, _ctx, opts) => {
    const n = Number(input)
    if (!Number.isFinite(n) || n <= 0) {
      throw inputError('E_USAGE', `--${opts.name} expects a positive number of seconds, got "${input}"`, { location: { path: `--${opts.name}` }, hint: `e.g. --${opts.name} 0.5` })
    }
    return n
  },
})

export default class Serve extends BaseCommand {
  static override description = `Serve each collection's live profile over HTTP, OpenAI-compatible, and follow cutovers and rollbacks without a restart.
POST /v1/embeddings takes the OpenAI embeddings request: \`model\` is a collection name (its live generation's profile) or a profile name; \`input_type: query|document\` picks the profile's prefix (default document). POST /v1/rerank (Cohere/Jina shape) and POST /rerank (text-embeddings-inference shape) score with the profile's reranker; POST /v1/collections/{name}/search runs \`embedform search\`; GET /health and GET /metrics (Prometheus) report state.
The live generation is read from the store every --poll-interval: a cutover or rollback by any process is followed within that interval plus the new model's load time. Requests already running finish on the old model; every response names the generation and fingerprint that encoded it (x-embedform-generation, x-embedform-fingerprint).
Concurrent requests are batched together up to --max-batch-tokens per encode call. A full queue answers 429 with Retry-After. With the environment variable named by --api-key-env set, every route but /health needs \`Authorization: Bearer <key>\`. SIGTERM or SIGINT stops taking requests, finishes those in flight, and exits.`

  static override examples = [
    '<%= config.bin %> serve',
    '<%= config.bin %> serve --host 0.0.0.0 --port 8080 --poll-interval 1',
    { description: 'Require a bearer token:', command: 'EMBEDFORM_API_KEY=s3cret <%= config.bin %> serve' },
    { description: 'Call it with curl (model = a collection name):', command: `curl -s localhost:8080/v1/embeddings -H 'content-type: application/json' -d '{"model":"docs","input":"cheap mortgage rates","input_type":"query"}'` },
  ]

  static override flags = {
    host: Flags.string({ description: 'Address to listen on (0.0.0.0 for every interface).', default: SERVE_DEFAULTS.host }),
    port: Flags.integer({ char: 'p', description: 'Port to listen on; 0 picks a free one (printed once listening).', default: SERVE_DEFAULTS.port, min: 0, max: 65535 }),
    'poll-interval': seconds({ description: 'Seconds between reads of each collection\'s live generation from the store.', default: SERVE_DEFAULTS.pollIntervalMs / 1000 }),
    batching: Flags.boolean({ description: 'Batch texts of concurrent requests into one encode call (--no-batching encodes each request alone).', default: true, allowNo: true }),
    'max-batch-tokens': Flags.integer({ description: 'Token budget of one encode call, counted padded: texts × the longest text.', default: SERVE_DEFAULTS.maxBatchTokens, min: 1 }),
    'max-queue': Flags.integer({ description: 'Texts (or rerank passages) that may wait per model before requests get 429.', default: SERVE_DEFAULTS.maxQueuedTexts, min: 1 }),
    'max-inputs': Flags.integer({ description: 'Inputs per embeddings request, documents per rerank request.', default: SERVE_DEFAULTS.maxInputs, min: 1 }),
    'max-input-chars': Flags.integer({ description: 'Characters per input text, query or document.', default: SERVE_DEFAULTS.maxInputChars, min: 1 }),
    timeout: seconds({ description: 'Seconds a request may take, queueing included, before it gets 504.', default: SERVE_DEFAULTS.requestTimeoutMs / 1000 }),
    'api-key-env': Flags.string({ description: 'Environment variable holding the bearer token; unset or empty: no auth.', default: API_KEY_ENV }),
  }

  async run(): Promise<void> {
    const { flags } = await this.parse(Serve)
    if (flags['max-inputs'] > flags['max-queue']) {
      throw inputError('E_SERVE_LIMITS', `--max-inputs ${flags['max-inputs']} exceeds --max-queue ${flags['max-queue']}: a full-size request could never be queued`, {
        location: { path: '--max-inputs' },
        hint: `raise --max-queue to at least ${flags['max-inputs']} or lower --max-inputs`,
      })
    }
    const apiKey = process.env[flags['api-key-env']]
    const options: ServeOptions = {
      host: flags.host,
      port: flags.port,
      pollIntervalMs: Math.round(flags['poll-interval'] * 1000),
      batching: flags.batching,
      maxBatchTokens: flags['max-batch-tokens'],
      maxQueuedTexts: flags['max-queue'],
      maxInputs: flags['max-inputs'],
      maxInputChars: flags['max-input-chars'],
      requestTimeoutMs: Math.round(flags.timeout * 1000),
      ...(apiKey ? { apiKey } : {}),
    }
    const report = (e: ServeEvent) => {
      if (this.wantsJson) process.stdout.write(`${JSON.stringify(e)}\n`)
      else process.stdout.write(`${renderServeEvent(e)}\n`)
    }
    const ctx = await createEngineContext(flags.config, { log: (m) => this.note(m) })
    let serving
    try {
      serving = await startServe(ctx, options, { onEvent: report, log: (m) => process.stderr.write(`${m}\n`), openEncoder: openWorkerEncoder })
    } catch (e) {
      await ctx.close()
      throw e
    }
    const signal = await new Promise<NodeJS.Signals>((resolve) => {
      process.once('SIGTERM', () => resolve('SIGTERM'))
      process.once('SIGINT', () => resolve('SIGINT'))
    })
    // A second signal means "now": skip the drain.
    const force = () => process.exit(1)
    process.once('SIGTERM', force)
    process.once('SIGINT', force)
    report({ type: 'stopping', signal })
    try {
      await serving.close()
    } finally {
      await ctx.close()
    }
    report({ type: 'stopped' })
  }
}
