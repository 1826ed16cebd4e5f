import { Args, Flags } from '@oclif/core'
import { BaseCommand } from '../../cli/base-command.js'
import { downloadReporter, resolveModel, sha256File } from '../../encoder/index.js'

export default class ModelsPull extends BaseCommand {
  static override description = `Fetch a model into the cache so later runs work offline: hf:owner/name[@revision] downloads
(tokenizer.json, the ONNX file, config.json and tokenizer_config.json when present), builtin:NAME builds.
HF_ENDPOINT selects a mirror; HF_TOKEN is sent for gated models.`

  static override examples = [
    '<%= config.bin %> models pull builtin:starter',
    '<%= config.bin %> models pull hf:BAAI/bge-small-en-v1.5@main',
    'HF_ENDPOINT=https://hf-mirror.example <%= config.bin %> models pull hf:sentence-transformers/all-MiniLM-L6-v2 --file onnx/model_quantized.onnx',
  ]

  static override args = {
    source: Args.string({ description: 'hf:owner/name[@revision], builtin:NAME or a model directory.', required: true }),
  }

  static override flags = {
    file: Flags.string({ description: 'ONNX file inside the repository (default onnx/model.onnx, then model.onnx).' }),
    sha256: Flags.string({ description: 'Expected sha256 of the ONNX file.' }),
  }

  async run(): Promise<void> {
    const { args, flags } = await this.parse(ModelsPull)
    const progress = downloadReporter()
    const model = await resolveModel(
      { source: args.source, ...(flags.file ? { file: flags.file } : {}), ...(flags.sha256 ? { sha256: flags.sha256 } : {}) },
      { log: (m) => this.note(m), onDownload: this.wantsJson ? undefined : progress.onDownload },
    ).finally(() => progress.stop())
    const sha256 = await sha256File(model.onnxPath)
    this.emit({ source: args.source, ...model, sha256 }, () => `${args.source} → ${model.dir}\n  onnx ${model.onnxPath}\n  sha256 ${sha256}`)
  }
}
