import { Readable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { formatOutputLine, parseInputLine, readInputBatches } from '../../../src/encoder/jsonl.js'

describe('encode JSONL input', () => {
  it('reads objects, JSON strings and plain text; ids default to the line number', () => {
    expect(parseInputLine('{"id":"a","text":"hi"}', 1, 'in.jsonl')).toEqual({ id: 'a', text: 'hi' })
    expect(parseInputLine('{"text":"hi"}', 4, 'in.jsonl')).toEqual({ id: 4, text: 'hi' })
    expect(parseInputLine('"quoted"', 2, 'in.jsonl')).toEqual({ id: 2, text: 'quoted' })
    expect(parseInputLine('plain words', 3, 'in.jsonl')).toEqual({ id: 3, text: 'plain words' })
    expect(parseInputLine('   ', 5, 'in.jsonl')).toBeUndefined()
  })

  it('names the file and line of a bad line', () => {
    expect(() => parseInputLine('{"id":1}', 7, 'in.jsonl')).toThrowError(expect.objectContaining({ code: 'E_INPUT_TEXT', location: { file: 'in.jsonl', line: 7, path: 'text' } }))
    expect(() => parseInputLine('{"id":1,', 8, 'in.jsonl')).toThrowError(expect.objectContaining({ code: 'E_INPUT_JSON', location: { file: 'in.jsonl', line: 8 } }))
  })

  it('batches a stream without losing or reordering lines', async () => {
    const input = Readable.from(['a\nb\n\nc\n', 'd\ne'])
    const batches: string[][] = []
    for await (const batch of readInputBatches(input, '<stdin>', 2)) batches.push(batch.map((i) => `${String(i.id)}:${i.text}`))
    expect(batches).toEqual([['1:a', '2:b'], ['4:c', '5:d'], ['6:e']])
  })

  it('writes one {"id","vector"} line', () => {
    expect(formatOutputLine('x', Float32Array.from([0.5, -1]))).toBe('{"id":"x","vector":[0.5,-1]}\n')
  })
})
