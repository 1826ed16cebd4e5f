import { inputError } from '../core/errors.js'
import type { PaddedBatch } from './batching.js'
import type { SessionHandle, TensorData } from './session-thread.js'

/** What one session.run returned for a batch: the named output as a flat float array plus its shape. */
export interface RunOutput {
  data: Float32Array
  dims: readonly number[]
}

/**
 * Feeds only the inputs the graph declares (session.inputNames): that is how one path serves a
 * static-embedding model (ids + mask), a BERT (ids + mask + segments) and a decoder.
 * Time spent inside session.run is accumulated so callers can report pipeline overhead.
 */
export class ModelRunner {
  runMs = 0
  private readonly output: string

  constructor(
    readonly session: SessionHandle,
    preferredOutputs: readonly string[],
    private readonly onnxPath: string,
  ) {
    const known = session.inputNames.filter((n) => !['input_ids', 'attention_mask', 'token_type_ids'].includes(n))
    if (!session.inputNames.includes('input_ids') || known.length > 0) {
      throw inputError('E_MODEL_INPUTS', `ONNX model inputs [${session.inputNames.join(', ')}] are not supported: expected input_ids with optional attention_mask and token_type_ids`, {
        location: { file: onnxPath },
      })
    }
    this.output = preferredOutputs.find((n) => session.outputNames.includes(n)) ?? session.outputNames[0] ?? ''
  }

  async run(b: PaddedBatch): Promise<RunOutput> {
    const dims = [b.batch, b.seqLen]
    const feeds: Record<string, TensorData> = {}
    for (const name of this.session.inputNames) {
      const data = name === 'input_ids' ? b.inputIds : name === 'attention_mask' ? b.attentionMask : b.tokenTypeIds
      feeds[name] = { type: 'int64', data, dims }
    }
    const started = performance.now()
    const result = await this.session.run(feeds, [this.output])
    this.runMs += performance.now() - started
    const out = result[this.output]
    if (!out || out.type !== 'float32') {
      throw inputError('E_MODEL_OUTPUTS', `ONNX model output ${this.output} is ${out?.type ?? 'missing'}, expected float32`, { location: { file: this.onnxPath } })
    }
    return { data: out.data as Float32Array, dims: out.dims }
  }

  async close(): Promise<void> {
    await this.session.release()
  }
}
