import { join } from 'node:path'
import { loadConfig } from '../../src/config/index.js'
import { openEncoder } from '../../src/encoder/index.js'
import { loadPassages, type Passage } from '../../src/sample/spam-corpus.js'

/**
 * Real text to migrate: SpamAssassin emails chunked into ~100–200-word passages with stable
 * integer ids, seeded into a `docs` table the way an application would already have it.
 */
export type { Passage }

const cache = new Map<number, Passage[]>()

/** The first `count` passages (≈160 words each); the same ids and texts on every run. */
export function spamPassages(count: number): Passage[] {
  let passages = cache.get(count)
  if (!passages) {
    passages = loadPassages({ limit: count, words: 160 })
    if (passages.length < count) throw new Error(`the spam corpus yields only ${passages.length} passages, ${count} asked`)
    cache.set(count, passages)
  }
  return passages
}

/** The text embedform embeds for a row of a collection declared with `text: [title, body]`. */
export function passageText(p: { title: string; body: string }): string {
  return `${p.title}\n${p.body}`
}

/** Anything with pg's `query(text, params)`: a pg Client/Pool or a PGlite instance. */
export interface Queryable {
  query(text: string, params?: unknown[]): Promise<unknown>
}

export const DOCS_TABLE_DDL = `CREATE TABLE IF NOT EXISTS docs (
  id bigint PRIMARY KEY,
  title text NOT NULL,
  body text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
)`

/** Creates `docs` and inserts the passages in pages (one round trip per 500 rows). */
export async function seedDocs(db: Queryable, passages: Passage[]): Promise<void> {
  await db.query(DOCS_TABLE_DDL)
  const page = 500
  for (let i = 0; i < passages.length; i += page) {
    const slice = passages.slice(i, i + page)
    await db.query('INSERT INTO docs (id, title, body) SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[])', [
      slice.map((p) => p.seq),
      slice.map((p) => p.title),
      slice.map((p) => p.body),
    ])
  }
}

/** A row as tests read it back: the text columns and one vector column as pgvector text. */
export interface StoredRow {
  id: string | number
  title: string
  body: string
  v: string | null
}

export const parseVector = (text: string): Float32Array => Float32Array.from(JSON.parse(text) as number[])

/**
 * Ids whose stored vector is missing or differs from a fresh encode of the row's current text:
 * the proof that every row ended up embedded from its final text, not a stale read.
 */
export async function mismatchedVectors(
  rows: StoredRow[],
  encode: (texts: string[]) => Promise<Float32Array[]>,
  tolerance = 1e-4,
): Promise<string[]> {
  const bad: string[] = []
  const page = 256
  for (let i = 0; i < rows.length; i += page) {
    const slice = rows.slice(i, i + page)
    const expected = await encode(slice.map(passageText))
    slice.forEach((row, j) => {
      if (row.v === null) return void bad.push(`${row.id}: no vector`)
      const got = parseVector(row.v)
      const want = expected[j]!
      let diff = got.length === want.length ? 0 : Number.POSITIVE_INFINITY
      for (let k = 0; k < want.length && diff <= tolerance; k++) diff = Math.max(diff, Math.abs(got[k]! - want[k]!))
      if (diff > tolerance) bad.push(`${row.id}: differs by ${diff}`)
    })
  }
  return bad
}

/** mismatchedVectors against `profile` of the project in `dir` (its embedding.config.yaml). */
export async function mismatchedWithProfile(rows: StoredRow[], dir: string, profile: string): Promise<string[]> {
  const config = await loadConfig({ configPath: join(dir, 'embedding.config.yaml') })
  const encoder = await openEncoder(config.profiles[profile]!)
  try {
    return await mismatchedVectors(rows, (texts) => encoder.encode(texts, 'document'))
  } finally {
    await encoder.close()
  }
}
