import { resolve } from 'node:path'
import { Args, Flags } from '@oclif/core'
import { BaseCommand } from '../../cli/base-command.js'
import { downloadReporter, resolveModel } from '../../encoder/index.js'
import { ensureQuantized } from '../../models/index.js'

const mib = (n: number) => `${(n / (1 << 20)).toFixed(1)} MiB`

export default class ModelsQuantize extends BaseCommand {
  static override description = `Make an int8 dynamically quantized copy of a model's ONNX file and cache it.
MatMul weights become int8 with one scale per output column, embedding tables (Gather) int8 with one scale
per row, and activations are quantized per batch at run time (DynamicQuantizeLinear + MatMulInteger, which
onnxruntime fuses into one kernel on CPU). The tokenizer is unchanged.

A profile runs the int8 copy with \`model: { source: ..., quantize: int8 }\` (quantized on first use if this
command was not run). Vectors change slightly, so quantize is part of the fingerprint: switching re-embeds.
Check the quality cost before switching with \`embedform eval\` on both profiles.`

  static override examples = [
    '<%= config.bin %> models quantize builtin:bge-small-shape',
    '<%= config.bin %> models quantize hf:BAAI/bge-small-en-v1.5@main --json',
    '<%= config.bin %> models quantize ./models/my-model --out ./models/my-model/onnx/model_int8.onnx',
  ]

  static override args = {
    source: Args.string({ description: 'hf:owner/name[@revision], builtin:NAME, a model directory, or an .onnx file.', required: true }),
  }

  static override flags = {
    file: Flags.string({ description: 'ONNX file inside the model (default onnx/model.onnx, then model.onnx).' }),
    out: Flags.string({ description: 'Write the int8 model to this file instead of the cache.' }),
    force: Flags.boolean({ description: 'Quantize again even if an up-to-date int8 copy is cached.', default: false }),
    offline: Flags.boolean({ description: 'Never download model files (same as HF_HUB_OFFLINE=1).', default: false }),
  }

  async run(): Promise<void> {
    const { args, flags } = await this.parse(ModelsQuantize)
    const log = (m: string): void => this.note(m)
    let onnxPath: string
    if (args.source.endsWith('.onnx')) onnxPath = resolve(args.source)
    else {
      const progress = downloadReporter()
      const model = await resolveModel(
        { source: args.source, ...(flags.file ? { file: flags.file } : {}) },
        { offline: flags.offline, log, onDownload: this.wantsJson ? undefined : progress.onDownload },
      ).finally(() => progress.stop())
      onnxPath = model.onnxPath
    }
    const q = await ensureQuantized(onnxPath, { force: flags.force, log, ...(flags.out ? { outFile: resolve(flags.out) } : {}) })
    const r = q.manifest.report
    this.emit({ ok: true, source: args.source, sourceOnnx: onnxPath, int8Onnx: q.path, built: q.built, sha256: q.manifest.onnx.sha256, buildMs: q.manifest.buildMs, ...r }, () =>
      [
        `${q.built ? 'quantized' : 'current  '} ${args.source} → ${q.path}`,
        `  ${r.matmuls} MatMul and ${r.gathers} Gather weights to int8: ${mib(r.bytesIn)} → ${mib(r.bytesOut)}`,
        `  sha256 ${q.manifest.onnx.sha256}`,
        `  use it: model: { source: ${args.source}, quantize: int8 }`,
      ].join('\n'),
    )
  }
}
