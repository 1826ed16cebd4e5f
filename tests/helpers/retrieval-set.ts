/**
 * A small retrieval benchmark from real email (the SpamAssassin corpus): the query is a message's
 * subject and the one relevant document is that message's body (its first words). Other messages'
 * bodies are distractors. Subjects are deduplicated so no query has an unjudged twin that is just
 * as relevant, and "Re:"/"Fwd:" prefixes are stripped so they carry no signal.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { type Email, loadEmails } from '../../src/sample/spam-corpus.js'

export interface CorpusRow {
  id: number
  title: string
  body: string
}

export interface RetrievalSet {
  dir: string
  corpus: CorpusRow[]
  queriesFile: string
  qrelsFile: string
  queries: number
}

export interface RetrievalSetOptions {
  /** Queries (each with one relevant document). Default 300. */
  queries?: number
  /** Extra documents no query is about. Default 300. */
  distractors?: number
  /** Words of body kept per document. Default 120. */
  words?: number
}

const REPLY_PREFIX = /^((re|fw|fwd|aw)\s*(\[\d+\])?\s*:\s*|\[[^\]]*\]\s*)+/i

function cleanSubject(s: string): string {
  return s.replace(REPLY_PREFIX, '').trim()
}

function words(s: string): string[] {
  return s.split(' ').filter(Boolean)
}

/** Subjects a reader could search with: at least three alphabetic words. */
function isSearchable(subject: string): boolean {
  return subject.split(/\s+/).filter((w) => /^[a-z][a-z'-]+$/i.test(w)).length >= 3
}

/** Every `stride`-th item, so the sample spans all corpus groups (ham and spam) deterministically. */
function spread<T>(items: T[], n: number): T[] {
  if (items.length <= n) return items
  const stride = items.length / n
  return Array.from({ length: n }, (_, i) => items[Math.floor(i * stride)] as T)
}

export function buildRetrievalSet(dir: string, opts: RetrievalSetOptions = {}): RetrievalSet {
  const nQueries = opts.queries ?? 300
  const nDistractors = opts.distractors ?? 300
  const keep = opts.words ?? 120
  const minBody = 30
  const seen = new Set<string>()
  const judged: { email: Email; subject: string }[] = []
  const rest: Email[] = []
  for (const email of loadEmails()) {
    if (words(email.body).length < minBody) continue
    const subject = cleanSubject(email.subject)
    const norm = subject.toLowerCase()
    if (isSearchable(subject) && !seen.has(norm)) {
      seen.add(norm)
      judged.push({ email, subject })
    } else {
      rest.push(email)
    }
  }
  const chosen = spread(judged, nQueries)
  const chosenIds = new Set(chosen.map((c) => c.email.id))
  const distractors = spread([...judged.filter((c) => !chosenIds.has(c.email.id)).map((c) => c.email), ...rest], nDistractors)
  const corpus: CorpusRow[] = [...chosen.map((c) => c.email), ...distractors].map((e, i) => ({
    id: i + 1,
    title: e.subject,
    body: words(e.body).slice(0, keep).join(' '),
  }))
  mkdirSync(dir, { recursive: true })
  const queriesFile = join(dir, 'queries.jsonl')
  const qrelsFile = join(dir, 'qrels.tsv')
  writeFileSync(queriesFile, chosen.map((c, i) => JSON.stringify({ _id: `q${i + 1}`, text: c.subject })).join('\n') + '\n')
  writeFileSync(qrelsFile, ['query-id\tcorpus-id\tscore', ...chosen.map((_, i) => `q${i + 1}\t${i + 1}\t1`)].join('\n') + '\n')
  writeFileSync(join(dir, 'corpus.jsonl'), corpus.map((r) => JSON.stringify({ _id: String(r.id), title: r.title, text: r.body })).join('\n') + '\n')
  return { dir, corpus, queriesFile, qrelsFile, queries: chosen.length }
}

/** Loads the corpus into table `docs (id bigint, title text, body text)` of a PGlite data directory. */
export async function seedPglite(dataDir: string, corpus: readonly CorpusRow[]): Promise<void> {
  const { PGlite } = await import('@electric-sql/pglite')
  const { vector } = await import('@electric-sql/pglite-pgvector')
  mkdirSync(dataDir, { recursive: true })
  const db = new PGlite(dataDir, { extensions: { vector } })
  try {
    await db.exec('CREATE EXTENSION IF NOT EXISTS vector')
    await db.exec('CREATE TABLE docs (id bigint PRIMARY KEY, title text NOT NULL, body text NOT NULL)')
    await db.query('INSERT INTO docs (id, title, body) SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[])', [
      corpus.map((r) => r.id),
      corpus.map((r) => r.title),
      corpus.map((r) => r.body),
    ])
  } finally {
    await db.close()
  }
}
