import { Flags } from '@oclif/core'
import { BaseCommand } from '../cli/base-command.js'
import { inputError } from '../core/errors.js'
import { loadConfig } from '../config/index.js'
import { overrideFlags, overridesFromFlags } from '../config/flags.js'
import { defaultThreads, downloadReporter, measureBatchSize, openEncoder, peakRssMiB, selectedProfile, type BatchSizeResult } from '../encoder/index.js'
import { loadPassages } from '../sample/spam-corpus.js'

function parseBatchSizes(value: string): number[] {
  const sizes = value.split(',').map((s) => Number(s.trim()))
  if (sizes.length === 0 || sizes.some((n) => !Number.isInteger(n) || n < 1)) {
    throw inputError('E_USAGE', `--batch-sizes must be a comma-separated list of positive integers, got "${value}"`, { location: { path: '--batch-sizes' } })
  }
  return [...new Set(sizes)].sort((a, b) => a - b)
}

export default class Bench extends BaseCommand {
  static override description = `Measure the encoder of a profile on this machine: texts/s and p50/p95 latency per batch size,
peak RSS and the execution provider. Texts are real emails (SpamAssassin corpus) chunked like a backfill.`

  static override examples = [
    '<%= config.bin %> bench --profile starter',
    '<%= config.bin %> bench --profile starter --batch-sizes 1,8,32 --texts 256 --json',
  ]

  static override flags = {
    ...overrideFlags,
    'batch-sizes': Flags.string({ description: 'Comma-separated batch sizes to measure.', default: '1,8,32,128' }),
    texts: Flags.integer({ description: 'Texts encoded per batch size.', default: 256, min: 1 }),
    words: Flags.integer({ description: 'Words per text chunk.', default: 160, min: 1 }),
    offline: Flags.boolean({ description: 'Never download model files (same as HF_HUB_OFFLINE=1).', default: false }),
  }

  async run(): Promise<void> {
    const { flags } = await this.parse(Bench)
    const sizes = parseBatchSizes(flags['batch-sizes'])
    const config = await loadConfig({ configPath: flags.config, overrides: overridesFromFlags(flags) })
    const base = selectedProfile(config)
    const texts = loadPassages({ limit: flags.texts, words: flags.words }).map((p) => `${p.title}\n${p.body}`)
    const progress = downloadReporter()
    // One session for all sizes; its batch size is the largest so every timed call is one session.run.
    const profile = { ...base, batchSize: Math.max(...sizes) }
    const encoder = await openEncoder(profile, { offline: flags.offline, log: (m) => this.note(m), onDownload: progress.onDownload }).finally(() => progress.stop())
    const results: BatchSizeResult[] = []
    try {
      for (const size of sizes) {
        this.note(`batch size ${size}: encoding ${texts.length} texts…`)
        results.push(await measureBatchSize(encoder, texts, size))
      }
    } finally {
      await encoder.close()
    }
    const report = { profile: base.name, model: base.model.source, provider: encoder.provider, threads: base.threads ?? defaultThreads(), dimensions: encoder.dimensions, peakRssMiB: peakRssMiB(), results }
    this.emit(report, () =>
      [
        `profile ${base.name} (${base.model.source}) on ${encoder.provider}, peak RSS ${report.peakRssMiB} MiB`,
        'batch  texts/s   p50 ms   p95 ms  overhead',
        ...results.map((r) => `${String(r.batchSize).padStart(5)}  ${String(r.textsPerSecond).padStart(7)}  ${String(r.p50Ms).padStart(7)}  ${String(r.p95Ms).padStart(7)}  ${r.overheadPct}%`),
      ].join('\n'),
    )
  }
}
