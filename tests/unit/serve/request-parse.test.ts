import { describe, expect, it } from 'vitest'
import { ApiError } from '../../../src/serve/api-error.js'
import { parseEmbeddingsRequest, parseRerankRequest, parseSearchBody } from '../../../src/serve/request-parse.js'

const limits = { maxInputs: 3, maxInputChars: 10 }

function refusal(f: () => unknown): { status: number; param: string | null; code: string | null; message: string } {
  try {
    f()
  } catch (e) {
    expect(e).toBeInstanceOf(ApiError)
    const a = e as ApiError
    return { status: a.status, param: a.param, code: a.code, message: a.message }
  }
  throw new Error('expected a refusal')
}

describe('parseEmbeddingsRequest', () => {
  it('reads every input shape OpenAI accepts, with defaults', () => {
    expect(parseEmbeddingsRequest({ model: 'docs', input: 'hi' }, limits)).toEqual({
      model: 'docs',
      inputs: [{ kind: 'text', text: 'hi', param: 'input' }],
      encodingFormat: 'float',
      inputType: 'document',
    })
    expect(parseEmbeddingsRequest({ model: 'docs', input: ['a', 'b'], input_type: 'query', encoding_format: 'base64', dimensions: 8 }, limits)).toMatchObject({
      inputs: [
        { kind: 'text', text: 'a', param: 'input[0]' },
        { kind: 'text', text: 'b', param: 'input[1]' },
      ],
      inputType: 'query',
      encodingFormat: 'base64',
      dimensions: 8,
    })
    expect(parseEmbeddingsRequest({ model: 'docs', input: [5, 6] }, limits).inputs).toEqual([{ kind: 'tokens', ids: [5, 6], param: 'input' }])
    expect(parseEmbeddingsRequest({ model: 'docs', input: [[5], [6, 7]] }, limits).inputs).toEqual([
      { kind: 'tokens', ids: [5], param: 'input[0]' },
      { kind: 'tokens', ids: [6, 7], param: 'input[1]' },
    ])
  })

  it.each([
    ['a non-object body', [1], null, 'invalid_body'],
    ['no model', { input: 'x' }, 'model', 'missing_required_parameter'],
    ['a numeric model', { model: 3, input: 'x' }, 'model', 'invalid_type'],
    ['no input', { model: 'm' }, 'input', 'missing_required_parameter'],
    ['an empty string', { model: 'm', input: '' }, 'input', 'empty_input'],
    ['an empty array', { model: 'm', input: [] }, 'input', 'empty_input'],
    ['an empty string in an array', { model: 'm', input: ['a', ''] }, 'input[1]', 'empty_input'],
    ['too many inputs', { model: 'm', input: ['a', 'b', 'c', 'd'] }, 'input', 'too_many_inputs'],
    ['a text over the character limit', { model: 'm', input: 'x'.repeat(11) }, 'input', 'input_too_long'],
    ['a number', { model: 'm', input: 42 }, 'input', 'invalid_type'],
    ['an object in the array', { model: 'm', input: ['a', { text: 'b' }] }, 'input[1]', 'invalid_type'],
    ['a negative token id', { model: 'm', input: [[1, -2]] }, 'input[0]', 'invalid_type'],
    ['a fractional token id', { model: 'm', input: [1.5] }, 'input', 'invalid_type'],
    ['an unknown encoding_format', { model: 'm', input: 'x', encoding_format: 'int8' }, 'encoding_format', 'invalid_value'],
    ['an unknown input_type', { model: 'm', input: 'x', input_type: 'passage' }, 'input_type', 'invalid_value'],
    ['zero dimensions', { model: 'm', input: 'x', dimensions: 0 }, 'dimensions', 'invalid_value'],
    ['string dimensions', { model: 'm', input: 'x', dimensions: '8' }, 'dimensions', 'invalid_type'],
  ])('refuses %s with a 400 naming the parameter', (_name, body, param, code) => {
    expect(refusal(() => parseEmbeddingsRequest(body, limits))).toMatchObject({ status: 400, param, code })
  })
})

describe('parseRerankRequest', () => {
  it('reads the Cohere and text-embeddings-inference shapes', () => {
    expect(parseRerankRequest({ model: 'docs', query: 'q', documents: ['a', { text: 'b' }], top_n: 1, return_documents: true }, limits)).toEqual({
      model: 'docs',
      query: 'q',
      documents: ['a', 'b'],
      topN: 1,
      returnDocuments: true,
      rawScores: false,
    })
    expect(parseRerankRequest({ query: 'q', texts: ['a'], return_text: true, raw_scores: true }, limits)).toEqual({ query: 'q', documents: ['a'], returnDocuments: true, rawScores: true })
  })

  it('refuses missing documents, a bad top_n and a query over the limit', () => {
    expect(refusal(() => parseRerankRequest({ query: 'q' }, limits))).toMatchObject({ status: 400, param: 'documents' })
    expect(refusal(() => parseRerankRequest({ query: 'q', texts: ['a'], top_n: 0 }, limits))).toMatchObject({ status: 400, param: 'top_n' })
    expect(refusal(() => parseRerankRequest({ query: 'q'.repeat(11), texts: ['a'] }, limits))).toMatchObject({ status: 400, param: 'query', code: 'input_too_long' })
  })
})

describe('parseSearchBody', () => {
  it('reads query, k, rerank, hybrid and generation', () => {
    expect(parseSearchBody({ query: 'q', k: 5, rerank: true, generation: 'g2' }, limits)).toEqual({ query: 'q', k: 5, rerank: true, hybrid: false, generation: { kind: 'id', id: 2 } })
    expect(parseSearchBody({ query: 'q' }, limits)).toEqual({ query: 'q', hybrid: false, generation: { kind: 'live' } })
  })

  it('refuses a generation that is not live or gN, and a k out of range', () => {
    expect(refusal(() => parseSearchBody({ query: 'q', generation: 'all' }, limits))).toMatchObject({ status: 400, param: 'generation' })
    expect(refusal(() => parseSearchBody({ query: 'q', k: 10_001 }, limits))).toMatchObject({ status: 400, param: 'k' })
  })
})
