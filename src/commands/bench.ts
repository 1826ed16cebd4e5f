import { Flags } from '@oclif/core'
import { BaseCommand } from '../cli/base-command.js'
import { inputError } from '../core/errors.js'
import { loadConfig } from '../config/index.js'
import { overrideFlags, overridesFromFlags } from '../config/flags.js'
import { compareEncoders, defaultVariants, parseVariants, precisionOf, runBenchWorkerIfAsked, type CompareReport } from '../encoder/bench/index.js'
import { defaultThreads, downloadReporter, measureBatchSize, openEncoder, peakRssMiB, selectedProfile, type BatchSizeResult } from '../encoder/index.js'
import type { Profile } from '../core/types.js'
import { loadPassages } from '../sample/spam-corpus.js'

function parseBatchSizes(value: string): number[] {
  const sizes = value.split(',').map((s) => Number(s.trim()))
  if (sizes.length === 0 || sizes.some((n) => !Number.isInteger(n) || n < 1)) {
    throw inputError('E_USAGE', `--batch-sizes must be a comma-separated list of positive integers, got "${value}"`, { location: { path: '--batch-sizes' } })
  }
  return [...new Set(sizes)].sort((a, b) => a - b)
}

function renderComparison(r: CompareReport): string {
  const rows = Object.entries(r.variants).map(([id, v]) => {
    const t = v.textsPerSecond
    const waste = v.paddedTokenWastePct === undefined ? '' : `  waste ${v.paddedTokenWastePct}%`
    return `${id.padEnd(28)} ${String(t.median).padStart(8)} ${`(${t.min}–${t.max})`.padEnd(16)} ${String(v.cpuSecondsPer1000Texts).padStart(8)} ${String(v.peakRssMiB).padStart(8)}${waste}`
  })
  return [
    `${r.profile} (${r.model}) on ${r.device}, ${r.threads} threads, batch ${r.batchSize}, ${r.texts} texts × ${r.rounds} interleaved rounds`,
    `load average ${r.loadAverage1m.min}–${r.loadAverage1m.max} (median ${r.loadAverage1m.median}) on ${r.machine.cpus} CPUs`,
    `${'variant'.padEnd(28)} ${'texts/s'.padStart(8)} ${'(min–max)'.padEnd(16)} ${'CPU s/1k'.padStart(8)} ${'RSS MiB'.padStart(8)}`,
    ...rows,
    ...Object.entries(r.ratios).map(([k, v]) => `${k}: ${v.median}× (min ${v.min}×)`),
    ...Object.entries(r.quality).map(([k, v]) => `${k}: min ${v.min}, median ${v.median}`),
    ...Object.entries(r.skipped).map(([k, why]) => `skipped ${k}: ${why}`),
  ].join('\n')
}

export default class Bench extends BaseCommand {
  static override description = `Measure the encoder of a profile on this machine.

By default, compare embedform against transformers.js on the profile's model, in interleaved rounds, each run
in its own process: embedform fp32 and int8 (model.quantize), batched by token budget and by count, and
transformers.js called naively and with length-sorted input (when @huggingface/transformers is installed).
Prints texts/s (min/median/max), CPU seconds per 1,000 texts, peak RSS, padded-token waste, the load average,
and the cosine of int8 to fp32 vectors. Same JSON as bench/encoder.ts.

--device cuda runs the same comparison on a GPU and adds fp16 (embedform-fp16, transformersjs-fp16-sorted,
on the model converted by \`models quantize --to fp16\`), so the JSON compares directly with a PyTorch fp16 run of
the same model (docs/encoder.md). Without the CUDA provider it stops before any run with the command that
installs it.

With --batch-sizes, instead measure texts/s and p50/p95 latency per batch size.
Texts are real emails (SpamAssassin corpus) chunked like a backfill.`

  static override examples = [
    '<%= config.bin %> bench --profile starter --json',
    '<%= config.bin %> bench --profile bge --device cuda --rounds 5 --texts 2000 --json',
    '<%= config.bin %> bench --profile starter --variants embedform-fp32,embedform-int8',
    '<%= config.bin %> bench --profile starter --batch-sizes 1,8,32 --texts 256 --json',
  ]

  static override flags = {
    ...overrideFlags,
    'batch-sizes': Flags.string({ description: 'Measure latency per batch size instead of comparing (comma-separated sizes).' }),
    texts: Flags.integer({ description: 'Texts encoded per run (per batch size with --batch-sizes).', default: 256, min: 1 }),
    words: Flags.integer({ description: 'Words per text chunk.', default: 160, min: 1 }),
    rounds: Flags.integer({ description: 'Interleaved rounds of the comparison.', default: 3, min: 1 }),
    variants: Flags.string({
      description: 'Comma-separated variants to compare (default all, fp16 only on cuda): embedform-{fp32,int8}[-count], embedform-fp16, transformersjs-{fp32,int8}-{naive,sorted}, transformersjs-fp16-sorted.',
    }),
    offline: Flags.boolean({ description: 'Never download model files (same as HF_HUB_OFFLINE=1).', default: false }),
  }

  async run(): Promise<void> {
    // A comparison runs each variant in a child process that re-invokes this command.
    if (await runBenchWorkerIfAsked()) return
    const { flags } = await this.parse(Bench)
    const config = await loadConfig({ configPath: flags.config, overrides: overridesFromFlags(flags) })
    const base = selectedProfile(config)
    if (flags['batch-sizes'] !== undefined) return this.sweep(base, parseBatchSizes(flags['batch-sizes']), flags)
    const variants = flags.variants === undefined ? defaultVariants(base.device) : parseVariants(flags.variants)
    // Resolve (download/build/quantize) once up front, so no timed child process pays for it; this
    // is also where a device that cannot start (no CUDA provider) fails, before any run.
    const progress = downloadReporter()
    const warm = await openEncoder(base, { offline: flags.offline, log: (m) => this.note(m), onDownload: progress.onDownload }).finally(() => progress.stop())
    await warm.close()
    for (const precision of new Set(variants.map(precisionOf))) {
      if (precision !== 'fp32') await (await openEncoder({ ...base, model: { ...base.model, quantize: precision } }, { offline: flags.offline })).close()
    }
    const report = await compareEncoders({ profile: base, texts: flags.texts, words: flags.words, rounds: flags.rounds, variants, log: (m) => this.note(m) })
    this.emit(report, () => renderComparison(report))
  }

  private async sweep(base: Profile, sizes: number[], flags: { texts: number; words: number; offline: boolean }): Promise<void> {
    const texts = loadPassages({ limit: flags.texts, words: flags.words }).map((p) => `${p.title}\n${p.body}`)
    const progress = downloadReporter()
    // One session for all sizes; its batch size is the largest so every timed call is one session.run.
    const profile = { ...base, batchSize: Math.max(...sizes) }
    const encoder = await openEncoder(profile, { offline: flags.offline, log: (m) => this.note(m), onDownload: progress.onDownload, tokenBudget: Number.POSITIVE_INFINITY }).finally(() =>
      progress.stop(),
    )
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
