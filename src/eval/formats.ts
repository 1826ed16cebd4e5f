/**
 * Query and judgement files, parsed once at the edge into typed values. Every bad line is an
 * input error naming file:line, so a typo in line 4,012 of a qrels file is found in seconds.
 *
 * Queries: BEIR `queries.jsonl` (`{"_id": "q1", "text": "..."}`, `id` accepted too) or TSV
 * `id<TAB>text` (an `id`/`query-id`/`_id` header line is skipped). The format is decided by the
 * first non-blank line: `{` means JSONL.
 * Qrels: BEIR TSV `query-id<TAB>corpus-id<TAB>score` (header optional) or TREC `qid 0 docid rel`
 * (whitespace separated). The format is decided by the first data line's field count.
 */
import { readFile } from 'node:fs/promises'
import { EmbedformError, inputError } from '../core/errors.js'
import type { Qrels } from './metrics.js'

export interface Query {
  id: string
  text: string
}

interface Line {
  text: string
  /** 1-based. */
  number: number
}

function dataLines(text: string): Line[] {
  return text
    .split(/\r?\n/)
    .map((t, i) => ({ text: t, number: i + 1 }))
    .filter((l) => l.text.trim() !== '')
}

function lineError(code: string, file: string, line: Line, message: string, hint?: string): EmbedformError {
  return inputError(code, message, { location: { file, line: line.number }, ...(hint ? { hint } : {}) })
}

const QUERY_HEADER_IDS = new Set(['id', '_id', 'query-id', 'qid'])

export function parseQueries(text: string, file: string): Query[] {
  const lines = dataLines(text)
  const jsonl = lines[0]?.text.trimStart().startsWith('{') ?? false
  const queries: Query[] = []
  const seen = new Set<string>()
  lines.forEach((line, i) => {
    const q = jsonl ? parseJsonQuery(line, file) : parseTsvQuery(line, file, i === 0)
    if (!q) return
    if (seen.has(q.id)) throw lineError('E_QUERIES_DUPLICATE', file, line, `query id "${q.id}" appears twice`)
    seen.add(q.id)
    queries.push(q)
  })
  if (queries.length === 0) {
    throw inputError('E_QUERIES_EMPTY', 'the queries file holds no queries', {
      location: { file },
      hint: 'one query per line: {"_id": "q1", "text": "..."} (JSONL) or q1<TAB>text (TSV)',
    })
  }
  return queries
}

function parseJsonQuery(line: Line, file: string): Query {
  let value: unknown
  try {
    value = JSON.parse(line.text)
  } catch (cause) {
    throw inputError('E_QUERIES_FORMAT', `not valid JSON: ${(cause as Error).message}`, {
      location: { file, line: line.number },
      hint: 'queries.jsonl holds one JSON object per line: {"_id": "q1", "text": "..."}',
    })
  }
  const o = value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {}
  const rawId = o._id ?? o.id
  const id = typeof rawId === 'number' ? String(rawId) : rawId
  if (typeof id !== 'string' || id === '') {
    throw lineError('E_QUERIES_FORMAT', file, line, 'query has no "_id" (or "id") string', 'for example {"_id": "q1", "text": "cheap mortgage rates"}')
  }
  if (typeof o.text !== 'string' || o.text.trim() === '') {
    throw lineError('E_QUERIES_FORMAT', file, line, `query "${id}" has no non-empty "text"`)
  }
  return { id, text: o.text }
}

function parseTsvQuery(line: Line, file: string, first: boolean): Query | null {
  const tab = line.text.indexOf('\t')
  if (tab === -1) {
    throw lineError('E_QUERIES_FORMAT', file, line, 'expected `id<TAB>text`', 'TSV queries are one `id<TAB>text` per line; JSONL lines start with `{`')
  }
  const id = line.text.slice(0, tab).trim()
  const text = line.text.slice(tab + 1).trim()
  if (first && QUERY_HEADER_IDS.has(id.toLowerCase())) return null
  if (id === '') throw lineError('E_QUERIES_FORMAT', file, line, 'query id is empty')
  if (text === '') throw lineError('E_QUERIES_FORMAT', file, line, `query "${id}" has empty text`)
  return { id, text }
}

export function parseQrels(text: string, file: string): Qrels {
  const lines = dataLines(text)
  const qrels = new Map<string, Map<string, number>>()
  let format: 'beir' | 'trec' | undefined
  lines.forEach((line, i) => {
    const fields = line.text.trim().split(/\s+/)
    if (i === 0 && fields.length === 3 && !isNumber(fields[2])) return
    format ??= fields.length === 4 ? 'trec' : 'beir'
    const expected = format === 'trec' ? 4 : 3
    if (fields.length !== expected) {
      throw lineError(
        'E_QRELS_FORMAT',
        file,
        line,
        `expected ${expected} fields (${format === 'trec' ? '`qid 0 docid rel`' : '`query-id corpus-id score`'}), found ${fields.length}`,
        'one file holds one format: BEIR TSV `query-id<TAB>corpus-id<TAB>score` or TREC `qid 0 docid rel`',
      )
    }
    const [qid, docid, score] = format === 'trec' ? [fields[0], fields[2], fields[3]] : [fields[0], fields[1], fields[2]]
    if (!qid || !docid || !isNumber(score)) {
      throw lineError('E_QRELS_FORMAT', file, line, `relevance "${score ?? ''}" is not a number`)
    }
    const judged = qrels.get(qid) ?? new Map<string, number>()
    if (judged.has(docid)) throw lineError('E_QRELS_DUPLICATE', file, line, `query "${qid}" judges document "${docid}" twice`)
    judged.set(docid, Number(score))
    qrels.set(qid, judged)
  })
  if (qrels.size === 0) {
    throw inputError('E_QRELS_EMPTY', 'the qrels file holds no judgements', {
      location: { file },
      hint: 'BEIR TSV `query-id<TAB>corpus-id<TAB>score` or TREC `qid 0 docid rel`, one judgement per line',
    })
  }
  return qrels
}

function isNumber(s: string | undefined): s is string {
  return s !== undefined && s !== '' && Number.isFinite(Number(s))
}

async function readText(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8')
  } catch (cause) {
    throw inputError('E_EVAL_FILE', `cannot read the ${what} file: ${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}`, {
      location: { file: path },
      cause,
    })
  }
}

export async function readQueries(path: string): Promise<Query[]> {
  return parseQueries(await readText(path, 'queries'), path)
}

export async function readQrels(path: string): Promise<Qrels> {
  return parseQrels(await readText(path, 'qrels'), path)
}
