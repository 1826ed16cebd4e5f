/**
 * `embedform serve` in-process on a real PGlite collection embedded with bert-tiny, called with
 * the official openai client (baseURL) and with plain fetch: vectors equal the encoder's own,
 * usage counts real tokens, token-id inputs, Matryoshka `dimensions`, profile names as models,
 * rerank and search over HTTP, OpenAI-style errors, auth, 429 backpressure and timeouts.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Tokenizer } from '@huggingface/tokenizers'
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { applyPlan } from '../../src/apply/index.js'
import { createEngineContext } from '../../src/cli/engine-context.js'
import { fingerprint } from '../../src/core/fingerprint.js'
import type { Profile } from '../../src/core/types.js'
import { openEncoder, openReranker, resolveModel } from '../../src/encoder/index.js'
import type { Encoder, OpenEncoder } from '../../src/encoder/types.js'
import type { EngineContext } from '../../src/plan/types.js'
import { makePlan } from '../../src/plan/index.js'
import { searchCollection } from '../../src/search/run.js'
import { SERVE_DEFAULTS, type ServeOptions, type Serving, startServe } from '../../src/serve/index.js'
import { pgliteBodyConfig } from '../helpers/cli.js'
import { buildRetrievalSet, seedPglite } from '../helpers/retrieval-set.js'

const TINY = `model: { source: "builtin:bert-tiny" }
dimensions: 16
pooling: mean
normalize: true
max_tokens: 128
batch_size: 64
device: cpu
prefixes: { query: "query: ", document: "passage: " }
reranker:
  enabled: false
  model: { source: "builtin:cross-encoder-tiny" }
  top_k: 20
  return_top_k: 3
index:
  metric: cosine
  pgvector: { type: hnsw, m: 16, ef_construction: 64 }
`
/** The model's full width (32): a profile that does not truncate, and has no reranker. */
const FULL = `model: { source: "builtin:bert-tiny" }
dimensions: 32
pooling: mean
normalize: true
max_tokens: 128
batch_size: 64
device: cpu
index:
  metric: cosine
  pgvector: { type: hnsw, m: 16, ef_construction: 64 }
`
const TEXTS = ['cheap mortgage rates', 'the linux kernel scheduler', 'free vacation offer for you', 'meeting notes from tuesday']

let dir: string
let ctx: EngineContext
let serving: Serving
let client: OpenAI
const encoders: Encoder[] = []
const servers: Serving[] = []

function options(over: Partial<ServeOptions> = {}): ServeOptions {
  return { ...SERVE_DEFAULTS, port: 0, pollIntervalMs: 60_000, maxInputs: 16, maxQueuedTexts: 4096, maxInputChars: 4000, ...over }
}

async function serve(over: Partial<ServeOptions> = {}, context: EngineContext = ctx): Promise<Serving> {
  const s = await startServe(context, options(over))
  servers.push(s)
  return s
}

const clientFor = (s: Serving, apiKey = 'not-checked') => new OpenAI({ baseURL: `${s.url}/v1`, apiKey, maxRetries: 0 })

async function encoderFor(p: Profile): Promise<Encoder> {
  const e = await openEncoder(p)
  encoders.push(e)
  return e
}

const profile = (name: string): Profile => ctx.config.profiles[name] as Profile
const asArrays = (vs: ArrayLike<number>[]) => vs.map((v) => Array.from(Float32Array.from(v)))

async function post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; json: any }> {
  const r = await fetch(`${serving.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) })
  return { status: r.status, headers: r.headers, json: await r.json() }
}

/** The openai client's error for a call that must fail. */
async function apiError(call: Promise<unknown>): Promise<InstanceType<typeof OpenAI.APIError>> {
  const e = await call.then(
    () => undefined,
    (err: unknown) => err,
  )
  expect(e).toBeInstanceOf(OpenAI.APIError)
  return e as InstanceType<typeof OpenAI.APIError>
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'embedform-serve-api-'))
  const set = buildRetrievalSet(join(dir, 'eval'), { queries: 30, distractors: 30 })
  await seedPglite(join(dir, 'pglite'), set.corpus)
  mkdirSync(join(dir, 'profiles'))
  writeFileSync(join(dir, 'profiles', 'tiny.yaml'), TINY)
  writeFileSync(join(dir, 'profiles', 'tiny-full.yaml'), FULL)
  writeFileSync(join(dir, 'embedding.config.yaml'), pgliteBodyConfig('tiny'))
  ctx = await createEngineContext(join(dir, 'embedding.config.yaml'), { cwd: dir })
  await applyPlan(ctx, await makePlan(ctx))
  serving = await serve()
  client = clientFor(serving)
})

afterAll(async () => {
  for (const s of servers) await s.close()
  for (const e of encoders) await e.close()
  await ctx?.close()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

describe('POST /v1/embeddings with the openai client', () => {
  it('returns exactly the vectors the profile encoder makes, documents by default and queries with input_type', async () => {
    const direct = await encoderFor(profile('tiny'))
    const docs = await client.embeddings.create({ model: 'docs', input: TEXTS })
    expect(docs.data.map((d) => d.index)).toEqual([0, 1, 2, 3])
    expect(asArrays(docs.data.map((d) => d.embedding))).toEqual(asArrays(await direct.encode(TEXTS, 'document')))
    const queries = await client.embeddings.create({ model: 'docs', input: TEXTS, input_type: 'query' } as OpenAI.EmbeddingCreateParams)
    expect(asArrays(queries.data.map((d) => d.embedding))).toEqual(asArrays(await direct.encode(TEXTS, 'query')))
    expect(queries.data[0]!.embedding).not.toEqual(docs.data[0]!.embedding)
  })

  it('answers float as well as base64, and names the generation and fingerprint in headers', async () => {
    const { data, response } = await client.embeddings.create({ model: 'docs', input: TEXTS[0]!, encoding_format: 'float' }).withResponse()
    const viaBase64 = await client.embeddings.create({ model: 'docs', input: TEXTS[0]! })
    expect(Array.from(Float32Array.from(data.data[0]!.embedding))).toEqual(viaBase64.data[0]!.embedding)
    expect(data.model).toBe('docs')
    expect(response.headers.get('x-embedform-generation')).toBe('g1')
    expect(response.headers.get('x-embedform-collection')).toBe('docs')
    expect(response.headers.get('x-embedform-fingerprint')).toBe(fingerprint(profile('tiny')))
    expect(response.headers.get('x-embedform-profile')).toBe('tiny')
  })

  it('counts usage in the tokens the model saw: prefix and special tokens included, truncated at max_tokens', async () => {
    const model = await resolveModel(profile('tiny').model)
    const tok = new Tokenizer(JSON.parse(readFileSync(model.tokenizerPath, 'utf8')), {})
    const expected = TEXTS.map((t) => tok.encode(`passage: ${t}`).ids.length).reduce((a, b) => a + b, 0)
    const r = await client.embeddings.create({ model: 'docs', input: TEXTS })
    expect(r.usage).toEqual({ prompt_tokens: expected, total_tokens: expected })
    const long = await client.embeddings.create({ model: 'docs', input: 'word '.repeat(500) })
    expect(long.usage.prompt_tokens).toBe(128)
  })

  it('takes token-id arrays in the model vocabulary and encodes them like their text', async () => {
    const model = await resolveModel(profile('tiny').model)
    const tok = new Tokenizer(JSON.parse(readFileSync(model.tokenizerPath, 'utf8')), {})
    const ids = TEXTS.map((t) => tok.encode(t, { add_special_tokens: false }).ids)
    const byText = await client.embeddings.create({ model: 'docs', input: TEXTS })
    const byIds = await client.embeddings.create({ model: 'docs', input: ids })
    expect(byIds.data.map((d) => d.embedding)).toEqual(byText.data.map((d) => d.embedding))
    const single = await client.embeddings.create({ model: 'docs', input: ids[0]! })
    expect(single.data[0]!.embedding).toEqual(byText.data[0]!.embedding)
    const unknown = await apiError(client.embeddings.create({ model: 'docs', input: [[1, 99_999_999]] }))
    expect(unknown).toMatchObject({ status: 400, param: 'input[0]', code: 'invalid_token' })
  })

  it('cuts to `dimensions` where the profile already truncates a wider model, and refuses elsewhere', async () => {
    const cut = await encoderFor({ ...profile('tiny'), dimensions: 8 })
    const r = await client.embeddings.create({ model: 'docs', input: TEXTS, dimensions: 8 })
    const expected = asArrays(await cut.encode(TEXTS, 'document'))
    r.data.forEach((d, i) => d.embedding.forEach((x, j) => expect(x).toBeCloseTo(expected[i]![j]!, 6)))
    expect(await apiError(client.embeddings.create({ model: 'docs', input: 'x', dimensions: 17 }))).toMatchObject({ status: 400, param: 'dimensions' })
    expect(await apiError(client.embeddings.create({ model: 'tiny-full', input: 'x', dimensions: 8 }))).toMatchObject({ status: 400, param: 'dimensions' })
  })

  it('serves a profile by name, with its fingerprint and no generation', async () => {
    const full = await encoderFor(profile('tiny-full'))
    const { data, response } = await client.embeddings.create({ model: 'tiny-full', input: TEXTS }).withResponse()
    expect(asArrays(data.data.map((d) => d.embedding))).toEqual(asArrays(await full.encode(TEXTS, 'document')))
    expect(response.headers.get('x-embedform-fingerprint')).toBe(fingerprint(profile('tiny-full')))
    expect(response.headers.get('x-embedform-generation')).toBeNull()
  })

  it('gives 300 concurrent single-text requests each its own vector, batched across requests', async () => {
    const direct = await encoderFor(profile('tiny'))
    const texts = Array.from({ length: 300 }, (_, i) => `message ${i} about topic ${i % 7} and ${'more '.repeat(i % 5)}`)
    const expected = asArrays(await direct.encode(texts, 'document'))
    const got = await Promise.all(texts.map((t) => client.embeddings.create({ model: 'docs', input: t }).then((r) => r.data[0]!.embedding)))
    expect(asArrays(got)).toEqual(expected)
    const metrics = await (await fetch(`${serving.url}/metrics`)).text()
    const single = Number(/embedform_serve_batch_requests_bucket\{le="1"\} (\d+)/.exec(metrics)?.[1])
    const batches = Number(/embedform_serve_batch_requests_count (\d+)/.exec(metrics)?.[1])
    // Some encode calls carried several requests: fewer calls than requests.
    expect(single).toBeLessThan(batches)
  })
})

describe('bad requests get 4xx with an OpenAI-style error body', () => {
  it.each([
    ['an empty input', { model: 'docs', input: '' }, 400, 'input', 'empty_input'],
    ['an empty input array', { model: 'docs', input: [] }, 400, 'input', 'empty_input'],
    ['too many inputs', { model: 'docs', input: Array.from({ length: 17 }, () => 'x') }, 400, 'input', 'too_many_inputs'],
    ['an input over the character limit', { model: 'docs', input: 'x'.repeat(4001) }, 400, 'input', 'input_too_long'],
    ['an unknown model', { model: 'nope', input: 'x' }, 404, 'model', 'model_not_found'],
    ['a number as input', { model: 'docs', input: 42 }, 400, 'input', 'invalid_type'],
    ['a number as model', { model: 7, input: 'x' }, 400, 'model', 'invalid_type'],
    ['an unknown encoding_format', { model: 'docs', input: 'x', encoding_format: 'int8' }, 400, 'encoding_format', 'invalid_value'],
  ])('%s', async (_name, body, status, param, code) => {
    const e = await apiError(client.embeddings.create(body as unknown as OpenAI.EmbeddingCreateParams))
    expect(e.status).toBe(status)
    expect(e.error).toMatchObject({ type: expect.any(String), param, code, message: expect.any(String) })
    const raw = await post('/v1/embeddings', body)
    expect(raw.status).toBe(status)
    expect(Object.keys(raw.json.error).sort()).toEqual(['code', 'message', 'param', 'type'])
  })

  it('malformed JSON, a wrong content type and an unknown route', async () => {
    const bad = await post('/v1/embeddings', '{"model": ')
    expect(bad).toMatchObject({ status: 400, json: { error: { code: 'invalid_json', type: 'invalid_request_error' } } })
    const text = await fetch(`${serving.url}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hello' })
    expect(text.status).toBe(400)
    expect(((await text.json()) as any).error.code).toBe('invalid_body')
    const xml = await fetch(`${serving.url}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/xml' }, body: '<a/>' })
    expect(xml.status).toBe(415)
    expect(((await xml.json()) as any).error.code).toBe('unsupported_media_type')
    const missing = await post('/v2/embeddings', {})
    expect(missing).toMatchObject({ status: 404, json: { error: { code: 'unknown_url' } } })
  })
})

describe('rerank and search over HTTP', () => {
  const docs = ['cheap mortgage rates today', 'linux kernel scheduler internals', 'refinance your mortgage', 'vacation offers']

  it('POST /v1/rerank ranks with the profile cross-encoder (Cohere shape, sigmoid scores)', async () => {
    const settings = profile('tiny').reranker!
    const reranker = await openReranker(settings)
    const expected = await reranker.rerank('mortgage', docs, 2)
    await reranker.close()
    const r = await post('/v1/rerank', { model: 'docs', query: 'mortgage', documents: docs, top_n: 2, return_documents: true })
    expect(r.status).toBe(200)
    expect(r.headers.get('x-embedform-generation')).toBe('g1')
    expect(r.json.results).toEqual(expected.map((e) => ({ index: e.index, relevance_score: 1 / (1 + Math.exp(-e.score)), document: { text: docs[e.index] } })))
    const tei = await post('/rerank', { query: 'mortgage', texts: docs, raw_scores: true })
    expect(tei.json.map((x: { index: number }) => x.index).slice(0, 2)).toEqual(expected.map((e) => e.index))
    expect(tei.json[0].score).toBeCloseTo(expected[0]!.score, 6)
    expect(tei.json).toHaveLength(docs.length)
  })

  it('refuses rerank with a profile that has no reranker', async () => {
    const r = await post('/v1/rerank', { model: 'tiny-full', query: 'q', documents: ['a'] })
    expect(r).toMatchObject({ status: 400, json: { error: { code: 'reranker_not_configured' } } })
  })

  it('POST /v1/collections/docs/search answers what `embedform search` finds', async () => {
    const expected = await searchCollection(ctx, { query: 'cheap mortgage', generation: { kind: 'live' }, k: 5, hybrid: false, openReranker })
    const r = await post('/v1/collections/docs/search', { query: 'cheap mortgage', k: 5 })
    expect(r.status).toBe(200)
    expect(r.json.hits.map((h: { key: string }) => h.key)).toEqual(expected.hits.map((h) => h.key))
    expect(r.json.hits.map((h: { score: number }) => h.score)).toEqual(expected.hits.map((h) => h.score))
    const g1 = await post('/v1/collections/docs/search', { query: 'cheap mortgage', k: 5, generation: 'g1', rerank: true })
    expect(g1.json).toMatchObject({ generation: 1, reranked: true, retrieved: 20 })
    expect(g1.json.hits).toHaveLength(5)
    expect(await post('/v1/collections/docs/search', { query: 'q', generation: 'g9' })).toMatchObject({ status: 400, json: { error: { code: 'E_GENERATION_NOT_FOUND' } } })
    expect(await post('/v1/collections/nope/search', { query: 'q' })).toMatchObject({ status: 404, json: { error: { code: 'collection_not_found' } } })
  })

  it('GET /health, /v1/models and /metrics', async () => {
    const health = await (await fetch(`${serving.url}/health`)).json()
    expect(health).toMatchObject({ status: 'ok', collections: [{ collection: 'docs', status: 'ready', generation: 1, profile: 'tiny', fingerprint: fingerprint(profile('tiny')) }] })
    const models = await client.models.list()
    expect(models.data.map((m) => m.id).sort()).toEqual(['docs', 'tiny', 'tiny-full'])
    const metrics = await (await fetch(`${serving.url}/metrics`)).text()
    for (const series of ['embedform_serve_requests_total{', 'embedform_serve_batch_size_bucket', 'embedform_serve_encode_seconds_sum', 'embedform_serve_tokens_total{', 'embedform_serve_queue_depth{', 'embedform_serve_live_generation{collection="docs"']) {
      expect(metrics).toContain(series)
    }
  })
})

describe('auth, backpressure and timeouts', () => {
  it('requires the bearer token on every route but /health when one is configured', async () => {
    const s = await serve({ apiKey: 'sekret' })
    expect(await apiError(clientFor(s, 'wrong').embeddings.create({ model: 'docs', input: 'x' }))).toMatchObject({ status: 401, code: 'invalid_api_key' })
    const ok = await clientFor(s, 'sekret').embeddings.create({ model: 'docs', input: 'x' })
    expect(ok.data).toHaveLength(1)
    expect((await fetch(`${s.url}/v1/embeddings`, { method: 'POST' })).status).toBe(401)
    expect((await fetch(`${s.url}/metrics`)).status).toBe(401)
    expect((await fetch(`${s.url}/health`)).status).toBe(200)
  })

  /** The real encoder, held at the door of encode() until the test opens it. */
  function gatedContext() {
    let open!: () => void
    let entered!: () => void
    const gate = { opened: new Promise<void>((r) => (open = r)), entered: new Promise<void>((r) => (entered = r)), open: () => open() }
    const openGated: OpenEncoder = async (p, o) => {
      const real = await openEncoder(p, o)
      return {
        dimensions: real.dimensions,
        provider: real.provider,
        encodeStream: (b, k) => real.encodeStream(b, k),
        close: () => real.close(),
        async encode(texts, kind) {
          entered()
          await gate.opened
          return real.encode(texts, kind)
        },
      }
    }
    // Same stores (one PGlite backend), another encoder; closed by the main context.
    return { gate, context: { ...ctx, openEncoder: openGated } satisfies EngineContext }
  }

  it('answers 429 with Retry-After when the queue is full, and serves what it accepted', async () => {
    const { gate, context } = gatedContext()
    const s = await serve({ maxQueuedTexts: 4, maxInputs: 4 }, context)
    const c = clientFor(s)
    const first = c.embeddings.create({ model: 'docs', input: 'first' })
    await gate.entered
    const second = c.embeddings.create({ model: 'docs', input: ['a', 'b', 'c', 'd'] })
    await expect.poll(async () => ((await (await fetch(`${s.url}/health`)).json()) as any).models[0].queued).toBe(4)
    const refused = await apiError(c.embeddings.create({ model: 'docs', input: 'one too many' }))
    expect(refused).toMatchObject({ status: 429, code: 'queue_full', type: 'rate_limit_error' })
    expect(Number(refused.headers?.get('retry-after'))).toBeGreaterThanOrEqual(1)
    gate.open()
    expect((await first).data).toHaveLength(1)
    expect((await second).data).toHaveLength(4)
  })

  it('answers 504 when a request outlives --timeout, and keeps serving', async () => {
    const { gate, context } = gatedContext()
    const s = await serve({ requestTimeoutMs: 300 }, context)
    const c = clientFor(s)
    const timedOut = await apiError(c.embeddings.create({ model: 'docs', input: 'slow' }))
    expect(timedOut).toMatchObject({ status: 504, code: 'timeout' })
    gate.open()
    expect((await c.embeddings.create({ model: 'docs', input: 'fast' })).data).toHaveLength(1)
  })
})
