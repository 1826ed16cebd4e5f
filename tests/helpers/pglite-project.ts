import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import { vector } from '@electric-sql/pglite-pgvector'
import { writeProject } from './cli.js'
import { seedDocs, spamPassages } from './spam-corpus.js'

/**
 * A project directory whose store is PGlite in `data/`, holding a `docs` table of `rows` real
 * passages and no vectors yet; the collection uses `profile`. Returns the directory.
 */
export async function createPgliteProject(prefix: string, rows: number, profile = 'starter'): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  writeProject(dir, { kind: 'pglite', path: 'data' }, profile)
  const db = new PGlite(join(dir, 'data'), { extensions: { vector } })
  try {
    await db.exec('CREATE EXTENSION IF NOT EXISTS vector')
    await seedDocs(db, spamPassages(rows))
  } finally {
    await db.close()
  }
  return dir
}
