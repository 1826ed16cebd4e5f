import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { EmbedformError } from '../../../src/core/errors.js'
import { parseQrels, parseQueries, readQrels, readQueries } from '../../../src/eval/formats.js'

function caught(fn: () => unknown): EmbedformError {
  try {
    fn()
  } catch (e) {
    if (e instanceof EmbedformError) return e
    throw e
  }
  throw new Error('expected an EmbedformError')
}

describe('queries', () => {
  it('reads BEIR queries.jsonl with _id or id, skipping blank lines', () => {
    const text = '{"_id": "q1", "text": "cheap mortgage", "metadata": {}}\n\n{"id": 7, "text": "linux kernel"}\n'
    expect(parseQueries(text, 'queries.jsonl')).toEqual([
      { id: 'q1', text: 'cheap mortgage' },
      { id: '7', text: 'linux kernel' },
    ])
  })

  it('reads TSV id<TAB>text and skips a header line', () => {
    expect(parseQueries('query-id\ttext\nq1\tcheap mortgage\r\nq2\tlinux\tkernel\n', 'q.tsv')).toEqual([
      { id: 'q1', text: 'cheap mortgage' },
      { id: 'q2', text: 'linux\tkernel' },
    ])
  })

  it('names file and line of a bad JSONL line', () => {
    const err = caught(() => parseQueries('{"_id": "q1", "text": "a"}\n{"_id": "q2"}\n', 'queries.jsonl'))
    expect(err.code).toBe('E_QUERIES_FORMAT')
    expect(err.location).toEqual({ file: 'queries.jsonl', line: 2 })
    expect(err.exitCode).toBe(2)
    expect(caught(() => parseQueries('{"_id": "q1", "text": "a"}\n{oops\n', 'queries.jsonl')).location?.line).toBe(2)
  })

  it('rejects TSV lines without a tab, duplicate ids and empty files', () => {
    expect(caught(() => parseQueries('q1\tone\nq2 two\n', 'q.tsv')).location).toEqual({ file: 'q.tsv', line: 2 })
    expect(caught(() => parseQueries('q1\tone\nq1\tagain\n', 'q.tsv')).code).toBe('E_QUERIES_DUPLICATE')
    expect(caught(() => parseQueries('\n\n', 'q.tsv')).code).toBe('E_QUERIES_EMPTY')
  })
})

describe('qrels', () => {
  it('reads BEIR TSV with its header', () => {
    const qrels = parseQrels('query-id\tcorpus-id\tscore\nq1\td1\t1\nq1\td2\t2\nq2\td1\t0\n', 'qrels.tsv')
    expect([...qrels.keys()]).toEqual(['q1', 'q2'])
    expect(qrels.get('q1')).toEqual(new Map([['d1', 1], ['d2', 2]]))
    expect(qrels.get('q2')?.get('d1')).toBe(0)
  })

  it('reads TREC qid 0 docid rel', () => {
    const qrels = parseQrels('301 0 FT911-3 1\n301 0 FT911-7 0\n302 Q0 LA-1 2\n', 'qrels.trec')
    expect(qrels.get('301')).toEqual(new Map([['FT911-3', 1], ['FT911-7', 0]]))
    expect(qrels.get('302')?.get('LA-1')).toBe(2)
  })

  it('names file and line of a bad judgement', () => {
    const wrongCount = caught(() => parseQrels('query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\n', 'qrels.tsv'))
    expect(wrongCount.code).toBe('E_QRELS_FORMAT')
    expect(wrongCount.location).toEqual({ file: 'qrels.tsv', line: 3 })
    expect(caught(() => parseQrels('q1\td1\t1\nq1\td2\thigh\n', 'qrels.tsv')).location?.line).toBe(2)
    expect(caught(() => parseQrels('q1\td1\t1\nq1\td1\t2\n', 'qrels.tsv')).code).toBe('E_QRELS_DUPLICATE')
    expect(caught(() => parseQrels('query-id\tcorpus-id\tscore\n', 'qrels.tsv')).code).toBe('E_QRELS_EMPTY')
  })
})

describe('reading files', () => {
  it('reads from disk and reports a missing file as bad input naming it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'embedform-formats-'))
    writeFileSync(join(dir, 'queries.jsonl'), '{"_id": "q1", "text": "hello"}\n')
    writeFileSync(join(dir, 'qrels.tsv'), 'q1\td1\t1\n')
    expect(await readQueries(join(dir, 'queries.jsonl'))).toEqual([{ id: 'q1', text: 'hello' }])
    expect((await readQrels(join(dir, 'qrels.tsv'))).get('q1')?.get('d1')).toBe(1)
    const err = await readQueries(join(dir, 'missing.jsonl')).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(EmbedformError)
    expect((err as EmbedformError).code).toBe('E_EVAL_FILE')
    expect((err as EmbedformError).location?.file).toBe(join(dir, 'missing.jsonl'))
  })
})
