/**
 * POST /v1/embeddings, as the OpenAI API defines it: `model` is a collection (its live generation)
 * or a profile; `input` a string, strings, or token-id arrays; `encoding_format` float or base64
 * (the openai client asks for base64 by default); `dimensions` for Matryoshka truncation where the
 * profile allows it; `usage` counts the tokens the model really saw. Extension: `input_type`
 * query|document picks the profile's prefix (default document).
 */
import type { FastifyInstance } from 'fastify'
import { l2Normalize } from '../../encoder/index.js'
import { badRequest } from '../api-error.js'
import type { ModelRouter } from '../model-router.js'
import type { ModelSlot } from '../model-slot.js'
import type { ServeOptions } from '../options.js'
import { signalOf } from '../request-context.js'
import { parseEmbeddingsRequest } from '../request-parse.js'
import { setModelHeaders } from './model-headers.js'

export interface EmbeddingsResponse {
  object: 'list'
  data: { object: 'embedding'; index: number; embedding: number[] | string }[]
  model: string
  usage: { prompt_tokens: number; total_tokens: number }
}

/** Little-endian float32 bytes, base64: what OpenAI sends and its clients decode. */
export function toBase64(v: Float32Array): string {
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64')
}

/**
 * A shorter prefix of each vector, renormalized when the profile normalizes — the same cut the
 * profile itself applies (pooling → truncation → normalization). Only profiles that already cut a
 * wider model's output may be cut further: that is how a profile says its model is Matryoshka-trained.
 */
function checkDimensions(dimensions: number, slot: ModelSlot): void {
  const p = slot.profile
  if (dimensions === p.dimensions) return
  if (dimensions > p.dimensions) throw badRequest(`'dimensions' is ${dimensions}, but profile "${p.name}" makes ${p.dimensions}-dimensional vectors`, 'dimensions')
  if (!slot.truncatable) {
    throw badRequest(
      `profile "${p.name}" keeps its model's full ${p.dimensions} dimensions, so it does not declare Matryoshka truncation; 'dimensions' must be ${p.dimensions} (a profile whose dimensions are below its model's width may be cut further)`,
      'dimensions',
    )
  }
}

function cut(v: Float32Array, dimensions: number, normalize: boolean): Float32Array {
  if (v.length <= dimensions) return v
  const head = v.slice(0, dimensions)
  return normalize ? l2Normalize(head) : head
}

export function registerEmbeddings(app: FastifyInstance, router: ModelRouter, options: ServeOptions): void {
  app.post('/v1/embeddings', async (request, reply): Promise<EmbeddingsResponse> => {
    const req = parseEmbeddingsRequest(request.body, options)
    const route = await router.acquire(req.model)
    try {
      const slot = route.slot
      if (req.dimensions !== undefined) checkDimensions(req.dimensions, slot)
      const texts = req.inputs.map((input) => (input.kind === 'text' ? input.text : slot.codec.decode(input.ids, input.param)))
      const { vectors, tokens } = await slot.embed(texts, req.inputType, signalOf(request))
      const used = tokens.reduce((a, b) => a + b, 0)
      setModelHeaders(reply, route)
      return {
        object: 'list',
        data: vectors.map((v, index) => {
          const out = req.dimensions === undefined ? v : cut(v, req.dimensions, slot.profile.normalize)
          return { object: 'embedding', index, embedding: req.encodingFormat === 'base64' ? toBase64(out) : Array.from(out) }
        }),
        model: req.model,
        usage: { prompt_tokens: used, total_tokens: used },
      }
    } finally {
      route.release()
    }
  })
}
