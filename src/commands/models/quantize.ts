import { resolve } from 'node:path'
import { Args, Flags } from '@oclif/core'
import { BaseCommand } from '../../cli/base-command.js'
import { downloadReporter, resolveModel } from '../../encoder/index.js'
import { ensureQuantized, type Quantization, type QuantizationManifest } from '../../models/index.js'

const mib = (n: number) => `${(n / (1 << 20)).toFixed(1)} MiB`

function summary(m: QuantizationManifest): string {
  if (m.method === 'fp16') {
    const f = m.report
    return `  ${f.tensors} weights, ${f.constants} constants and ${f.casts} casts to float16 (${f.clamped} values clamped, ${f.ioCasts} float32 inputs/outputs kept): ${mib(f.bytesIn)} → ${mib(f.bytesOut)}`
  }
  const r = m.report
  return `  ${r.matmuls} MatMul and ${r.gathers} Gather weights to int8: ${mib(r.bytesIn)} → ${mib(r.bytesOut)}`
}

export default class ModelsQuantize extends BaseCommand {
  static override description = `Make a reduced-precision copy of a model's ONNX file and cache it: int8 for CPUs, fp16 for GPUs.

--to int8 (default): MatMul weights become int8 with one scale per output column, embedding tables (Gather) int8
with one scale per row, and activations are quantized per batch at run time (DynamicQuantizeLinear +
MatMulInteger, which onnxruntime fuses into one kernel on CPU). About 4× smaller and faster on CPU.

--to fp16: every weight, constant and cast becomes float16, so the graph computes in half precision (what a GPU
runs natively); float32 inputs and outputs stay float32 through a Cast at the edge, as onnxruntime's float16 tool
does with keep_io_types. Half the size. onnxruntime's CPU provider runs it too (ops without a float16 kernel run
in float32), but slower than fp32: it is meant for \`device: cuda\`.

The tokenizer is unchanged. A profile runs the copy with \`model: { source: ..., quantize: int8 }\` (or fp16),
made on first use if this command was not run. Vectors change slightly, so quantize is part of the fingerprint:
switching re-embeds. Check the quality cost before switching with \`embedform eval\` on both profiles.`

  static override examples = [
    '<%= config.bin %> models quantize builtin:bge-small-shape',
    '<%= config.bin %> models quantize builtin:bge-small-shape --to fp16 --json',
    '<%= config.bin %> models quantize hf:BAAI/bge-small-en-v1.5@main --json',
    '<%= config.bin %> models quantize ./models/my-model --to fp16 --out ./models/my-model/onnx/model_fp16.onnx',
  ]

  static override args = {
    source: Args.string({ description: 'hf:owner/name[@revision], builtin:NAME, a model directory, or an .onnx file.', required: true }),
  }

  static override flags = {
    to: Flags.string({ description: 'Precision of the copy: int8 (CPU) or fp16 (GPU).', options: ['int8', 'fp16'], default: 'int8' }),
    file: Flags.string({ description: 'ONNX file inside the model (default onnx/model.onnx, then model.onnx).' }),
    out: Flags.string({ description: 'Write the copy to this file instead of the cache.' }),
    force: Flags.boolean({ description: 'Convert again even if an up-to-date copy is cached.', default: false }),
    offline: Flags.boolean({ description: 'Never download model files (same as HF_HUB_OFFLINE=1).', default: false }),
  }

  async run(): Promise<void> {
    const { args, flags } = await this.parse(ModelsQuantize)
    const precision = flags.to as Quantization
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
    const q = await ensureQuantized(onnxPath, { precision, force: flags.force, log, ...(flags.out ? { outFile: resolve(flags.out) } : {}) })
    this.emit(
      { ok: true, source: args.source, precision, sourceOnnx: onnxPath, [`${precision}Onnx`]: q.path, built: q.built, sha256: q.manifest.onnx.sha256, buildMs: q.manifest.buildMs, ...q.manifest.report },
      () =>
        [
          `${q.built ? (precision === 'int8' ? 'quantized' : 'converted') : 'current  '} ${args.source} → ${q.path}`,
          summary(q.manifest),
          `  sha256 ${q.manifest.onnx.sha256}`,
          `  use it: model: { source: ${args.source}, quantize: ${precision} }`,
        ].join('\n'),
    )
  }
}
