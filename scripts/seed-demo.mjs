#!/usr/bin/env node
// Loads real sample text (SpamAssassin emails, chunked) into the embedded PGlite store that the
// default embedding.config.yaml points at, so `embedform plan/apply` have a table to migrate.
// Idempotent: an existing, non-empty docs table is left alone.
import { mkdirSync } from 'node:fs'
import { resolve } from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import { vector } from '@electric-sql/pglite-pgvector'
import { loadPassages } from '../dist/src/sample/spam-corpus.js'

const dataDir = resolve(process.argv[2] ?? '.embedform/pglite')
const rows = Number(process.env.DEMO_ROWS ?? 2000)
mkdirSync(dataDir, { recursive: true })
const db = new PGlite(dataDir, { extensions: { vector } })
try {
  await db.exec('CREATE EXTENSION IF NOT EXISTS vector')
  await db.exec(`CREATE TABLE IF NOT EXISTS docs (
    id bigint PRIMARY KEY,
    title text NOT NULL,
    body text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
  )`)
  const { rows: [{ n }] } = await db.query('SELECT count(*)::int AS n FROM docs')
  if (n > 0) {
    console.error(`sample data: ${dataDir} already holds ${n} docs, leaving it as is`)
  } else {
    const passages = loadPassages({ limit: rows })
    const step = 500
    for (let i = 0; i < passages.length; i += step) {
      const page = passages.slice(i, i + step)
      await db.query(
        'INSERT INTO docs (id, title, body) SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[])',
        [page.map((p) => p.seq), page.map((p) => p.title), page.map((p) => p.body)],
      )
    }
    console.error(`sample data: loaded ${passages.length} passages from the SpamAssassin corpus into ${dataDir} (table docs)`)
  }
} finally {
  await db.close()
}
