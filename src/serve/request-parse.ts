/**
 * Request bodies are untrusted JSON: each route parses its body here, once, into a typed value,
 * and answers a bad one with a 400 naming the offending parameter, the way the OpenAI API does.
 */
import { isEmbedformError } from '../core/errors.js'
import type { TextKind } from '../encoder/types.js'
import { type GenerationSelector, parseGenerationSelector } from '../search/generation.js'
import { badRequest, fromEmbedformError } from './api-error.js'
import type { ServeOptions } from './options.js'

export type Limits = Pick<ServeOptions, 'maxInputs' | 'maxInputChars'>

/** Token arrays are ids in the vocabulary of the profile's own tokenizer (as text-embeddings-inference reads them). */
export type EmbeddingInput = ({ kind: 'text'; text: string } | { kind: 'tokens'; ids: number[] }) & {
  /** Where it sat in the body (`input`, `input[3]`), for error messages. */
  param: string
}

export interface EmbeddingsRequest {
  model: string
  inputs: EmbeddingInput[]
  encodingFormat: 'float' | 'base64'
  /** Matryoshka truncation below the profile's dimensions, where the profile allows it. */
  dimensions?: number
  /** Which prefix of the profile applies; default document. */
  inputType: TextKind
}

export interface RerankRequest {
  /** Collection or profile; undefined: the only configured collection. */
  model?: string
  query: string
  documents: string[]
  /** undefined: every document, ranked. */
  topN?: number
  returnDocuments: boolean
  /** Raw cross-encoder logits instead of sigmoid(logit) in [0, 1]. */
  rawScores: boolean
}

export interface SearchBody {
  query: string
  k?: number
  /** undefined: the generation profile's reranker.enabled. */
  rerank?: boolean
  hybrid: boolean
  generation: Exclude<GenerationSelector, { kind: 'all' }>
}

type Json = Record<string, unknown>

function object(body: unknown): Json {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw badRequest('the request body must be a JSON object', null, 'invalid_body')
  return body as Json
}

function describe(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v
}

function requiredString(o: Json, key: string): string {
  const v = o[key]
  if (v === undefined) throw badRequest(`you must provide '${key}'`, key, 'missing_required_parameter')
  if (typeof v !== 'string') throw badRequest(`'${key}' must be a string, got ${describe(v)}`, key, 'invalid_type')
  if (v.trim() === '') throw badRequest(`'${key}' must not be empty`, key)
  return v
}

function optionalBoolean(o: Json, key: string): boolean | undefined {
  const v = o[key]
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'boolean') throw badRequest(`'${key}' must be a boolean, got ${describe(v)}`, key, 'invalid_type')
  return v
}

function optionalPositiveInt(o: Json, key: string, max = Number.MAX_SAFE_INTEGER): number | undefined {
  const v = o[key]
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max) {
    throw badRequest(`'${key}' must be an integer from 1 to ${max}, got ${JSON.stringify(v)}`, key, typeof v === 'number' ? 'invalid_value' : 'invalid_type')
  }
  return v
}

function checkText(text: string, param: string, limits: Limits): string {
  if (text === '') throw badRequest(`'${param}' is an empty string; every input must contain text`, param, 'empty_input')
  if (text.length > limits.maxInputChars) {
    throw badRequest(`'${param}' has ${text.length} characters; this server accepts at most ${limits.maxInputChars} per input (--max-input-chars)`, param, 'input_too_long')
  }
  return text
}

function checkCount(n: number, param: string, limits: Limits): void {
  if (n === 0) throw badRequest(`'${param}' is an empty array; send at least one input`, param, 'empty_input')
  if (n > limits.maxInputs) throw badRequest(`'${param}' has ${n} items; this server accepts at most ${limits.maxInputs} per request (--max-inputs)`, param, 'too_many_inputs')
}

const isTokenId = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0

function tokenArray(v: unknown[], param: string, limits: Limits): EmbeddingInput {
  if (v.length === 0) throw badRequest(`'${param}' is an empty token array`, param, 'empty_input')
  if (v.length > limits.maxInputChars) throw badRequest(`'${param}' has ${v.length} tokens; this server accepts at most ${limits.maxInputChars} per input`, param, 'input_too_long')
  if (!v.every(isTokenId)) throw badRequest(`'${param}' must hold non-negative integer token ids`, param, 'invalid_type')
  return { kind: 'tokens', ids: v, param }
}

const INPUT_SHAPES = 'a string, an array of strings, an array of token ids or an array of token-id arrays'

function parseInputs(v: unknown, limits: Limits): EmbeddingInput[] {
  if (v === undefined) throw badRequest("you must provide 'input'", 'input', 'missing_required_parameter')
  if (typeof v === 'string') return [{ kind: 'text', text: checkText(v, 'input', limits), param: 'input' }]
  if (!Array.isArray(v)) throw badRequest(`'input' must be ${INPUT_SHAPES}, got ${describe(v)}`, 'input', 'invalid_type')
  if (v.length > 0 && v.every((x) => typeof x === 'number')) return [tokenArray(v, 'input', limits)]
  checkCount(v.length, 'input', limits)
  return v.map((item, i): EmbeddingInput => {
    const param = `input[${i}]`
    if (typeof item === 'string') return { kind: 'text', text: checkText(item, param, limits), param }
    if (Array.isArray(item)) return tokenArray(item, param, limits)
    throw badRequest(`'${param}' must be a string or an array of token ids, got ${describe(item)}; 'input' must be ${INPUT_SHAPES}`, param, 'invalid_type')
  })
}

export function parseEmbeddingsRequest(body: unknown, limits: Limits): EmbeddingsRequest {
  const o = object(body)
  const model = requiredString(o, 'model')
  const inputs = parseInputs(o.input, limits)
  const format = o.encoding_format ?? 'float'
  if (format !== 'float' && format !== 'base64') throw badRequest(`'encoding_format' must be "float" or "base64", got ${JSON.stringify(format)}`, 'encoding_format')
  const inputType = o.input_type ?? 'document'
  if (inputType !== 'query' && inputType !== 'document') {
    throw badRequest(`'input_type' must be "query" or "document" (which prefix of the profile applies), got ${JSON.stringify(inputType)}`, 'input_type')
  }
  if (o.user !== undefined && typeof o.user !== 'string') throw badRequest(`'user' must be a string, got ${describe(o.user)}`, 'user', 'invalid_type')
  const dimensions = optionalPositiveInt(o, 'dimensions')
  return { model, inputs, encodingFormat: format, inputType, ...(dimensions !== undefined ? { dimensions } : {}) }
}

function parseDocuments(o: Json, limits: Limits): string[] {
  const key = o.documents !== undefined ? 'documents' : 'texts'
  const v = o[key]
  if (v === undefined) throw badRequest("you must provide 'documents' (or 'texts')", 'documents', 'missing_required_parameter')
  if (!Array.isArray(v)) throw badRequest(`'${key}' must be an array of strings or of {"text": string} objects, got ${describe(v)}`, key, 'invalid_type')
  checkCount(v.length, key, limits)
  return v.map((d, i) => {
    const param = `${key}[${i}]`
    const text = typeof d === 'string' ? d : d !== null && typeof d === 'object' && typeof (d as Json).text === 'string' ? ((d as Json).text as string) : undefined
    if (text === undefined) throw badRequest(`'${param}' must be a string or a {"text": string} object, got ${describe(d)}`, param, 'invalid_type')
    return checkText(text, param, limits)
  })
}

/** The Cohere / Jina / text-embeddings-inference rerank shapes: documents or texts, top_n, return_documents or return_text. */
export function parseRerankRequest(body: unknown, limits: Limits): RerankRequest {
  const o = object(body)
  const model = o.model === undefined || o.model === null ? undefined : requiredString(o, 'model')
  const query = checkText(requiredString(o, 'query'), 'query', limits)
  const documents = parseDocuments(o, limits)
  const topN = optionalPositiveInt(o, 'top_n')
  const returnDocuments = optionalBoolean(o, 'return_documents') ?? optionalBoolean(o, 'return_text') ?? false
  const rawScores = optionalBoolean(o, 'raw_scores') ?? false
  return { query, documents, returnDocuments, rawScores, ...(model !== undefined ? { model } : {}), ...(topN !== undefined ? { topN } : {}) }
}

/** Most results a search may ask for: OpenSearch's k-NN ceiling, ample for pgvector. */
export const MAX_SEARCH_K = 10_000

export function parseSearchBody(body: unknown, limits: Limits): SearchBody {
  const o = object(body)
  const query = checkText(requiredString(o, 'query'), 'query', limits)
  const k = optionalPositiveInt(o, 'k', MAX_SEARCH_K)
  const rerank = optionalBoolean(o, 'rerank')
  const hybrid = optionalBoolean(o, 'hybrid') ?? false
  const g = o.generation ?? 'live'
  if (typeof g !== 'string') throw badRequest(`'generation' must be "live" or "gN", got ${describe(g)}`, 'generation', 'invalid_type')
  let generation: SearchBody['generation']
  try {
    generation = parseGenerationSelector(g, { allowAll: false })
  } catch (e) {
    if (isEmbedformError(e)) throw fromEmbedformError(e, 'generation')
    throw e
  }
  return { query, hybrid, generation, ...(k !== undefined ? { k } : {}), ...(rerank !== undefined ? { rerank } : {}) }
}

